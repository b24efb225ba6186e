"""Resource sharing: the federated catalogue, search, and the request workflow."""

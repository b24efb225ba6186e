"""The alliance's portal: the service supermarket, the map, the pairing board and a live feed,
for people in a browser. A member system like any other: it reads and writes only through the
region's public gRPC APIs and follows events from a partner account of its own."""

"""Membership: the alliance's incubation carriers and their tenant startups."""

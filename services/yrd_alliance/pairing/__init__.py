"""Lawyer pairing: lawyers, optimal and stable pairing rounds, and legal check-ups."""

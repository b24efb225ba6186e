"""The `alliance` command line for operators, demos and partners."""

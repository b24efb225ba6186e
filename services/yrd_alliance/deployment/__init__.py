"""How the federation is deployed and run: its topology, NATS accounts and secrets, service
environments and the process manager. Used by the CLI, the tests, the benchmarks and the deploy
checks; never by a running service."""

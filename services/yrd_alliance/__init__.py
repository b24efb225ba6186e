"""The Yangtze River Delta incubator alliance: the kernel every service runs on, the services
(membership, pairing, sharing), the deployment tooling and the `alliance` command. The API and
event messages generated from protos/ are the `alliance` package beside it."""

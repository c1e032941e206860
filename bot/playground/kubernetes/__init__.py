"""A Kubernetes API stand-in on loopback that speaks the real wire format and runs the Deployment
controllers: the test suite's fake cluster and the playground's demo cluster."""

"""The local playground: Carapulse in a browser with stand-ins for Slack, Kubernetes and Prometheus.

The stand-ins are the test suite's fakes, so what the playground shows is what the tests check.
Only `carapulse playground` imports this package; `carapulse serve` never does.
"""

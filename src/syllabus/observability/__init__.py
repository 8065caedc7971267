"""Request ids, structured logs and Prometheus metrics (docs/operations.md, "Logs and
request ids" and "Metrics")."""

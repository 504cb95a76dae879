"""The only place llamaops talks to a Kubernetes API server."""

"""What llamaops knows without asking the cluster: Llama models and GPU products."""

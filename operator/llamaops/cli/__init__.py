"""The `llamaops` command."""

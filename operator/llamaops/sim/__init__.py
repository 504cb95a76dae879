"""The local cluster: a Kubernetes API emulator and the parts that make its objects live.

It is not a Kubernetes. It serves the subset of the API that kopf, the official Python
client and kubectl use, with the semantics they rely on, so that llamaops is tested
through the same HTTP API it uses in production. It may use llamaops' pure parts (the
schema admission, the catalogs) but never the operator's runtime: it must behave like a
cluster that knows nothing of llamaops.
"""

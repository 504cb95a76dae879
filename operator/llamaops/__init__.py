"""llamaops: a Kubernetes operator that serves Llama models with vLLM.

The package is split by concern: `api` (the LlamaDeployment types and the CRD built from
them), `catalog` (models and GPU products), `sizing` and `inventory` (pure math about
GPUs), `schema` (validation of objects against a CRD, as an API server does it), `kube`
(the one module that talks to a cluster) and `cli`.
"""

__version__ = "0.1.0"

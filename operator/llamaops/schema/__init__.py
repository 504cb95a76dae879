"""Checks an object against a CRD's openAPIV3Schema the way the Kubernetes API server does:
defaults applied, unknown fields pruned, then the schema and its CEL rules validated.

`llamaops plan` uses it to refuse a manifest exactly as `kubectl apply` would be refused,
and the local cluster's API server uses it for every custom resource write.
"""

from llamaops.schema.admission import FieldError, admit, admit_spec_of
from llamaops.schema.cel_check import rule_compile_errors
from llamaops.schema.structural import unknown_fields

__all__ = ["FieldError", "admit", "admit_spec_of", "rule_compile_errors", "unknown_fields"]

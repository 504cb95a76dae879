"""What the kubelet checks before it starts a container: every Secret the container's
environment references must exist and hold the key, unless the reference is optional.
Otherwise the container waits in CreateContainerConfigError with Kubernetes' message
(`secret "hf-token" not found`, `couldn't find key token in Secret default/hf-token`),
and the kubelet tries again on its next sync."""

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
SecretReader = Callable[[str, str], Obj | None]  # (namespace, name) -> the Secret
REASON = "CreateContainerConfigError"


def config_error(pod: Obj, spec: Obj, secret: SecretReader) -> str | None:
    namespace = pod["metadata"].get("namespace", "default")
    for variable in spec.get("env") or []:
        ref = (variable.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None or ref.get("optional"):
            continue
        found = secret(namespace, ref.get("name", ""))
        if found is None:
            return f'secret "{ref.get("name", "")}" not found'
        keys = {**(found.get("data") or {}), **(found.get("stringData") or {})}
        if ref.get("key") not in keys:
            return f"couldn't find key {ref.get('key')} in Secret {namespace}/{ref.get('name')}"
    for source in spec.get("envFrom") or []:
        ref = source.get("secretRef")
        if ref is not None and not ref.get("optional") and secret(namespace, ref["name"]) is None:
            return f'secret "{ref["name"]}" not found'
    return None

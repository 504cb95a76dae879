"""Kubeconfig files that point kubectl, kopf and the Python client at the local cluster."""

import base64
from pathlib import Path

import yaml

NAME = "llamaops-sim"


def kubeconfig(
    url: str, namespace: str = "default", ca_pem: str | None = None
) -> dict[str, object]:
    """`ca_pem`: the server's certificate to trust, when it serves https (with RBAC on)."""
    cluster: dict[str, str] = {"server": url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": NAME, "cluster": cluster}],
        "users": [{"name": NAME, "user": {"token": "llamaops-sim"}}],
        "contexts": [
            {"name": NAME, "context": {"cluster": NAME, "user": NAME, "namespace": namespace}}
        ],
        "current-context": NAME,
        "preferences": {},
    }


def write_kubeconfig(path: Path, url: str, ca_pem: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig(url, ca_pem=ca_pem), sort_keys=False))
    return path

"""The chart installed on the local cluster as `helm install` would leave it, and the
operator container as its Deployment describes it: for the tests that run the operator
under the chart's RBAC (from the package, or from the built image).

One mapping: the Deployment's metrics and health ports become free ports of this machine,
as a pod's network namespace would have them to itself."""

import json
import socket
from pathlib import Path
from typing import Any

import yaml

from tests.chart.render import NAMESPACE
from tests.integration.operator_harness import OperatorWorld

ACCOUNT = "llamaops"  # the chart's ServiceAccount (the release's full name)
USER = f"system:serviceaccount:{NAMESPACE}:{ACCOUNT}"


def install(world: OperatorWorld, objects: list[dict[str, Any]], folder: Path) -> None:
    """The namespace, then the chart's objects, applied by the admin (the CRDs are there);
    its hooks (the peering objects) after the rest, as Helm runs post-install hooks."""
    world.kubectl("create", "namespace", NAMESPACE)
    hooks = [o for o in objects if "helm.sh/hook" in (o["metadata"].get("annotations") or {})]
    for name, part in (("chart", [o for o in objects if o not in hooks]), ("hooks", hooks)):
        if part:
            manifest = folder / f"{name}.yaml"
            manifest.write_text(yaml.safe_dump_all(part))
            world.kubectl("apply", "-f", str(manifest))


def account_token(world: OperatorWorld) -> str:
    """A token of the chart's ServiceAccount (TokenRequest, as the kubelet projects it)."""
    return world.kubectl("create", "token", ACCOUNT, "-n", NAMESPACE).stdout.strip()


def operator_container(world: OperatorWorld) -> dict[str, Any]:
    """The operator container of the chart's Deployment, read back from the cluster."""
    deployment = json.loads(
        world.kubectl("get", "deployment", ACCOUNT, "-n", NAMESPACE, "-o", "json").stdout
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def container_args(container: dict[str, Any]) -> list[str]:
    """Its args, with each container port replaced by a free port of this machine."""
    ports = {str(p["containerPort"]): str(_free_port()) for p in container.get("ports") or []}
    return [ports.get(word, word) for word in container["args"]]


def requests_of(world: OperatorWorld, user: str = USER) -> list[Any]:
    """The API server's audit of `user`'s requests: each with its attributes and verdict."""
    server = world.cluster.cluster.api.server
    return [r for r in world.cluster.run(lambda: list(server.auth.audit)) if r.user == user]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

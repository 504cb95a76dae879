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
from tests.integration.cluster_fixture import REPO
from tests.integration.operator_harness import OperatorWorld

ACCOUNT = "llamaops"  # the chart's ServiceAccount (the release's full name)
NAME = "llama3-70b"
CHECKPOINT = "hf://meta-llama/Llama-3.1-70B-Instruct"
CLUSTER = "e2e/clusters/h100-3x8-rollout.yaml"  # its revision "bad" fails while loading
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


def scenarios(world: OperatorWorld) -> None:
    """What the operator does for a user, each step waited for: create, scale, autoscale,
    roll out, halt on a bad checkpoint (the CLUSTER's revision `bad`), delete; and brings
    back a Service someone edited and the budget of a changed maxUnavailable."""
    world.kubectl("apply", "-f", str(REPO / "manifests/llama3-70b.yaml"))
    world.wait_until(lambda: world.ready_replicas(NAME) == 2, 60, "created: 2 ready")
    world.kubectl("label", "service", NAME, "app.kubernetes.io/managed-by-")
    world.wait_until(lambda: _service_label(world) == "llamaops", 30, "the Service's label back")
    _patch(world, {"rollout": {"maxUnavailable": 2}})
    world.wait_until(lambda: _budget(world) == 2, 30, "the budget follows maxUnavailable")
    world.kubectl("scale", f"llama/{NAME}", "--replicas=3")
    world.wait_until(lambda: world.ready_replicas(NAME) == 3, 60, "scaled: 3 ready")
    _patch(world, {"autoscaling": {"enabled": True, "minReplicas": 4, "maxReplicas": 4}})
    world.wait_until(lambda: world.ready_replicas(NAME) == 4, 60, "autoscaled to its minimum")
    _patch(world, {"autoscaling": {"enabled": False}, "replicas": 2})
    world.wait_until(lambda: len(world.replica_pods(NAME)) == 2, 60, "back to 2")
    _patch(world, {"model": {"checkpoint": {"uri": CHECKPOINT, "revision": "b2"}}})
    world.wait_until(lambda: _rolled_to(world, "b2"), 90, "rolled out to b2")
    _patch(world, {"model": {"checkpoint": {"uri": CHECKPOINT, "revision": "bad"}}})
    world.wait_until(lambda: _status(world).get("checkpoint", {}).get("failed"), 90, "halted")
    world.kubectl("delete", "llama", NAME, "--wait=true", "--timeout=60s")
    world.wait_until(lambda: world.replica_pods(NAME) == [], 30, "deleted: no replica left")


def requests_of(world: OperatorWorld, user: str = USER) -> list[Any]:
    """The API server's audit of `user`'s requests: each with its attributes and verdict."""
    server = world.cluster.cluster.api.server
    return [r for r in world.cluster.run(lambda: list(server.auth.audit)) if r.user == user]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _patch(world: OperatorWorld, spec: dict[str, Any]) -> None:
    world.kubectl("patch", "llama", NAME, "--type=merge", "-p", json.dumps({"spec": spec}))


def _service_label(world: OperatorWorld) -> str | None:
    service = world.cluster.get("services", "default", NAME) or {}
    return (service.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/managed-by")


def _budget(world: OperatorWorld) -> int | None:
    budget = world.cluster.get("poddisruptionbudgets", "default", NAME) or {}
    return (budget.get("spec") or {}).get("maxUnavailable")


def _status(world: OperatorWorld) -> dict[str, Any]:
    return dict((world.llama(NAME) or {}).get("status") or {})


def _rolled_to(world: OperatorWorld, revision: str) -> bool:
    rolled = (_status(world).get("checkpoint") or {}).get("rolledOut") or {}
    return rolled.get("revision") == revision and world.ready_replicas(NAME) == 2

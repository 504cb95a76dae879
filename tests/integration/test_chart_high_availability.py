"""`highAvailability.enabled`: two operator pods, as the chart's Deployment runs them
(`--peering <release> --priority random`, POD_ID from the pod's name), on the local
cluster with the chart's RBAC enforced. One acts, the other waits; when the active one
stops (a rolling update's SIGTERM), the other takes over, and nothing is denied."""

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.chart.render import objects_of, render_files
from tests.integration.chart_helpers import (
    account_token,
    container_args,
    install,
    operator_container,
    requests_of,
)
from tests.integration.cluster_fixture import REPO
from tests.integration.operator_harness import LLAMAOPS, OperatorWorld, operator_world

NAME = "llama3-70b"
PODS = ("llamaops-0", "llamaops-1")


def test_two_peered_operator_pods_one_acts_and_the_other_takes_over(tmp_path: Path) -> None:
    objects = objects_of(render_files({"highAvailability": {"enabled": True}}))
    with operator_world(tmp_path, authorize=True, start=False) as world:
        install(world, objects, tmp_path)
        chart = chart_command(world, tmp_path)
        operators = {pod: start(chart, pod, tmp_path) for pod in PODS}
        try:
            world.kubectl("apply", "-f", str(REPO / "manifests/llama3-70b.yaml"))
            world.wait_until(lambda: world.ready_replicas(NAME) == 2, 60, "2 ready")
            peers = world.wait_until(lambda: peers_of(world), 30, "both pods in the peering")
            assert len({p["priority"] for p in peers.values()}) == 2, "random priorities"
            active = max(peers, key=lambda pod: peers[pod]["priority"])
            assert set(peers) == set(PODS), peers

            operators[active].send_signal(signal.SIGTERM)  # a rolling update stops it
            operators[active].wait(timeout=30)
            world.kubectl("scale", f"llama/{NAME}", "--replicas=3")
            world.wait_until(lambda: world.ready_replicas(NAME) == 3, 60, "the standby acts")
        finally:
            for process in operators.values():
                process.kill()
                process.wait(timeout=10)
            print("".join(f"--- {pod}\n{log(tmp_path, pod)}" for pod in PODS))  # evidence
        assert [r.request for r in requests_of(world) if not r.allowed] == []


def chart_command(world: OperatorWorld, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """The chart's operator container, and a kubeconfig with its ServiceAccount's token."""
    config = yaml.safe_load(world.cluster.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": account_token(world)}
    kubeconfig = tmp_path / "operator-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    container = operator_container(world)
    assert "--peering" in container["args"] and "random" in container["args"], container
    return container, kubeconfig


def start(chart: tuple[dict[str, Any], Path], pod: str, tmp_path: Path) -> subprocess.Popen[str]:
    """One operator pod: ports of its own (each pod has its own network) and its POD_ID."""
    container, kubeconfig = chart
    command = [str(LLAMAOPS), *container_args(container), "--kubeconfig", str(kubeconfig)]
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    with (tmp_path / f"{pod}.log").open("w") as output:  # the child keeps its own copy
        return subprocess.Popen(
            command, env={**env, "POD_ID": pod}, stdout=output, stderr=subprocess.STDOUT, text=True
        )


def peers_of(world: OperatorWorld) -> dict[str, Any] | None:
    """The ClusterKopfPeering's peers (kopf keeps them in its status), when both are in."""
    found = world.kubectl("get", "clusterkopfpeering", "llamaops", "-o", "json", check=False)
    if found.returncode != 0:
        return None
    status = json.loads(found.stdout).get("status") or {}
    peers = {pod: info for pod, info in status.items() if pod in PODS}
    return peers if len(peers) == len(PODS) else None


def log(tmp_path: Path, pod: str) -> str:
    path = tmp_path / f"{pod}.log"
    return path.read_text() if path.exists() else ""

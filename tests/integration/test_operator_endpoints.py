"""`llamaops run` serves its Prometheus metrics and a liveness endpoint."""

import socket
import subprocess
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.cluster_fixture import REPO
from tests.integration.operator_harness import LLAMAOPS, operator_world
from tests.waiting import wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status, answer.read().decode()
    except OSError:
        return 0, ""


def test_the_operator_serves_llamaops_metrics_and_healthz(tmp_path: Path) -> None:
    metrics_port, health_port = free_port(), free_port()
    with operator_world(tmp_path) as world:
        world.stop_operator()  # run it again, this time with its endpoints on
        operator = subprocess.Popen(
            [
                str(LLAMAOPS),
                "run",
                "--kubeconfig",
                str(world.cluster.kubeconfig),
                "--metrics-port",
                str(metrics_port),
                "--health-port",
                str(health_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            world.kubectl("apply", "-f", str(REPO / "manifests/llama3-70b.yaml"))
            wait_until(lambda: world.ready_replicas("llama3-70b") == 2, 60, "2 replicas ready")
            wait_until(
                lambda: fetch(f"http://127.0.0.1:{health_port}/healthz")[0] == 200,
                10,
                "/healthz answers 200",
            )

            _, text = fetch(f"http://127.0.0.1:{metrics_port}/metrics")
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
            ok = samples[("llamaops_reconciles_total", (("result", "ok"),))]
            assert ok >= 1
            where = (("deployment", "llama3-70b"), ("namespace", "default"))
            assert samples[("llamaops_placement_tensor_parallel_size", where)] == 4
            assert samples[("llamaops_gpus_allocated", where)] == 8
            ready = (("deployment", "llama3-70b"), ("namespace", "default"), ("state", "ready"))
            wait_until(lambda: _gauge(metrics_port, "llamaops_replicas", ready) == 2, 20, "2 ready")
            assert _gauge(metrics_port, "llamaops_deployment_desired_replicas", where) == 2
            available = [
                _gauge(metrics_port, "llamaops_deployment_condition", _condition("Available", s))
                for s in ("True", "False", "Unknown")
            ]
            assert available == [1, 0, 0], "one series per status, 1 for the current one"

            world.kubectl("delete", "llama", "llama3-70b", "--wait=false")
            gone = _condition("Available", "True")
            wait_until(
                lambda: _gauge(metrics_port, "llamaops_deployment_condition", gone) is None,
                60,
                "the deleted deployment's series dropped",
            )
            assert _gauge(metrics_port, "llamaops_replicas", ready) is None
        finally:
            operator.terminate()
            operator.wait(timeout=15)


def _condition(condition: str, status: str) -> tuple[tuple[str, str], ...]:
    labels = {"namespace": "default", "deployment": "llama3-70b"}
    return tuple(sorted({**labels, "condition": condition, "status": status}.items()))


def _gauge(port: int, name: str, labels: tuple[tuple[str, str], ...]) -> float | None:
    _, text = fetch(f"http://127.0.0.1:{port}/metrics")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and tuple(sorted(sample.labels.items())) == labels:
                return sample.value
    return None

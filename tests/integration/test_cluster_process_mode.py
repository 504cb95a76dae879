"""The real-process engine mode: the kubelet runs the pod's own command on the pod's IP."""

import json
import sys
import urllib.request
from pathlib import Path

from llamaops.sim.cluster.config import ClusterFile
from tests.integration.cluster_fixture import running_cluster

# A tiny HTTP "engine": it answers /health on the address the kubelet gives it.
TINY_ENGINE = """
import http.server, os
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("X-Served-By", os.environ["POD_NAME"])
        self.end_headers()
        self.wfile.write(os.environ["POD_IP"].encode())
    def log_message(self, *args):
        pass
http.server.HTTPServer((os.environ["POD_IP"], 8000), Health).serve_forever()
"""

PROCESS_CLUSTER = ClusterFile.model_validate(
    {"nodes": [{"pool": "cpu", "count": 1}], "engine": {"mode": "process"}}
)


def test_a_process_engine_serves_on_its_pod_ip_and_stops_with_its_pod(tmp_path: Path) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "tiny", "labels": {"app": "tiny"}},
        "spec": {
            "terminationGracePeriodSeconds": 5,
            "containers": [
                {
                    "name": "engine",
                    "image": "python:3.11",
                    "command": [sys.executable, "-c", TINY_ENGINE],
                    "ports": [{"containerPort": 8000}],
                    "readinessProbe": {
                        "httpGet": {"path": "/health", "port": 8000},
                        "periodSeconds": 1,
                    },
                }
            ],
        },
    }
    (tmp_path / "pod.json").write_text(json.dumps(pod))
    with running_cluster(tmp_path, PROCESS_CLUSTER, speed=5) as cluster:
        cluster.kubectl("apply", "-f", str(tmp_path / "pod.json"))

        ready = cluster.wait_until(
            lambda: _ready_ip(cluster.get("pods", "default", "tiny")),
            timeout=30,
            message="the process engine became Ready",
        )
        with urllib.request.urlopen(f"http://{ready}:8000/health", timeout=5) as answer:
            assert answer.read().decode() == ready
            assert answer.headers["X-Served-By"] == "tiny"

        cluster.kubectl("delete", "pod", "tiny", "--wait=true", "--timeout=30s")
        assert cluster.get("pods", "default", "tiny") is None
        try:
            urllib.request.urlopen(f"http://{ready}:8000/health", timeout=2)
            raise AssertionError("the engine process still answers after its pod was deleted")
        except OSError:
            pass


def _ready_ip(pod: dict | None) -> str | None:  # type: ignore[type-arg]
    status = (pod or {}).get("status") or {}
    ready = any(
        c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or []
    )
    return status.get("podIP") if ready else None

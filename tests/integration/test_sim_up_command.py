"""`llamaops sim up`: the whole local cluster from a cluster file, until interrupted."""

import json
import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kubectl"), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_sim_up_serves_gpu_nodes_and_announces_service_proxies(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    cluster = subprocess.Popen(
        [
            str(BIN / "llamaops"),
            "sim",
            "up",
            "--cluster",
            str(REPO / "e2e/clusters/mixed.yaml"),
            "--kubeconfig",
            str(kubeconfig),
            "--speed",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cluster.stdout is not None
        first = cluster.stdout.readline()
        assert first.startswith("Local cluster at http://127.0.0.1:"), first
        assert "a100-0, a100-1, cpu-0, h100-0, l4-0, l4-1, l4-2, l4-3" in first

        nodes = kubectl(kubeconfig, "get", "nodes", "-o", "json")
        gpus = {
            n["metadata"]["name"]: n["status"]["allocatable"].get("nvidia.com/gpu")
            for n in json.loads(nodes.stdout)["items"]
        }
        assert gpus["h100-0"] == "8" and gpus["l4-0"] == "1" and gpus["cpu-0"] is None

        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
        (tmp_path / "service.json").write_text(json.dumps(service))
        assert kubectl(kubeconfig, "apply", "-f", str(tmp_path / "service.json")).returncode == 0
        while "Service default/web at http://127.0.0.1:" not in (line := cluster.stdout.readline()):
            assert line, "sim up ended before announcing the Service's proxy"
    finally:
        cluster.send_signal(signal.SIGINT)
        out, err = cluster.communicate(timeout=20)

    assert cluster.returncode == 0, err
    assert out.rstrip().endswith("Stopped.")
    assert "Traceback" not in err


def test_sim_up_refuses_a_bad_cluster_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text("nodes:\n  - pool: h100\n    count: -1\n")

    result = subprocess.run(
        [
            str(BIN / "llamaops"),
            "sim",
            "up",
            "--cluster",
            str(bad),
            "--kubeconfig",
            str(tmp_path / "k"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "nodes.0.count" in line and "cluster.yaml" in line

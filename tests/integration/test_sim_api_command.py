"""`llamaops sim api`: serves the emulator, writes a kubeconfig, stops on SIGINT/SIGTERM."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sim_api_serves_kubectl_until_stopped(tmp_path: Path, stop: signal.Signals) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    server = subprocess.Popen(
        [str(BIN / "llamaops"), "sim", "api", "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("Kubernetes API emulator at http://127.0.0.1:"), first
        url = first.split(" at ")[1].strip()
        assert url in kubeconfig.read_text()

        namespaces = subprocess.run(
            [
                str(BIN / "kubectl"),
                "--kubeconfig",
                str(kubeconfig),
                "get",
                "namespaces",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert namespaces.returncode == 0, namespaces.stderr
        assert "namespace/default" in namespaces.stdout.split()
    finally:
        server.send_signal(stop)
        out, err = server.communicate(timeout=10)

    assert server.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err

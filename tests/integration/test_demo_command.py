"""`llamaops demo` (what `make demo` runs): the replicas come up and serve, then it exits
cleanly after --duration, leaving nothing running."""

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_the_demo_brings_replicas_up_serves_and_exits_cleanly() -> None:
    result = subprocess.run(
        [str(BIN / "llamaops"), "demo", "--duration", "20", "--speed", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    summary = result.stdout[result.stdout.index("Summary after") :]
    assert "llama3-70b: 2/2 replicas ready" in summary, result.stdout[-3000:]
    assert " 0 failed" in summary and " ok," in summary, summary
    assert "kubectl --kubeconfig" in result.stdout
    leftover = subprocess.run(
        ["pgrep", "-f", "llamaops run --kubeconfig .*llamaops-demo"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftover.stdout == "", "the operator outlived the demo"

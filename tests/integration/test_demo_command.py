"""`llamaops demo` (what `make demo` runs): the replicas come up and serve, the autoscaler
follows the load up and back down with 0 failed requests, then the demo exits cleanly after
--duration, leaving nothing running."""

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_the_demo_scales_up_and_back_down_serves_everything_and_exits_cleanly() -> None:
    result = subprocess.run(
        [str(BIN / "llamaops"), "demo", "--duration", "100"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    summary = result.stdout[result.stdout.index("Summary after") :]
    assert "llama3-70b: 1/1 replicas ready" in summary, result.stdout[-3000:]
    assert " 0 failed" in summary and " ok," in summary, summary
    assert "ScaledUp: Scaled up from 1 to " in summary, summary
    assert "requests waiting on 1 ready replica" in summary, summary
    assert "ScaledDown: Scaled down from 2 to 1" in summary, summary
    assert "Rolled out: rev demo-b on every replica" in summary, summary
    assert "replaced by the rollout" in summary, summary
    assert "CanaryPassed: Pod " in summary and "canary passed" in summary, summary
    assert "Autoscaler   queue " in result.stdout  # the live view shows the queue
    assert "kubectl --kubeconfig" in result.stdout
    leftover = subprocess.run(
        ["pgrep", "-f", "llamaops run --kubeconfig .*llamaops-demo"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftover.stdout == "", "the operator outlived the demo"

"""`llamaops demo` (what `make demo` runs): the replicas come up and serve, the autoscaler
follows the load up and back down with 0 failed requests, then the demo exits cleanly after
--duration, leaving nothing running. With `--prometheus --preview FILE.png`, a real
Prometheus scrapes the run and the per-deployment dashboard is drawn from it."""

import json
import re
import subprocess
import sys
import urllib.request
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
    kubeconfig = re.search(r"kubectl --kubeconfig (\S+)", result.stdout)
    assert kubeconfig is not None, result.stdout[:2000]
    leftover = subprocess.run(  # this demo's operator only: another demo may be running
        ["pgrep", "-f", f"llamaops run --kubeconfig {re.escape(kubeconfig[1])}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftover.stdout == "", "the operator outlived the demo"


def test_the_demo_with_prometheus_draws_the_deployment_dashboard_from_what_it_scraped(
    tmp_path: Path,
) -> None:
    preview = tmp_path / "dashboard.png"

    result = subprocess.run(
        [str(BIN / "llamaops"), "demo", "--duration", "30", "--prometheus", "--preview", preview],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    url = re.search(r"^Prometheus at (http://127\.0\.0\.1:\d+)/graph ", result.stdout, re.M)
    assert url, result.stdout[:2000]
    assert f"Prometheus {url[1]}/graph" in result.stdout  # in the live view too
    summary = result.stdout[result.stdout.index("Summary after") :]
    # Asked before the cluster stopped: the operator and at least one replica were scraped.
    scraped = re.search(r"Prometheus at (\S+) scraped targets \(per job: (.*)\)", summary)
    assert scraped and scraped[1] == url[1], summary
    jobs = dict(job.split() for job in scraped[2].split(", "))
    assert jobs["llamaops"] == "1" and int(jobs["llamaops-vllm"]) >= 1, summary
    drawn = re.search(r"Dashboard preview \S+: (\d+) panels drawn, (\d+) with data", summary)
    assert drawn, summary
    assert int(drawn[1]) == len(time_series_panels_of(DEPLOYMENT_BOARD)), summary
    assert int(drawn[2]) >= int(drawn[1]) - 2, summary  # at most two panels without data
    assert preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not answers(url[1]), "Prometheus outlived the demo"


DEPLOYMENT_BOARD = (
    Path(__file__).resolve().parents[2] / "charts/llamaops/dashboards/llamaops-deployment.json"
)


def time_series_panels_of(board: Path) -> list[str]:
    panels = json.loads(board.read_text())["panels"]
    inner = [q for p in panels for q in p.get("panels", [])]
    return [p["title"] for p in panels + inner if p["type"] == "timeseries"]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2):
            return True
    except OSError:
        return False

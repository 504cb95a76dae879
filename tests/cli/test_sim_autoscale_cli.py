"""`llamaops sim autoscale` as a user runs it: a trace file, each built-in shape, JSON,
and bad input that exits 2 with one line.

The deployment is small so that each run takes about a second: Llama-3.1-8B with an 8k
context on a cluster of two nodes of two L4s, scaled between 1 and 2 replicas.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.builders import a_deployment

REPO = Path(__file__).resolve().parents[2]
LLAMAOPS = Path(sys.executable).parent / "llamaops"
CLUSTER = {
    "nodes": [{"pool": "l4", "count": 2, "gpu": {"product": "NVIDIA-L4", "count": 2}}],
    "engine": {"loadBandwidthGBps": 1, "startupSeconds": 30},
}
SHORT = ["--duration", "600", "--jobs", "1"]


def small_deployment() -> dict[str, Any]:
    return (
        a_deployment("small")
        .max_model_len(8192)
        .autoscaling(enabled=True, minReplicas=1, maxReplicas=2)
        .obj()
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    manifest, cluster = tmp_path / "small.yaml", tmp_path / "cluster.yaml"
    manifest.write_text(yaml.safe_dump(small_deployment()))
    cluster.write_text(yaml.safe_dump(CLUSTER))
    return {"--manifest": manifest, "--cluster": cluster}


def autoscale(files: dict[str, Path], *flags: str | Path) -> subprocess.CompletedProcess[str]:
    given = [str(flag) for flag in flags]
    base = [item for key, path in files.items() if key not in given for item in (key, str(path))]
    return subprocess.run(
        [str(LLAMAOPS), "sim", "autoscale", *base, *given],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def evidence(run: subprocess.CompletedProcess[str]) -> str:
    return f"exit {run.returncode}\n--- stdout ---\n{run.stdout}\n--- stderr ---\n{run.stderr}"


def test_a_trace_file_is_replayed_for_every_policy_as_json(
    files: dict[str, Path], tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    lines = [{"t": i * 2.5, "prompt_tokens": 200, "output_tokens": 50} for i in range(200)]
    trace.write_text("".join(json.dumps(line) + "\n" for line in lines))

    run = autoscale(files, "--trace", trace, "--jobs", "1", "-o", "json")

    assert run.returncode == 0, evidence(run)
    report = json.loads(run.stdout)
    policies = [p["policy"] for p in report["policies"]]
    assert policies == ["llamaops", "hpa-queue", "keda", "kubeai", "static-peak", "oracle"]
    for policy in report["policies"]:
        assert policy.keys() >= {
            "policy",
            "gpuHours",
            "sloAttainment",
            "ttftP99",
            "tpotP99",
            "scaleEvents",
            "failed",
        }
        assert policy["requests"] == 200
    assert report["slo"] == {"ttftSeconds": 2.0, "tpotSeconds": 0.1}
    assert report["trace"]["requests"] == 200


@pytest.mark.parametrize("shape", ["diurnal", "spike", "bursty", "step"])
def test_each_shape_runs_for_a_short_duration(files: dict[str, Path], shape: str) -> None:
    run = autoscale(files, "--shape", shape, *SHORT, "--policy", "llamaops", "--policy", "oracle")

    assert run.returncode == 0, evidence(run)
    assert run.stdout.startswith("small: llama3.1-8b-instruct on NVIDIA-L4")
    assert f"shape {shape}: 0.167 h" in run.stdout
    for heading in ("GPU-h", "SLO met", "TTFT p99", "TPOT p99", "failed", "scale events"):
        assert heading in run.stdout
    assert "≤ 1.2 × the oracle's GPU-hours" in run.stdout


def test_slo_targets_can_be_set_and_policies_run_in_parallel(files: dict[str, Path]) -> None:
    run = autoscale(
        files,
        "--shape",
        "step",
        "--duration",
        "300",
        "--slo-tpot",
        "0.5",
        "--policy",
        "keda",
        "--policy",
        "kubeai",
        "--jobs",
        "2",
        "-o",
        "json",
    )

    assert run.returncode == 0, evidence(run)
    report = json.loads(run.stdout)
    assert [p["policy"] for p in report["policies"]] == ["keda", "kubeai"]
    assert report["slo"]["tpotSeconds"] == 0.5
    assert report["policies"][0]["gpuHoursRatio"].keys() == {"kubeai"}


def test_autoscaling_off_in_the_manifest_is_said(files: dict[str, Path], tmp_path: Path) -> None:
    manifest = tmp_path / "off.yaml"
    manifest.write_text(yaml.safe_dump(a_deployment("off").max_model_len(8192).obj()))

    run = autoscale(files, "--manifest", manifest, "--shape", "step", *SHORT, "--policy", "keda")

    assert run.returncode == 0, evidence(run)
    assert "autoscaling is off in off: simulating minReplicas 1 and maxReplicas 4" in run.stdout


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        pytest.param(
            ["--manifest", "nope.yaml", "--shape", "step"],
            ["nope.yaml", "cannot read"],
            id="a manifest that does not exist",
        ),
        pytest.param(
            ["--cluster", "nope.yaml", "--shape", "step"],
            ["nope.yaml", "cannot read"],
            id="a cluster file that does not exist",
        ),
        pytest.param(
            ["--trace", "nope.jsonl"], ["--trace", "nope.jsonl"], id="a trace that does not exist"
        ),
        pytest.param(
            ["--trace", "BAD_TRACE"], ["--trace", "line 2", "not JSON"], id="a bad trace line"
        ),
        pytest.param(
            ["--shape", "flat"], ["--shape", "invalid choice: 'flat'"], id="an unknown shape"
        ),
        pytest.param(
            ["--shape", "step", "--policy", "vpa"],
            ["--policy", "invalid choice"],
            id="an unknown policy",
        ),
        pytest.param(
            [],
            ["one of the arguments --trace --shape is required"],
            id="neither a trace nor a shape",
        ),
        pytest.param(
            ["--manifest", "REFUSED", "--shape", "step"],
            ["autoscaling.maxReplicas"],
            id="a manifest the CRD refuses",
        ),
        pytest.param(
            ["--shape", "step", "--duration", "-5"],
            ["--duration", "positive"],
            id="a negative duration",
        ),
        pytest.param(
            ["--shape", "step", "--slo-ttft", "0.001"],
            ["--slo-ttft", "misses the SLO"],
            id="an SLO no replica can meet",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    files: dict[str, Path], tmp_path: Path, flags: list[str], says: list[str]
) -> None:
    bad_trace = tmp_path / "bad.jsonl"
    bad_trace.write_text('{"t": 0}\nnot json\n')
    refused = tmp_path / "refused.yaml"
    refused.write_text(yaml.safe_dump(a_deployment().autoscaling(enabled=True).obj()))
    named = {"BAD_TRACE": bad_trace, "REFUSED": refused}

    run = autoscale(files, *[named.get(flag, flag) for flag in flags])

    assert run.returncode == 2, evidence(run)
    assert "Traceback" not in run.stdout + run.stderr, evidence(run)
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: ")
    for words in says:
        assert words in line, evidence(run)

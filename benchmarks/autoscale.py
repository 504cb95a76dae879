"""Autoscaling benchmark: every built-in traffic shape, for every policy, on two deployments.

- Llama-3.1-70B (manifests/llama3-70b.yaml) over 2 × 8 H100 (benchmarks/clusters/h100-2x8.yaml)
- Llama-3.1-8B (manifests/llama3-8b.yaml) over 8 nodes of 2 × L4 (benchmarks/clusters/l4-pool.yaml)

Each study is what `llamaops sim autoscale --shape NAME` runs: one replica's capacity at
the SLO is measured, the shape is scaled to it (peak: 80 % of the deployment's most
replicas), and llamaops, hpa-queue, keda, kubeai, static-peak and the oracle each serve
the same trace on the same simulated engines. Writes benchmarks/results/autoscale.md
(the targets, then a table per study) and benchmarks/results/autoscale-SHAPE.png
(replicas and queue over time, one line per policy).

    .venv/bin/python benchmarks/autoscale.py [--shape step ...] [--jobs N]
"""

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from results_table import Row, markdown, publish

from llamaops.manifest import load_deployment
from llamaops.sim.capacity.deployment import plan_deployment
from llamaops.sim.capacity.report import Target, ratios, targets
from llamaops.sim.capacity.results import PolicyResult
from llamaops.sim.capacity.run import POLICIES, Study, prepare, run_study
from llamaops.sim.capacity.slo import default_slo
from llamaops.sim.capacity.traces import SHAPES
from llamaops.sim.cluster.config import load_cluster_file

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEPLOYMENTS = {
    "70B on 2 × 8 H100": ("manifests/llama3-70b.yaml", "benchmarks/clusters/h100-2x8.yaml"),
    "8B on 8 × 2 L4": ("manifests/llama3-8b.yaml", "benchmarks/clusters/l4-pool.yaml"),
}


@dataclass(frozen=True)
class Run:
    deployment: str
    shape: str
    study: Study
    results: list[PolicyResult]
    seconds: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", choices=SHAPES)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    runs = []
    for label, (manifest, cluster) in DEPLOYMENTS.items():
        deployment = plan_deployment(
            load_deployment(ROOT / manifest), load_cluster_file(ROOT / cluster)
        )
        slo = default_slo(deployment.model.architecture.parameters)
        for shape in args.shape or SHAPES:
            started = time.perf_counter()
            study = prepare(deployment, slo, shape=shape)
            results = run_study(study, POLICIES, jobs=args.jobs)
            runs.append(Run(label, shape, study, results, time.perf_counter() - started))
            print(f"{label}, {shape}: {time.perf_counter() - started:.0f} s", flush=True)
    for shape in args.shape or SHAPES:
        plot(shape, [run for run in runs if run.shape == shape])
    publish(RESULTS / "autoscale.md", report(runs))


def report(runs: list[Run]) -> str:
    rows: list[Row] = []
    for run in runs:
        for target in targets(run.results):
            rows.append(
                (f"{run.deployment}, {run.shape}: {target.name}", _verdict(target), target.detail)
            )
    how = (
        "`llamaops sim autoscale` on each built-in shape, every policy on the same trace and "
        "the same simulated engines (roofline step times, the operator's sizing, real load "
        "times); SLO: MLPerf's Server targets. The targets are llamaops' (reported, not "
        "asserted); where a target is missed the figure says by how much."
    )
    text = markdown("Autoscaling: llamaops against HPA, KEDA, KubeAI and an oracle", how, rows)
    for run in runs:
        text += "\n" + _study_section(run)
    return text


def _verdict(target: Target) -> str:
    return "met" if target.met else "**missed**"


def _study_section(run: Run) -> str:
    study, deployment = run.study, run.study.deployment
    lines = [
        f"## {run.deployment}, {run.shape}",
        "",
        f"{deployment.name}: TP {deployment.tensor_parallel} on {deployment.gpu_product}, "
        f"{deployment.min_replicas}–{deployment.max_replicas} replicas (the cluster holds "
        f"{deployment.slots}), {deployment.engine.load_seconds:.0f} s to load a replica. "
        f"{study.duration / 3600:.3g} h, {len(study.trace):,} requests; one replica carries "
        f"{study.capacity:.3g} requests/s within the SLO ({study.slo}). "
        f"Simulated in {run.seconds:.0f} s on {os.cpu_count()} CPUs.",
    ]
    if deployment.note:
        lines += ["", f"Note: {deployment.note}."]
    table = ratios(run.results)
    lines += [
        "",
        "| policy | GPU-h | SLO met | TTFT p50 | TTFT p99 | TPOT p99 | failed | scale events "
        "| × hpa-queue | × keda | × kubeai | × oracle | simulated in |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in run.results:
        versus = [
            _ratio(table[result.policy].get(p)) for p in ("hpa-queue", "keda", "kubeai", "oracle")
        ]
        lines.append(
            f"| {result.policy} | {result.gpu_hours:.1f} | {result.slo_attainment * 100:.2f} % | "
            f"{_seconds(result.ttft_p50)} | {_seconds(result.ttft_p99)} | "
            f"{_seconds(result.tpot_p99)} | {result.failed} | {result.scale_events} | "
            f"{' | '.join(versus)} | {result.simulated_in:.0f} s |"
        )
    return "\n".join(lines) + "\n"


def plot(shape: str, runs: list[Run]) -> None:
    matplotlib.use("Agg")  # files only, whatever the display
    figure, axes = plt.subplots(len(runs), 2, figsize=(14, 4 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs, strict=True):
        for result in run.results:
            hours = [t / 3600 for t in result.timeline.times]
            row[0].step(hours, result.timeline.replicas, where="post", label=result.policy)
            row[1].plot(hours, result.timeline.queue, label=result.policy, linewidth=1)
        row[0].set_title(f"{run.deployment}, {shape}: replicas holding GPUs")
        row[1].set_title(f"{run.deployment}, {shape}: requests waiting")
        row[1].set_yscale("symlog", linthresh=10)
        for axis in row:
            axis.set_xlabel("hours")
            axis.grid(alpha=0.3)
        row[0].legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    path = RESULTS / f"autoscale-{shape}.png"
    figure.savefig(path, dpi=90)
    plt.close(figure)
    print(f"wrote {path}")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()

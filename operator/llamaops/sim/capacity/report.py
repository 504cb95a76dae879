"""The study's figures, side by side: a table for people, JSON for programs.

Ratios are GPU-hours of one policy over another's. The targets llamaops is measured
against (reported, never asserted): at least 20 % fewer GPU-hours than hpa-queue and
than keda at equal or better SLO attainment, at least 99 % of requests within the SLO,
and at most 1.2 × the oracle's GPU-hours.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llamaops.sim.capacity.results import PolicyResult
from llamaops.sim.capacity.run import Study

SAVING_TARGET = 0.20
ATTAINMENT_TARGET = 0.99
ORACLE_TARGET = 1.2
SUBJECT = "llamaops"


@dataclass(frozen=True)
class Target:
    name: str
    met: bool
    detail: str


def ratios(results: Sequence[PolicyResult]) -> dict[str, dict[str, float | None]]:
    """GPU-hours of each policy over each other's: ratios[a][b] = a / b."""
    return {
        a.policy: {
            b.policy: (a.gpu_hours / b.gpu_hours if b.gpu_hours else None)
            for b in results
            if b is not a
        }
        for a in results
    }


def targets(results: Sequence[PolicyResult]) -> list[Target]:
    found = {result.policy: result for result in results}
    subject = found.get(SUBJECT)
    if subject is None:
        return []
    out = []
    for peer in ("hpa-queue", "keda"):
        if peer in found:
            out.append(_saving(subject, found[peer]))
    out.append(
        Target(
            f"≥ {ATTAINMENT_TARGET * 100:g} % of requests within the SLO",
            subject.slo_attainment >= ATTAINMENT_TARGET,
            _percent(subject.slo_attainment),
        )
    )
    if "oracle" in found and found["oracle"].gpu_hours:
        ratio = subject.gpu_hours / found["oracle"].gpu_hours
        out.append(
            Target(
                f"≤ {ORACLE_TARGET:g} × the oracle's GPU-hours",
                ratio <= ORACLE_TARGET,
                f"{ratio:.2f} ×",
            )
        )
    return out


def _saving(subject: PolicyResult, peer: PolicyResult) -> Target:
    saving = 1 - subject.gpu_hours / peer.gpu_hours if peer.gpu_hours else 0.0
    as_good = subject.slo_attainment >= peer.slo_attainment
    return Target(
        f"≥ {SAVING_TARGET * 100:g} % fewer GPU-hours than {peer.policy} at equal or better SLO",
        saving >= SAVING_TARGET and as_good,
        f"{saving * 100:+.1f} % GPU-hours saved; SLO {_percent(subject.slo_attainment)} vs "
        f"{_percent(peer.slo_attainment)}",
    )


def to_json(study: Study, results: Sequence[PolicyResult]) -> dict[str, Any]:
    deployment = study.deployment
    table = ratios(results)
    return {
        "deployment": {
            "name": deployment.name,
            "model": deployment.model.name,
            "gpu": deployment.gpu_product,
            "tensorParallelSize": deployment.tensor_parallel,
            "gpusPerReplica": deployment.gpus_per_replica,
            "minReplicas": deployment.min_replicas,
            "maxReplicas": deployment.max_replicas,
            "replicasTheClusterHolds": deployment.slots,
            "loadSeconds": round(deployment.engine.load_seconds, 1),
            "note": deployment.note,
        },
        "trace": {
            "source": study.source,
            "seconds": study.duration,
            "requests": len(study.trace),
        },
        "slo": {"ttftSeconds": study.slo.ttft, "tpotSeconds": study.slo.tpot},
        "replicaCapacityRps": round(study.capacity, 3),
        "policies": [
            {
                "policy": r.policy,
                "gpuHours": round(r.gpu_hours, 3),
                "sloAttainment": round(r.slo_attainment, 5),
                "ttftP50": _round(r.ttft_p50),
                "ttftP99": _round(r.ttft_p99),
                "tpotP99": _round(r.tpot_p99),
                "scaleEvents": r.scale_events,
                "failed": r.failed,
                "requests": r.requests,
                "meanReplicas": round(r.mean_replicas, 3),
                "gpuHoursRatio": {k: _round(v) for k, v in table[r.policy].items()},
            }
            for r in results
        ],
        "targets": [{"target": t.name, "met": t.met, "detail": t.detail} for t in targets(results)],
    }


def to_table(study: Study, results: Sequence[PolicyResult]) -> str:
    deployment, slo = study.deployment, study.slo
    lines = [
        f"{deployment.name}: {deployment.model.name} on {deployment.gpu_product}, "
        f"TP {deployment.tensor_parallel} ({deployment.gpus_per_replica} GPUs per replica, "
        f"{deployment.engine.load_seconds:.0f} s to load); {deployment.min_replicas} to "
        f"{deployment.max_replicas} replicas, the cluster holds {deployment.slots}",
        f"{study.source}: {study.duration / 3600:.3g} h, {len(study.trace):,} requests; one "
        f"replica carries {study.capacity:.3g} requests/s within the SLO ({slo})",
    ]
    if deployment.note:
        lines.append(f"note: {deployment.note}")
    header = (
        "policy",
        "GPU-h",
        "SLO met",
        "TTFT p50",
        "TTFT p99",
        "TPOT p99",
        "failed",
        "scale events",
        "× oracle",
    )
    rows = [header, *(_row(r, results) for r in results)]
    lines += ["", *_columns(rows)]
    shown = [r.policy for r in results]
    lines += ["", "GPU-hours, row over column:", *_columns(_ratio_rows(results, shown))]
    found = targets(results)
    if found:
        lines += ["", f"targets for {SUBJECT}:"]
        lines += [f"  {'met ' if t.met else 'MISSED'}  {t.name}: {t.detail}" for t in found]
    return "\n".join(lines)


def _row(result: PolicyResult, results: Sequence[PolicyResult]) -> tuple[str, ...]:
    oracle = next((r for r in results if r.policy == "oracle"), None)
    versus = f"{result.gpu_hours / oracle.gpu_hours:.2f}" if oracle and oracle.gpu_hours else "-"
    return (
        result.policy,
        f"{result.gpu_hours:.1f}",
        _percent(result.slo_attainment),
        _seconds(result.ttft_p50),
        _seconds(result.ttft_p99),
        _seconds(result.tpot_p99),
        str(result.failed),
        str(result.scale_events),
        versus,
    )


def _ratio_rows(results: Sequence[PolicyResult], names: list[str]) -> list[tuple[str, ...]]:
    table = ratios(results)
    rows: list[tuple[str, ...]] = [("", *names)]
    for name in names:
        cells = [("1" if other == name else _ratio(table[name].get(other))) for other in names]
        rows.append((name, *cells))
    return rows


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _percent(share: float) -> str:
    return f"{share * 100:.2f} %"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)

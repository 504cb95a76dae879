"""What a run did, from its records: counts, failures by status, percentiles, pods.

Pure. Percentiles are nearest-rank (the p99 is a latency some request really had) over
the successful requests only; a failure's timing says nothing about serving speed.
TPOT, time per output token after the first, is (latency - TTFT) / (output tokens - 1),
the figure MLPerf's latency targets bound alongside TTFT.

Every time in a summary is cluster time: the client measures wall seconds, and a local
cluster at `--speed N` runs N cluster seconds in each of them, so the summary multiplies
by `speed` (1 for a real server, whose cluster time is the wall's). The client's own
wall-clock overhead is multiplied too, so at high speeds small figures read high.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from llamaops.sim.traffic.client import DROPPED, Record


@dataclass(frozen=True)
class Percentiles:
    p50: float | None
    p99: float | None


@dataclass(frozen=True)
class Summary:
    sent: int
    ok: int
    failed: int
    dropped: int
    failures: dict[str, int]
    ttft: Percentiles
    latency: Percentiles
    tpot: Percentiles
    seconds: float
    requests_per_second: float
    pods: dict[str, int]
    speed: float = 1.0  # cluster seconds per wall second: every time above is cluster time

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(records: Sequence[Record], speed: float = 1.0) -> Summary:
    """The run's summary in cluster seconds: the records' wall seconds times `speed`."""
    sent = [record for record in records if record.status != DROPPED]
    ok = [record for record in sent if record.ok]
    failures = Counter(str(record.status) for record in sent if not record.ok)
    seconds = _span(sent) * speed
    ttfts = [record.ttft * speed for record in ok if record.ttft is not None]
    latencies = [record.latency * speed for record in ok if record.latency is not None]
    tpots = [tpot * speed for record in ok if (tpot := _tpot(record)) is not None]
    return Summary(
        sent=len(sent),
        ok=len(ok),
        failed=len(sent) - len(ok),
        dropped=len(records) - len(sent),
        failures=dict(failures.most_common()),
        ttft=_percentiles(ttfts),
        latency=_percentiles(latencies),
        tpot=_percentiles(tpots),
        seconds=seconds,
        requests_per_second=len(sent) / seconds if seconds > 0 else 0.0,
        pods=dict(sorted(Counter(record.pod for record in sent if record.pod).items())),
        speed=speed,
    )


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest rank: the smallest value with at least `percent`% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def format_summary(summary: Summary) -> str:
    lines = [
        f"requests  {summary.sent} sent, {summary.ok} ok, {summary.failed} failed"
        f"  ({summary.requests_per_second:.1f}/s over {summary.seconds:.1f} s of cluster time)"
    ]
    if summary.speed != 1:
        lines.append(f"clock     cluster seconds: the wall's × {summary.speed:g} (--speed)")
    if summary.dropped:
        lines.append(f"dropped   {summary.dropped} (every concurrency slot was busy)")
    if summary.failures:
        listed = ", ".join(f"{status} ×{count}" for status, count in summary.failures.items())
        lines.append(f"failures  {listed}")
    lines += [
        f"TTFT      {_seconds(summary.ttft)}",
        f"latency   {_seconds(summary.latency)}",
        f"TPOT      {_seconds(summary.tpot)}",
    ]
    if summary.pods:
        lines.append("pods      " + ", ".join(f"{pod} {n}" for pod, n in summary.pods.items()))
    if summary.sent and not summary.ok:
        lines.append("No request succeeded.")
    return "\n".join(lines)


def _percentiles(values: Sequence[float]) -> Percentiles:
    if not values:
        return Percentiles(None, None)
    return Percentiles(percentile(values, 50), percentile(values, 99))


def _tpot(record: Record) -> float | None:
    if record.ttft is None or record.latency is None or record.output_tokens < 2:
        return None
    return (record.latency - record.ttft) / (record.output_tokens - 1)


def _span(records: Sequence[Record]) -> float:
    """From the first request's start to the last answer."""
    if not records:
        return 0.0
    first = min(record.start for record in records)
    last = max(record.start + (record.latency or 0.0) for record in records)
    return last - first


def _seconds(percentiles: Percentiles) -> str:
    if percentiles.p50 is None or percentiles.p99 is None:
        return "n/a"
    return f"p50 {percentiles.p50:.3f} s   p99 {percentiles.p99:.3f} s"

"""Prometheus beside the demo (`llamaops demo --prometheus`), set up as the chart sets it up.

The chart is rendered with monitoring on (Helm's own engine, helm-python-sdk, a dev
dependency), every scrape at `SCRAPE_SECONDS`: its ServiceMonitor and PodMonitor become
scrape jobs on the local cluster's service discovery (`sim/prometheus_config.py`), and its
alert rules (`files/alerts.yaml`) are evaluated. The operator runs here as a local process,
not as the chart's pod: its metrics Service, without a selector, and Endpoints at
127.0.0.1 and the operator's metrics port stand in for the pod, so that the ServiceMonitor
finds it as it would in a cluster. The vLLM replicas are found by the PodMonitor.
"""

import asyncio
import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError
from llamaops.sim.prometheus_config import prometheus_config
from llamaops.sim.prometheus_process import PROMETHEUS, Prometheus

Obj = dict[str, Any]
RELEASE, NAMESPACE = "llamaops", "llamaops-system"  # as `helm install -n llamaops-system`
SCRAPE_SECONDS = 1  # the demo is short: every scrape and rule evaluation at 1 s
NEEDS_PROMETHEUS = "--prometheus needs Debian's prometheus: run `make promtool`"
NEEDS_HELM = "--prometheus renders the chart with helm-python-sdk: pip install -e '.[dev]'"


def require_prometheus(binary: Path) -> None:
    """A one-line usage error (exit 2) when `binary` is not there."""
    if not binary.is_file():
        raise UsageError(NEEDS_PROMETHEUS)


@dataclass(frozen=True)
class Monitoring:
    """What the chart installs for Prometheus: its monitors, its metrics Service, its rules."""

    monitors: list[Obj]
    metrics_service: Obj
    rule_files: list[str]


def monitoring_for(chart: Path, preview: Path | None, binary: Path = PROMETHEUS) -> Monitoring:
    """What --prometheus needs, checked before anything starts (a usage error if not):
    Prometheus, the chart's monitoring, and for a preview matplotlib and its file."""
    require_prometheus(binary)
    if preview is not None:
        from llamaops.cli.dashboard_preview import require_preview  # noqa: PLC0415

        require_preview(preview)
    return chart_monitoring(chart)


def chart_monitoring(chart: Path) -> Monitoring:
    """The chart rendered with monitoring on, as `helm install` would render it."""
    try:
        import helm_python  # noqa: PLC0415  (a dev dependency; only --prometheus needs it)
    except ImportError:
        raise UsageError(NEEDS_HELM) from None
    import yaml  # noqa: PLC0415

    interval = f"{SCRAPE_SECONDS}s"
    values = {
        "monitoring": {
            "enabled": True,
            "forceMonitors": True,  # no Prometheus Operator API here to detect
            "serviceMonitor": {"interval": interval},
            "podMonitor": {"interval": interval},
        }
    }
    files = helm_python.Chart.load(str(chart)).render(
        values, name=RELEASE, namespace=NAMESPACE, is_install=True
    )
    objects = [
        doc
        for path, text in sorted(files.items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    return Monitoring(
        monitors=[o for o in objects if o["kind"] in ("ServiceMonitor", "PodMonitor")],
        metrics_service=next(o for o in objects if o["kind"] == "Service"),
        rule_files=[str(chart / "files" / "alerts.yaml")],
    )


def operator_target(metrics_service: Obj, metrics_port: int) -> tuple[Obj, Obj]:
    """The chart's metrics Service without its selector (so that the endpoints controller
    leaves its Endpoints alone), and Endpoints at the operator process' metrics port."""
    service = copy.deepcopy(metrics_service)
    del service["spec"]["selector"]
    port = service["spec"]["ports"][0]
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": service["metadata"]["name"], "namespace": NAMESPACE},
        "subsets": [
            {
                "addresses": [{"ip": "127.0.0.1"}],
                "ports": [{"name": port["name"], "port": metrics_port, "protocol": "TCP"}],
            }
        ],
    }
    return service, endpoints


def start_prometheus(
    cluster: Any, monitoring: Monitoring, metrics_port: int, folder: Path, binary: Path = PROMETHEUS
) -> Prometheus:
    """Make the operator a target in the local cluster, then spawn Prometheus on its
    discovery (not yet ready: see `Prometheus.wait_ready`)."""
    service, endpoints = operator_target(monitoring.metrics_service, metrics_port)
    cluster.api.create("namespaces", "", {"metadata": {"name": NAMESPACE}})
    cluster.api.create("services", NAMESPACE, service)
    cluster.api.create("endpoints", NAMESPACE, endpoints)
    interval = f"{SCRAPE_SECONDS}s"
    config = prometheus_config(
        monitoring.monitors,
        cluster.discovery.url,
        rule_files=monitoring.rule_files,
        scrape_interval=interval,
        evaluation_interval=interval,
        refresh_interval=interval,
    )
    return Prometheus.start(folder, config, binary)


async def prometheus_beside(
    cluster: Any, monitoring: Monitoring, metrics_port: int, folder: Path
) -> Prometheus:
    """Prometheus started, ready and announced (stopped again if it never gets ready)."""
    prometheus = start_prometheus(cluster, monitoring, metrics_port, folder)
    try:
        await asyncio.to_thread(prometheus.wait_ready)
    except BaseException:
        prometheus.stop()
        raise
    print(announce(prometheus), flush=True)
    return prometheus


def announce(prometheus: Prometheus) -> str:
    return (
        f"Prometheus at {prometheus.url}/graph (the operator and the replicas, every "
        f"{SCRAPE_SECONDS} s, and the chart's alerts; a Grafana data source can point at "
        f"{prometheus.url}); it stops with the demo"
    )


@dataclass(frozen=True)
class Shown:
    """The run Prometheus watched, and where to draw the dashboard (if anywhere)."""

    namespace: str
    deployment: str
    since: float  # Unix time Prometheus was ready
    speed: float
    preview: Path | None
    board: Path


def what_prometheus_saw(prometheus: Prometheus, run: Shown) -> list[str]:
    """Lines for the summary: the targets scraped and, with a preview, the picture drawn."""
    from llamaops.cli.dashboard_preview import (  # noqa: PLC0415
        described,
        grafana_variables,
        preview,
        query_step,
        read_board,
    )

    until = time.time()
    seconds = until - run.since
    lines = [f"{scraped(prometheus, seconds)}; its data: {prometheus.folder / 'data'}"]
    if run.preview is not None:
        step = query_step(seconds, SCRAPE_SECONDS)
        variables = grafana_variables(run.namespace, run.deployment, step, SCRAPE_SECONDS)
        caption = (
            f"{run.namespace}/{run.deployment}, {seconds:.0f} s of `llamaops demo` scraped "
            f"every {SCRAPE_SECONDS} s by Prometheus (x: wall seconds; latencies are the "
            f"engines', in cluster seconds, which run {run.speed:g}× faster)"
        )
        board = read_board(run.board)
        window = (run.since, until, step)
        drawn = preview(prometheus, board, variables, window, path=run.preview, caption=caption)
        lines.append(described(run.preview, drawn))
    return lines


def scraped(prometheus: Prometheus, seconds: float) -> str:
    """What Prometheus scraped over the last `seconds`: targets up at least once, per job."""
    window = f"{max(int(seconds), 1)}s"
    up = prometheus.values(f"count by (job) (max_over_time(up[{window}]) == 1)", "job")
    jobs = ", ".join(f"{job} {count:.0f}" for job, count in sorted(up.items()))
    return f"Prometheus at {prometheus.url} scraped targets (per job: {jobs or 'none'})"

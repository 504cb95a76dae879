"""`llamaops demo`: the local cluster, the operator and traffic, with a live view.

Starts the local cluster (2 nodes × 8 H100-80GB unless told otherwise), installs the CRD,
runs `llamaops run` as its own process, applies the manifest (by default an autoscaled
70B), sends traffic to the deployment's Service once it has one, and redraws a short view
every second. The traffic ramps up and back down in a 120 s cycle (see `demo_load`), so
that the queue grows, the autoscaler adds replicas, the queue falls, and extra replicas
drain and go. Midway (`ROLL_AT` s into the traffic) it rolls a manifest that names a
checkpoint revision to the next one (`<revision>-next`, or demo-a to demo-b): a canary
with its warm-up completion, then one replica at a time, under the same traffic. Ctrl-C
(or `--duration`) stops everything and prints a summary; nothing is left running.

With `--prometheus`, a real Prometheus scrapes the operator and the replicas beside it, as
the chart's monitors have it scrape them (`demo_prometheus`); `--preview FILE.png` then
draws the per-deployment dashboard from it over the run (`dashboard_preview`).
"""

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError
from llamaops.manifest import ManifestError, load_deployment
from llamaops.sim.prometheus_process import NotReadyError

REPO_DEFAULTS = Path(__file__).resolve().parents[3]
DEFAULT_CLUSTER = "e2e/clusters/h100-2x8.yaml"
DEFAULT_MANIFEST = "manifests/llama3-70b-autoscaled.yaml"
CHART = "charts/llamaops"
PREVIEWED_BOARD = "charts/llamaops/dashboards/llamaops-deployment.json"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="run llamaops end to end on the local cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cluster", type=Path, default=REPO_DEFAULTS / DEFAULT_CLUSTER)
    parser.add_argument("--manifest", type=Path, default=REPO_DEFAULTS / DEFAULT_MANIFEST)
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many seconds (default: until Ctrl-C)",
    )
    parser.add_argument(
        "--speed", type=float, default=10.0, help="cluster seconds per wall second (default 10)"
    )
    parser.add_argument(
        "--prometheus",
        action="store_true",
        help="run Debian's Prometheus beside the demo, scraping the operator and the replicas "
        "as the chart's monitors do, with the chart's alert rules; prints its URL",
    )
    parser.add_argument(
        "--preview",
        type=Path,
        metavar="FILE.png",
        help="at the end, draw the per-deployment dashboard's time-series panels from that "
        "Prometheus over the run into FILE.png (implies --prometheus; needs matplotlib)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from llamaops.sim.cluster.config import ClusterFileError, load_cluster_file  # noqa: PLC0415

    try:
        config = load_cluster_file(args.cluster)
        deployment = load_deployment(args.manifest)
    except (ClusterFileError, ManifestError) as error:
        raise UsageError(str(error)) from None
    if not 0 < args.speed <= 100:
        raise UsageError(f"--speed: expected a number between 0 and 100, got {args.speed:g}")
    monitoring = None
    if args.prometheus or args.preview:  # checked before anything starts
        from llamaops.cli.demo_prometheus import monitoring_for  # noqa: PLC0415

        monitoring = monitoring_for(REPO_DEFAULTS / CHART, args.preview)
    try:
        return asyncio.run(_demo(config, deployment.to_wire(), args, monitoring))
    except KeyboardInterrupt:
        return 0
    except NotReadyError as error:  # Prometheus exited or never answered
        print(f"error: {error}", file=sys.stderr)
        return 1


async def _demo(
    config: Any, manifest: dict[str, Any], args: argparse.Namespace, monitoring: Any
) -> int:
    from llamaops.cli.demo_prometheus import (  # noqa: PLC0415
        Shown,
        prometheus_beside,
        what_prometheus_saw,
    )
    from llamaops.cli.demo_view import view  # noqa: PLC0415
    from llamaops.sim.prometheus_process import free_port  # noqa: PLC0415
    from llamaops.sim.traffic.summary import summarize  # noqa: PLC0415

    server, cluster, scratch = await _start_cluster(config, args.speed)
    kubeconfig = scratch / "kubeconfig"
    namespace = manifest["metadata"].get("namespace", "default")
    name = manifest["metadata"]["name"]
    _install(cluster, namespace, manifest)
    metrics_port = free_port() if monitoring else 0
    operator = _start_operator(kubeconfig, scratch / "operator.log", metrics_port)
    stop = _stopped_by_signals()
    records: list[Any] = []
    traffic = asyncio.create_task(_traffic(cluster, namespace, name, manifest, records))
    rolling = asyncio.create_task(_roll_midway(cluster, namespace, name, manifest))
    started = time.monotonic()
    live = sys.stdout.isatty()
    prometheus, observed = None, []
    try:
        if monitoring:
            prometheus = await prometheus_beside(
                cluster, monitoring, metrics_port, scratch / "prometheus"
            )
        since = time.time()
        while not stop.is_set():
            elapsed = time.monotonic() - started
            if args.duration is not None and elapsed >= args.duration:
                break
            lines = view(
                elapsed,
                _llama(cluster, namespace, name),
                _pods(cluster, namespace, name),
                summarize(records, speed=args.speed),
                str(kubeconfig),
                prometheus=prometheus.url if prometheus else None,
            )
            _draw(lines, live, elapsed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        if prometheus is not None:  # while the cluster still runs: drawing takes seconds
            board = REPO_DEFAULTS / PREVIEWED_BOARD
            shown = Shown(namespace, name, since, args.speed, args.preview, board)
            observed = await asyncio.to_thread(what_prometheus_saw, prometheus, shown)
    finally:
        traffic.cancel()
        rolling.cancel()
        await asyncio.gather(traffic, rolling, return_exceptions=True)
        _stop_operator(operator)
        if prometheus is not None:
            prometheus.stop()
        await cluster.stop()
        await server.stop()
    _print_summary(
        cluster, namespace, name, records, speed=args.speed, started=started, scratch=scratch
    )
    for line in observed:
        print(f"  {line}")
    return 0


async def _start_cluster(config: Any, speed: float) -> tuple[Any, Any, Path]:
    """The API server and the local cluster, running; the kubeconfig in a scratch folder."""
    from llamaops.sim.apiserver.server import ApiServer  # noqa: PLC0415
    from llamaops.sim.clock import Clock  # noqa: PLC0415
    from llamaops.sim.cluster.cluster import LocalCluster  # noqa: PLC0415
    from llamaops.sim.kubeconfig import write_kubeconfig  # noqa: PLC0415

    scratch = Path(tempfile.mkdtemp(prefix="llamaops-demo-"))
    kubeconfig = scratch / "kubeconfig"
    server = ApiServer(clock=Clock(speed))
    url = await server.start()
    cluster = LocalCluster(config, server)
    await cluster.start()
    write_kubeconfig(kubeconfig, url)
    print(f"Local cluster at {url}; kubectl --kubeconfig {kubeconfig} get llama,pods", flush=True)
    return server, cluster, scratch


def _stopped_by_signals() -> asyncio.Event:
    """Set by Ctrl-C or SIGTERM: the demo then stops everything and prints its summary."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _print_summary(
    cluster: Any,
    namespace: str,
    name: str,
    records: list[Any],
    *,
    speed: float,
    started: float,
    scratch: Path,
) -> None:
    from llamaops.sim.traffic.summary import format_summary, summarize  # noqa: PLC0415

    print(
        f"\nSummary after {time.monotonic() - started:.0f} s (operator log: "
        f"{scratch / 'operator.log'}):"
    )
    llama = _llama(cluster, namespace, name)
    status = (llama or {}).get("status") or {}
    print(
        f"  {name}: {status.get('readyReplicas') or 0}/{status.get('desiredReplicas') or 0} "
        f"replicas ready, {(status.get('placement') or {}).get('reason', 'no placement')}"
    )
    print("  " + format_summary(summarize(records, speed=speed)).replace("\n", "\n  "))
    rolled = (status.get("checkpoint") or {}).get("rolledOut") or {}
    if rolled.get("revision"):
        print(f"  Rolled out: rev {rolled['revision']} on every replica")
    for event in _told_events(cluster, namespace):
        print(f"  {event}")


TOLD = ("ScaledUp", "ScaledDown", "ScaleCapped", "CanaryPassed", "RolloutFailed")


def _told_events(cluster: Any, namespace: str) -> list[str]:
    """The autoscaler's and the rollout's Events, oldest first: what they did and why."""
    events = [
        e
        for e in cluster.api.list("events", namespace)
        if e.get("reason") in TOLD or "replaced by the rollout" in str(e.get("message", ""))
    ]
    events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    return [f"{e['reason']}: {e.get('message', '')}" for e in events]


def _install(cluster: Any, namespace: str, manifest: dict[str, Any]) -> None:
    from llamaops.api.crd import custom_resource_definition  # noqa: PLC0415

    api = cluster.server.api
    registry = cluster.server.registry
    crds = registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    api.create(crds, "", custom_resource_definition())
    ref = manifest["spec"]["model"].get("hfTokenSecretRef")
    if ref:
        secrets = registry.find("", "v1", "secrets")
        api.create(
            secrets,
            namespace,
            {"metadata": {"name": ref["name"]}, "stringData": {ref.get("key", "token"): "demo"}},
        )
    kinds = registry.find("serving.llamaops.io", "v1alpha1", "llamadeployments")
    api.create(kinds, namespace, manifest)


def _llama(cluster: Any, namespace: str, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = cluster.server.store.get(
        ("serving.llamaops.io", "llamadeployments"), namespace, name
    )
    return found


def _pods(cluster: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    return [
        p
        for p in cluster.api.list("pods", namespace)
        if (p["metadata"].get("labels") or {}).get("serving.llamaops.io/deployment") == name
    ]


async def _traffic(
    cluster: Any, namespace: str, name: str, manifest: dict[str, Any], records: list[Any]
) -> None:
    """Streaming requests to the Service's proxy, a second's worth at a time, at the rate
    the demo's load cycle gives for that second."""
    from llamaops.cli.demo_load import OUTPUT_TOKENS, rate_at  # noqa: PLC0415
    from llamaops.sim.traffic import shapes  # noqa: PLC0415
    from llamaops.sim.traffic.lengths import Fixed, Uniform  # noqa: PLC0415
    from llamaops.sim.traffic.plan import plan_requests  # noqa: PLC0415
    from llamaops.sim.traffic.run import run_traffic  # noqa: PLC0415

    # A user sends traffic once the deployment says it can take some.
    url = cluster.service_url(namespace, name)
    while url is None or not _ready(cluster, namespace, name):
        await asyncio.sleep(0.5)
        url = cluster.service_url(namespace, name)
    model = manifest["spec"]["model"]["name"]
    batches: list[asyncio.Task[None]] = []
    started = time.monotonic()

    async def batch(seed: int) -> None:
        offset = time.monotonic() - started
        plan = plan_requests(
            shapes.constant(rate_at(offset), 1.0), Fixed(64), Uniform(*OUTPUT_TOKENS), seed=seed
        )
        done = await run_traffic(url, plan, model=model, timeout=60)
        records.extend(dataclasses.replace(r, start=r.start + offset) for r in done)

    seed = 0
    try:
        while True:
            batches.append(asyncio.create_task(batch(seed)))
            seed += 1
            await asyncio.sleep(1.0)
    finally:
        for task in batches:
            task.cancel()
        await asyncio.gather(*batches, return_exceptions=True)


ROLL_AT = 75.0  # seconds into the traffic: back to one replica after the scale-down


async def _roll_midway(cluster: Any, namespace: str, name: str, manifest: dict[str, Any]) -> None:
    """Patch spec.model.checkpoint.revision to the next one, as a user would."""
    checkpoint = manifest["spec"]["model"].get("checkpoint")
    if not checkpoint or not checkpoint.get("revision"):
        return
    while not _ready(cluster, namespace, name):
        await asyncio.sleep(0.5)
    await asyncio.sleep(ROLL_AT)
    revision = checkpoint["revision"]
    after = "demo-b" if revision == "demo-a" else f"{revision}-next"
    registry = cluster.server.registry
    kinds = registry.find("serving.llamaops.io", "v1alpha1", "llamadeployments")
    patch = {"spec": {"model": {"checkpoint": {"revision": after}}}}
    body = json.dumps(patch).encode()
    cluster.server.api.patch(kinds, namespace, name, "application/merge-patch+json", body)


def _ready(cluster: Any, namespace: str, name: str) -> bool:
    status = (_llama(cluster, namespace, name) or {}).get("status") or {}
    return int(status.get("readyReplicas") or 0) > 0


def _start_operator(kubeconfig: Path, log: Path, metrics_port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llamaops",
            "run",
            "--kubeconfig",
            str(kubeconfig),
            "--metrics-port",
            str(metrics_port),
            "--health-port",
            "0",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def _stop_operator(operator: subprocess.Popen[bytes]) -> None:
    operator.send_signal(signal.SIGINT)
    try:
        operator.wait(timeout=15)
    except subprocess.TimeoutExpired:
        operator.kill()
        operator.wait(timeout=5)


def _draw(lines: list[str], live: bool, elapsed: float) -> None:
    if live:  # redraw in place
        sys.stdout.write("\x1b[H\x1b[J" + "\n".join(lines) + "\n")
        sys.stdout.flush()
    elif int(elapsed) % 5 == 0:
        print("\n".join(lines), flush=True)

"""`llamaops sim up`: the whole local cluster (API emulator, GPU nodes, scheduler, kubelets
with simulated vLLM engines, endpoints and Service proxies) until interrupted."""

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError


def register_up(sim_commands: Any) -> None:
    up = sim_commands.add_parser(
        "up",
        help="run the local cluster until interrupted",
        description="Start the API emulator and the cluster described by a cluster file, "
        "write a kubeconfig, print the URL, and run until Ctrl-C.",
    )
    up.add_argument("--cluster", type=Path, required=True, help="cluster file (YAML)")
    up.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    up.add_argument("--speed", type=_speed, default=1.0, help="cluster seconds per wall second")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=0)
    up.set_defaults(run=run_up)


def run_up(args: argparse.Namespace) -> int:
    # Imported here so that other commands do not pay for the cluster's imports.
    from llamaops.sim.cluster.config import ClusterFileError, load_cluster_file  # noqa: PLC0415

    try:
        config = load_cluster_file(args.cluster)
    except ClusterFileError as error:
        raise UsageError(str(error)) from None
    return asyncio.run(_serve(config, args))


async def _serve(config: Any, args: argparse.Namespace) -> int:
    from llamaops.sim.apiserver.server import ApiServer  # noqa: PLC0415
    from llamaops.sim.clock import Clock  # noqa: PLC0415
    from llamaops.sim.cluster.cluster import LocalCluster  # noqa: PLC0415
    from llamaops.sim.kubeconfig import write_kubeconfig  # noqa: PLC0415

    server = ApiServer(clock=Clock(args.speed))
    url = await server.start(args.host, args.port)
    cluster = LocalCluster(config, server)
    cluster.proxies.announce = lambda line: print(line, flush=True)
    await cluster.start()
    write_kubeconfig(args.kubeconfig, url)
    nodes = ", ".join(sorted(cluster.kubelets))
    print(f"Local cluster at {url} (speed {args.speed:g}x), nodes: {nodes}", flush=True)
    print(f"  kubectl --kubeconfig {args.kubeconfig} get nodes", flush=True)
    print(
        "  each Service's proxy URL is printed here and kept in its annotation "
        "sim.llamaops.io/proxy-url",
        flush=True,
    )
    print(
        f"  Prometheus http_sd_configs: {cluster.discovery.url}/pod, "
        f"{cluster.discovery.url}/endpoints",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await cluster.stop()
    await server.stop()
    print("Stopped.", flush=True)
    return 0


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"speed must be between 0 and 1000, got {value:g}")
    return value

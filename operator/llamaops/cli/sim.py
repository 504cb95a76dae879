"""`llamaops sim ...`: the local cluster. `sim api` serves the Kubernetes API emulator."""

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from llamaops.cli.sim_autoscale import register_autoscale
from llamaops.cli.sim_traffic import register_traffic
from llamaops.cli.sim_up import register_up
from llamaops.sim.kubeconfig import write_kubeconfig


def register(commands: Any) -> None:
    parser = commands.add_parser("sim", help="the local cluster (Kubernetes API emulator and more)")
    sim = parser.add_subparsers(dest="sim_command", required=True, parser_class=type(parser))
    api = sim.add_parser(
        "api",
        help="serve the Kubernetes API emulator until interrupted",
        description="Serve the API emulator, write a kubeconfig for it, print its URL.",
    )
    api.add_argument("--host", default="127.0.0.1", help="address to listen on")
    api.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    api.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    api.set_defaults(run=run_api)
    register_up(sim)
    register_traffic(sim)
    register_autoscale(sim)


def run_api(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args.host, args.port, args.kubeconfig))


async def _serve(host: str, port: int, kubeconfig: Path) -> int:
    # Imported here so that other commands do not pay for aiohttp and the emulator.
    from llamaops.sim.apiserver.server import ApiServer  # noqa: PLC0415

    server = ApiServer()
    url = await server.start(host, port)
    write_kubeconfig(kubeconfig, url)
    print(f"Kubernetes API emulator at {url}", flush=True)
    print(f"  kubectl --kubeconfig {kubeconfig} get namespaces", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    print("Stopped.", flush=True)
    return 0

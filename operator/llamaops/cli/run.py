"""`llamaops run`: the operator (also `python -m llamaops run`)."""

import argparse
import asyncio
import math
import os
import random
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError

# The resync (a kopf timer per deployment) is a safety net, not how changes are seen: the
# informers and kopf's watches wake a reconcile for every change of a pod, node readiness,
# Service, budget or spec, and a plan that waits (drains, loads, canary windows, GPUs)
# asks to look again itself. At 1,000 deployments a 15 s resync was 67 reconciles a
# second at rest (controller-runtime's default SyncPeriod is 10 hours).
RESYNC_SECONDS = 300.0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="run the operator",
        description="Run the llamaops operator: watch LlamaDeployments and keep their vLLM "
        "replicas sized, healthy and reported. Logs in with in-cluster credentials, else the "
        "kubeconfig. Alone by default; with --peering, several pods share the work through "
        "kopf's peering: the one with the highest --priority acts, the others wait.",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="kubeconfig (default: in-cluster, then $KUBECONFIG or ~/.kube/config)",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        dest="namespaces",
        help="watch this namespace (repeatable; globs allowed)",
    )
    scope.add_argument(
        "--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)"
    )
    parser.add_argument(
        "--metrics-port", type=int, default=8080, help="Prometheus metrics on this port (0: off)"
    )
    parser.add_argument(
        "--health-port",
        type=int,
        default=8081,
        help="liveness endpoint /healthz on this port (0: off)",
    )
    parser.add_argument(
        "--peering",
        metavar="NAME",
        help="join kopf's peering object NAME (a ClusterKopfPeering when watching every "
        "namespace, a KopfPeering in each watched one; it must exist): only the pod with the "
        "highest priority acts (default: run alone, never paused by another kopf operator)",
    )
    parser.add_argument(
        "--priority",
        type=_priority,
        default=0,
        help="this pod's peering priority, or 'random' (0 to 32767) so that every pod of a "
        "Deployment has its own (default 0)",
    )
    parser.add_argument(
        "--resync-seconds",
        type=_seconds,
        default=RESYNC_SECONDS,
        help="also reconcile every deployment this often, a safety net: changes are seen "
        f"through watches at once (default {RESYNC_SECONDS:.0f})",
    )
    parser.add_argument("--verbose", action="store_true", help="log kopf's details")
    parser.set_defaults(run=run)


def _priority(text: str) -> int:
    if text == "random":
        return random.randint(0, 32767)
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'random', not {text!r}") from None


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds > 0 or math.isinf(seconds):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}")
    return seconds


def run(args: argparse.Namespace) -> int:
    if args.kubeconfig is not None:
        if not args.kubeconfig.is_file():
            raise UsageError(f"--kubeconfig: {args.kubeconfig} is not a file")
        os.environ["KUBECONFIG"] = str(args.kubeconfig)
    # Imported here: kopf and the handlers are only needed by this command.
    import kopf  # noqa: PLC0415
    from prometheus_client import start_http_server  # noqa: PLC0415

    from llamaops.runtime import handlers  # noqa: PLC0415  (registers the handlers)
    from llamaops.runtime.logs import quiet_routine_handlers  # noqa: PLC0415

    handlers.resync_every(args.resync_seconds)

    kopf.configure(verbose=args.verbose)
    quiet_routine_handlers()
    if args.metrics_port:
        start_http_server(args.metrics_port)
    liveness = f"http://0.0.0.0:{args.health_port}/healthz" if args.health_port else None
    clusterwide = not args.namespaces
    try:
        asyncio.run(
            kopf.operator(
                clusterwide=clusterwide,
                namespaces=args.namespaces or (),
                liveness_endpoint=liveness,
                standalone=args.peering is None,
                peering_name=args.peering,
                priority=args.priority,
            )
        )
    except KeyboardInterrupt:
        return 0
    return 0

"""`llamaops rollout status|pause|resume|undo NAME`: what `kubectl rollout` does for a
Deployment, which it cannot do for a custom resource.

- status  waits, printing each new Progressing message; exits 0 once the rollout is
          complete (every replica on the spec's template and ready, for the spec's
          generation) and 1 once it halted (status.checkpoint.failed for this spec) or
          at --timeout; for CI pipelines.
- pause / resume  set spec.rollout.paused; the rollout holds between steps.
- undo    returns spec.model.checkpoint to status.checkpoint.previous (the checkpoint
          rolled out before the current one); 1 when there is none.
"""

import argparse
import time
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError, positive
from llamaops.kube.client import Kube, KubeconfigError, api_client, patch_spec

HALTED = {"WarmupFailed", "ReplicaCrashLooping", "ProgressDeadlineExceeded", "CanaryRegressed"}
POLL_SECONDS = 1.0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "rollout",
        help="watch, pause, resume or undo a LlamaDeployment's rollout",
        description=(
            "Watch, pause, resume or undo a LlamaDeployment's rollout, as kubectl rollout "
            "does for a Deployment."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    for action, text in (
        ("status", "wait for the rollout: 0 when complete, 1 when halted"),
        ("pause", "hold the rollout between steps (spec.rollout.paused: true)"),
        ("resume", "go on with a paused rollout"),
        ("undo", "return spec.model.checkpoint to status.checkpoint.previous"),
    ):
        sub = actions.add_parser(action, help=text, description=text)
        sub.add_argument("name", help="the LlamaDeployment")
        sub.add_argument("--namespace", "-n", default="default", help="its namespace")
        sub.add_argument("--kubeconfig", type=Path, help="kubeconfig (default: the usual)")
        if action == "status":
            sub.add_argument(
                "--timeout",
                type=positive(float),
                default=None,
                metavar="S",
                help="give up after S s",
            )
        sub.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.kubeconfig is not None and not args.kubeconfig.is_file():
        raise UsageError(f"--kubeconfig: {args.kubeconfig} is not a file")
    try:
        kube = Kube(api_client(str(args.kubeconfig) if args.kubeconfig else None))
    except KubeconfigError as error:
        raise UsageError(str(error)) from None
    found = kube.get_deployment(args.namespace, args.name)
    if found is None:
        print(f"error: llamadeployment {args.name} not found in namespace {args.namespace}")
        return 1
    if args.action == "status":
        return _status(kube, args)
    if args.action in ("pause", "resume"):
        patch_spec(kube, args.namespace, args.name, {"rollout": {"paused": args.action == "pause"}})
        print(f"llamadeployment/{args.name} {args.action}d")
        return 0
    return _undo(kube, args, found)


def _undo(kube: Kube, args: argparse.Namespace, found: dict[str, Any]) -> int:
    checkpoint = (found.get("status") or {}).get("checkpoint") or {}
    previous = checkpoint.get("previous")
    if not previous:
        print(f"error: llamadeployment/{args.name} has no previous checkpoint to return to")
        return 1
    patch_spec(kube, args.namespace, args.name, {"model": {"checkpoint": previous}})
    shown = previous["uri"] + (f" at {previous['revision']}" if previous.get("revision") else "")
    print(f"llamadeployment/{args.name} rolled back to {shown}")
    return 0


def _status(kube: Kube, args: argparse.Namespace) -> int:
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    said = None
    while True:
        found = kube.get_deployment(args.namespace, args.name)
        if found is None:
            print(f"error: llamadeployment {args.name} was deleted")
            return 1
        verdict, message = judged(found)
        if message and message != said:
            print(message, flush=True)
            said = message
        if verdict is not None:
            return verdict
        if deadline is not None and time.monotonic() >= deadline:
            print(f"error: timed out after {args.timeout:g} s waiting for the rollout")
            return 1
        time.sleep(POLL_SECONDS)


def judged(found: dict[str, Any]) -> tuple[int | None, str | None]:
    """(0 complete | 1 halted | None still going, the Progressing message)."""
    spec, status = found.get("spec") or {}, found.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    message = progressing.get("message")
    current = status.get("observedGeneration") == found["metadata"].get("generation")
    if not current:
        return None, message
    if progressing.get("status") == "False" and progressing.get("reason") in HALTED:
        return 1, f"rollout halted: {message}"
    wanted = int(spec.get("replicas", 1))
    complete = (
        progressing.get("reason") == "Complete"
        and status.get("updatedReplicas") == wanted
        and status.get("readyReplicas") == wanted
    )
    if complete:
        return 0, f"llamadeployment/{found['metadata']['name']} successfully rolled out"
    return None, message

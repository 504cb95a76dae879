"""`llamaops sim traffic`: load an OpenAI-compatible server and report what it did.

Sends completions (streaming, so time to first token is measured) on a schedule:
  constant   --rate R requests/s for --duration S (default 10 s)
  step       --steps "10:1,10:5,10:1": seconds:rate pairs, one after the other
  burst      --burst N at once; with --burst-every S, again every S s for --duration
  trace      --trace FILE: JSONL ({"offset": s, "prompt_tokens": n, "output_tokens": n})
             or CSV (offset[,prompt_tokens,output_tokens]); its first request at 0
The mode follows from --steps, --burst or --trace when --mode is not given. Lengths:
--prompt-tokens and --output-tokens take N, uniform:A,B, lognormal:MEAN,SIGMA or
choice:A,B,...  Every request is written to --out as one JSON line (start, status, ttft,
latency, prompt_tokens, output_tokens, pod from X-Served-By); a summary is printed.
A request due while --concurrency requests are in flight is dropped, not queued.

Runs on wall time (it is a client, like any load tester), not on the sim's clock: the
schedule, --timeout and the --out records are wall seconds. The summary reports cluster
time: against a local cluster started with `--speed N`, pass the same --speed N and its
times and rates are the cluster's (wall × N), as the engines experience them.

Exit codes: 0 every request sent succeeded; 1 at least one failed (an HTTP error, a
timeout, a refused connection, a stream cut short); 2 a bad flag or an unreadable trace.
"""

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from llamaops.cli.usage import UsageError, positive
from llamaops.sim.traffic import shapes
from llamaops.sim.traffic.lengths import SPEC_HELP, Length, parse_length
from llamaops.sim.traffic.trace import TraceError, read_trace

DEFAULT_SECONDS = 10.0


def register_traffic(sim_commands: Any) -> None:
    parser = sim_commands.add_parser(
        "traffic",
        help="send OpenAI-API load to a server and summarize TTFT, latency and failures",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--target", required=True, type=_url, metavar="URL", help="e.g. http://127.0.0.1:8000")
    add("--model", metavar="NAME", help="model name (default: the first one /v1/models lists)")
    add("--mode", choices=("constant", "step", "burst", "trace"))
    add("--rate", type=positive(float), metavar="R", help="requests/s (constant; default 1)")
    add("--steps", type=_checked(shapes.parse_steps), metavar="S:R,...", help='"10:1,10:5,10:1"')
    add("--burst", type=positive(int), metavar="N", help="requests sent at once")
    add("--burst-every", type=positive(float), metavar="S", help="repeat the burst every S s")
    add("--trace", type=Path, metavar="FILE", help="JSONL or CSV of request offsets to replay")
    add("--duration", type=positive(float), metavar="S", help="seconds of arrivals")
    add("--poisson", action="store_true", help="exponential gaps at the same mean rate")
    length = _checked(parse_length)
    add("--prompt-tokens", type=length, default="128", metavar="SPEC", help=f"{SPEC_HELP} (128)")
    add("--output-tokens", type=length, default="32", metavar="SPEC", help=f"{SPEC_HELP} (32)")
    add("--concurrency", type=positive(int), default=64, metavar="N", help="max in flight (64)")
    add("--timeout", type=positive(float), default=30.0, metavar="S", help="per request (30 s)")
    add("--chat", action="store_true", help="send to /v1/chat/completions")
    add("--no-stream", dest="stream", action="store_false", help="no SSE, so no TTFT")
    add("--seed", type=int, default=0, metavar="N", help="for lengths and --poisson gaps (0)")
    add(
        "--speed",
        type=positive(float),
        default=1.0,
        metavar="N",
        help="the target cluster's --speed, so the summary is in cluster seconds (1)",
    )
    add("--out", type=Path, metavar="FILE.jsonl", help="write every request here, one per line")
    add("-o", "--output", choices=("text", "json"), default="text", help="summary format")
    parser.set_defaults(run=run_traffic_command)


def run_traffic_command(args: argparse.Namespace) -> int:
    # Imported here so that other commands do not pay for aiohttp.
    from llamaops.sim.traffic.client import completions_url  # noqa: PLC0415
    from llamaops.sim.traffic.plan import plan_requests  # noqa: PLC0415
    from llamaops.sim.traffic.run import run_traffic  # noqa: PLC0415
    from llamaops.sim.traffic.summary import format_summary, summarize  # noqa: PLC0415

    arrivals = _arrivals(args)
    prompt: Length = args.prompt_tokens
    output: Length = args.output_tokens
    plan = plan_requests(arrivals, prompt, output, seed=args.seed)
    _check_writable(args.out)
    records = asyncio.run(
        run_traffic(
            args.target,
            plan,
            model=args.model,
            chat=args.chat,
            stream=args.stream,
            concurrency=args.concurrency,
            timeout=args.timeout,
            out=args.out,
        )
    )
    summary = summarize(records, speed=args.speed)
    if args.output == "json":
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"{len(plan)} requests to {completions_url(args.target, chat=args.chat)}")
        print(format_summary(summary))
    return 1 if summary.failed else 0


def _arrivals(args: argparse.Namespace) -> list[shapes.Arrival]:
    mode = _mode(args)
    if mode == "constant":
        seconds = args.duration or DEFAULT_SECONDS
        return shapes.constant(args.rate or 1.0, seconds, poisson=args.poisson, seed=args.seed)
    if mode == "step":
        arrivals = shapes.steps(args.steps, poisson=args.poisson, seed=args.seed)
    elif mode == "burst":
        seconds = args.duration or DEFAULT_SECONDS
        arrivals = shapes.burst(args.burst, every=args.burst_every, duration=seconds)
    else:
        arrivals = shapes.replay(_read_trace(args.trace))
    return shapes.within(arrivals, args.duration) if args.duration else arrivals


def _mode(args: argparse.Namespace) -> str:
    """--mode, or the one --steps, --burst or --trace implies; every flag given must fit it."""
    shape_flags = {"step": args.steps, "burst": args.burst, "trace": args.trace}
    implied = [mode for mode, value in shape_flags.items() if value is not None]
    if args.mode is None and len(implied) > 1:
        raise UsageError("choose one of --steps, --burst and --trace (or set --mode)")
    mode: str = args.mode or (implied[0] if implied else "constant")
    if mode in shape_flags and shape_flags[mode] is None:
        raise UsageError(f"--mode {mode} needs --{'steps' if mode == 'step' else mode}")
    for flag, value, modes in (
        ("--rate", args.rate, ("constant",)),
        ("--steps", args.steps, ("step",)),
        ("--burst", args.burst, ("burst",)),
        ("--burst-every", args.burst_every, ("burst",)),
        ("--trace", args.trace, ("trace",)),
        ("--poisson", args.poisson or None, ("constant", "step")),
    ):
        if value is not None and mode not in modes:
            raise UsageError(f"{flag} applies to --mode {' or '.join(modes)}, not {mode}")
    return mode


def _read_trace(path: Path) -> list[shapes.Arrival]:
    try:
        return read_trace(path)
    except TraceError as error:
        raise UsageError(f"--trace: {error}") from None


def _check_writable(out: Path | None) -> None:
    if out is None:
        return
    try:
        out.open("a").close()
    except OSError as error:
        raise UsageError(f"--out: cannot write {out}: {error.strerror}") from None


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected an http(s) URL like http://127.0.0.1:8000, got {text!r}"
        )
    return text


def _checked(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A parser whose ValueError becomes argparse's one-line message."""

    def check(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return check

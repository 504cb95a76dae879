"""Drive a planned run: send each request at its offset, at most `concurrency` at a time.

Wall time: offsets are seconds on `time.monotonic()` from the moment the first request
is due. A request due while every concurrency slot is busy is not queued (a queue would
hide the server's slowness and stretch the run): it is recorded as "dropped", as k6
drops iterations. The run ends once the last request is due and every request in flight
has answered or timed out, so it outlasts its schedule by at most one timeout. A run
given a `stop` event (set from any thread) sends nothing due after it is set, and ends
once the requests in flight have answered: the schedule cut short, nothing cut off.
"""

import asyncio
import json
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

import aiohttp

from llamaops.sim.traffic.client import (
    Endpoint,
    Record,
    completions_url,
    discover_model,
    dropped,
    send,
)
from llamaops.sim.traffic.plan import PlannedRequest

FALLBACK_MODEL = "default"
STOP_POLL = 0.05  # seconds


async def run_traffic(
    target: str,
    plan: Sequence[PlannedRequest],
    *,
    model: str | None = None,
    chat: bool = False,
    stream: bool = True,
    concurrency: int = 64,
    timeout: float = 30.0,
    out: Path | None = None,
    stop: threading.Event | None = None,
) -> list[Record]:
    """Send `plan` to the OpenAI-compatible server at `target`; the records by start time.

    Without `model`, the first one the server lists at /v1/models is used. With `out`,
    every record is also written there as one JSON line as soon as it is known.
    """
    with ExitStack() as files:
        sink = files.enter_context(out.open("w")) if out is not None else None
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            chosen = model or await discover_model(session, target, timeout) or FALLBACK_MODEL
            endpoint = Endpoint(completions_url(target, chat=chat), chosen, chat, stream, timeout)
            records = await _drive(
                session,
                endpoint,
                plan,
                concurrency,
                keep=_writer(sink),
                stop=stop or threading.Event(),
            )
    return sorted(records, key=lambda record: record.start)


async def _drive(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    plan: Sequence[PlannedRequest],
    concurrency: int,
    *,
    keep: Callable[[Record], None],
    stop: threading.Event,
) -> list[Record]:
    records: list[Record] = []
    in_flight = 0
    run_start = time.monotonic()

    async def one(planned: PlannedRequest) -> None:
        nonlocal in_flight
        try:
            record = await send(session, endpoint, planned, run_start)
        finally:
            in_flight -= 1
        records.append(record)
        keep(record)

    async with asyncio.TaskGroup() as group:
        for planned in sorted(plan, key=lambda planned: planned.offset):
            await _until(run_start + planned.offset, stop)
            if stop.is_set():
                break
            if in_flight >= concurrency:
                record = dropped(planned, time.monotonic() - run_start)
                records.append(record)
                keep(record)
                continue
            in_flight += 1
            group.create_task(one(planned))
    return records


async def _until(moment: float, stop: threading.Event) -> None:
    """Sleep until `moment` on the monotonic clock, or until `stop` is set (looked at
    every STOP_POLL seconds: a thread's Event cannot wake the event loop by itself)."""
    while (left := moment - time.monotonic()) > 0 and not stop.is_set():
        await asyncio.sleep(min(left, STOP_POLL))


def _writer(sink: TextIO | None) -> Callable[[Record], None]:
    def write(record: Record) -> None:
        if sink is not None:
            sink.write(json.dumps(record.to_json()) + "\n")
            sink.flush()

    return write

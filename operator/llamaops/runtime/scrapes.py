"""Reading the replicas' vLLM /metrics, shared: one scrape of a replica answers everyone
who asks within its age limit (the reconcile, the autoscaler, a deletion's drain), and
callers asking at the same moment wait on the same request.

A caller says how old a reading it accepts: the autoscaler up to just under its
interval (so a reconcile's scrape since its last tick saves it one), a reconcile 1 s
(it decides drains and the canary on what it reads).
"""

import asyncio
import time
from typing import Any

import aiohttp

from llamaops.autoscaling.decision import Reading
from llamaops.autoscaling.exposition import ExpositionError, reading_of
from llamaops.reconcile import names
from llamaops.reconcile.engine_stats import EngineStats, stats_of

Obj = dict[str, Any]
Scraped = tuple[Reading | None, EngineStats | None]
METRICS_TIMEOUT = 2.0
FORGET_AFTER = 300.0  # seconds a replica's last reading is kept unasked


class Scrapes:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.count = 0  # scrapes made
        self._last: dict[tuple[str, str], tuple[float, Scraped]] = {}
        self._running: dict[tuple[str, str], asyncio.Task[Scraped]] = {}
        self._pruned = time.monotonic()

    async def read(self, pod: Obj, max_age: float) -> Scraped:
        """The pod's gauges and counts, no older than `max_age` seconds."""
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod["metadata"].get("deletionTimestamp"):
            return None, None
        key = (str(pod["metadata"].get("uid", "")), str(ip))
        last = self._last.get(key)
        if last is not None and time.monotonic() - last[0] <= max_age:
            return last[1]
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(self._scrape(key, str(ip)))
            self._running[key] = task
        return await asyncio.shield(task)

    async def _scrape(self, key: tuple[str, str], ip: str) -> Scraped:
        try:
            self.count += 1
            result = await scrape(self.session, ip)
            now = time.monotonic()
            self._last[key] = (now, result)
            if now - self._pruned > FORGET_AFTER:  # replicas gone long ago
                self._last = {k: v for k, v in self._last.items() if now - v[0] < FORGET_AFTER}
                self._pruned = now
            return result
        finally:
            self._running.pop(key, None)


async def scrape(session: aiohttp.ClientSession, ip: str) -> Scraped:
    """The replica's vLLM gauges and request counts from its /metrics; None when it does
    not answer in time or answers something else (unknown, never zero)."""
    try:
        async with session.get(
            f"http://{ip}:{names.ENGINE_PORT}/metrics",
            timeout=aiohttp.ClientTimeout(total=METRICS_TIMEOUT),
        ) as answer:
            if answer.status != 200:
                return None, None
            text = await answer.text()
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None, None
    try:
        reading: Reading | None = reading_of(text)
    except ExpositionError:
        reading = None
    return reading, stats_of(text)

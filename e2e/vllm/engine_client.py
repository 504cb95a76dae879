"""Talking to real engines, as a client and as an observer: completions with their text,
bursts from a thread of their own, samples of `/metrics`, and what an engine's processes
cost (RSS from /proc).

    with Burst(url, MODEL, count=12, max_tokens=200) as burst:
        ...                                  # the requests are in flight meanwhile
    assert not failed(burst.answers())
"""

import asyncio
import contextlib
import os
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

PROMPT = "Hello, world"
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (connection refused, reset, timeout)
    text: str
    started: float  # time.monotonic()
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


async def complete_async(
    session: aiohttp.ClientSession, url: str, model: str, max_tokens: int, prompt: str = PROMPT
) -> Answer:
    """One greedy completion; with `ignore_eos` it is exactly `max_tokens` long."""
    body = {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": 0,
        "ignore_eos": True,
    }
    started = time.monotonic()
    try:
        async with session.post(f"{url}/v1/completions", json=body) as response:
            payload = await response.text()
            seconds = time.monotonic() - started
            if response.status != 200:
                return Answer(response.status, "", started, seconds, payload[:200])
            data = await response.json(content_type=None)
            return Answer(200, data["choices"][0]["text"], started, seconds)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Answer(None, "", started, time.monotonic() - started, repr(error)[:200])


def complete(url: str, model: str, max_tokens: int = 8, prompt: str = PROMPT) -> Answer:
    async def one() -> Answer:
        async with _session() as session:
            return await complete_async(session, url, model, max_tokens, prompt)

    return asyncio.run(one())


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


class Burst:
    """`count` completions sent at once, from a thread (`Steady` sends at a rate)."""

    def __init__(
        self, url: str, model: str, *, count: int, max_tokens: int = 200, prompt: str = PROMPT
    ) -> None:
        self.url, self.model, self.max_tokens, self.prompt = url, model, max_tokens, prompt
        self.count = count
        self._answers: list[Answer] = []
        self._thread = threading.Thread(target=self._run, name="burst", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join(timeout=REQUEST_TIMEOUT + 10)

    def answers(self) -> list[Answer]:
        self.__exit__()
        assert not self._thread.is_alive(), "the burst's requests did not all end"
        return self._answers

    def _run(self) -> None:
        async def run() -> list[Answer]:
            async with _session() as session:
                one = (self.url, self.model, self.max_tokens, self.prompt)
                sent = [complete_async(session, *one) for _ in range(self.count)]
                return list(await asyncio.gather(*sent))

        self._answers = asyncio.run(run())


def failed(answers: Sequence[Answer]) -> list[str]:
    return [f"{a.status}: {a.error}" for a in answers if not a.ok]


# --- what an engine reports ---------------------------------------------------------------
def scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return str(response.read().decode())


def gauges(text: str) -> dict[str, float]:
    """Each gauge family of the exposition, summed over its series."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.type == "gauge":
            found[family.name] = sum(s.value for s in family.samples if s.name == family.name)
    return found


def families(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Each metric family of `vllm:` with its type and the label names of its samples
    (le and quantile left out: they belong to the type)."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("vllm:"):
            labels = {k for s in family.samples for k in s.labels} - {"le", "quantile"}
            found[family.name] = (family.type, frozenset(labels))
    return found


class Sampler:
    """Reads one engine's `/metrics` every `period` seconds, from a thread: (time, gauges)."""

    def __init__(self, url: str, period: float = 0.1) -> None:
        self.url, self.period = url, period
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="sampler", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(OSError):
                self.samples.append((time.monotonic(), gauges(scrape(self.url))))
            time.sleep(self.period)


# --- what an engine costs ----------------------------------------------------------------
def engine_processes(ip: str) -> list[int]:
    """The processes of the `vllm serve` bound to `ip`: its main process's group (the API
    server, the engine core and its workers)."""
    main = next((pid for pid, argv in _commands() if _serves_on(argv, ip)), None)
    if main is None:
        return []
    group = os.getpgid(main)
    alive = []
    for pid, _ in _commands():
        try:
            if os.getpgid(pid) == group:
                alive.append(pid)
        except ProcessLookupError:
            pass
    return alive


def rss_mib(pids: Sequence[int]) -> float:
    total_kib = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kib += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
    return total_kib / 1024


def _commands() -> list[tuple[int, list[str]]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            found.append((int(entry.name), raw.decode(errors="replace").split("\0")))
    return found


def _serves_on(argv: list[str], ip: str) -> bool:
    return "serve" in argv and "--host" in argv and ip in argv


class Steady:
    """Completions at `rate` a second from a thread, from `start()` until `stop()`; every
    request sent is awaited, so `answers()` holds each one's outcome."""

    def __init__(self, url: str, model: str, rate: float, max_tokens: int = 8) -> None:
        self.url, self.model, self.rate, self.max_tokens = url, model, rate, max_tokens
        self._stopped = threading.Event()
        self._answers: list[Answer] = []
        self._thread = threading.Thread(target=self._run, name="steady", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=REQUEST_TIMEOUT + 10)

    def answers(self) -> list[Answer]:
        self.stop()
        assert not self._thread.is_alive(), "the steady traffic's requests did not all end"
        return self._answers

    def _run(self) -> None:
        async def run() -> list[Answer]:
            async with _session() as session:
                sent = []
                while not self._stopped.is_set():
                    one = complete_async(session, self.url, self.model, self.max_tokens)
                    sent.append(asyncio.ensure_future(one))
                    await asyncio.sleep(1 / self.rate)
                return list(await asyncio.gather(*sent))

        self._answers = asyncio.run(run())

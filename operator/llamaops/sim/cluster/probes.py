"""Startup, readiness and liveness probes, run as the kubelet runs them.

HTTP GET probes ask the container's own address; tcpSocket probes open a connection; exec
probes cannot run here and always succeed. Periods, thresholds and delays are cluster
seconds; a probe's timeout is cluster time too, but never less than half a wall second,
so a busy test machine does not fail healthy engines.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from llamaops.sim.clock import Clock

Obj = dict[str, Any]
MIN_WALL_TIMEOUT = 0.5


@dataclass(frozen=True)
class ProbeSpec:
    """A probe's settings, with Kubernetes' defaults."""

    handler: Obj
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def of(cls, probe: Obj | None) -> "ProbeSpec | None":
        if not probe:
            return None
        return cls(
            handler=probe,
            initial_delay=float(probe.get("initialDelaySeconds", 0)),
            period=float(probe.get("periodSeconds", 10)),
            timeout=float(probe.get("timeoutSeconds", 1)),
            success_threshold=int(probe.get("successThreshold", 1)),
            failure_threshold=int(probe.get("failureThreshold", 3)),
        )


async def check(
    spec: ProbeSpec, host: str, ports: dict[str, int], clock: Clock, session: aiohttp.ClientSession
) -> bool:
    """One probe attempt against the container at `host`."""
    timeout = max(clock.wall_seconds(spec.timeout), MIN_WALL_TIMEOUT)
    handler = spec.handler
    try:
        if "httpGet" in handler:
            get = handler["httpGet"]
            port = _port(get.get("port", 80), ports)
            url = f"http://{host}:{port}{get.get('path', '/')}"
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as answer:
                await answer.read()
                return 200 <= answer.status < 400
        if "tcpSocket" in handler:
            port = _port(handler["tcpSocket"].get("port", 80), ports)
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.close()
            return True
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False
    return True  # exec and grpc probes cannot run in the local cluster


def _port(port: Any, ports: dict[str, int]) -> int:
    return ports[port] if isinstance(port, str) and port in ports else int(port)


async def watch_probe(
    spec: ProbeSpec,
    attempt: Callable[[], Awaitable[bool]],
    clock: Clock,
    on_change: Callable[[bool], None],
) -> None:
    """Probe forever; call `on_change` when the outcome crosses a threshold."""
    await clock.sleep(spec.initial_delay)
    passing: bool | None = None
    successes = failures = 0
    while True:
        if await attempt():
            successes, failures = successes + 1, 0
            if passing is not True and successes >= spec.success_threshold:
                passing = True
                on_change(True)
        else:
            successes, failures = 0, failures + 1
            if passing is not False and failures >= spec.failure_threshold:
                passing = False
                on_change(False)
        await clock.sleep(spec.period)


async def until_started(
    spec: ProbeSpec, attempt: Callable[[], Awaitable[bool]], clock: Clock
) -> bool:
    """A startup probe: True once it passes, False after failureThreshold failures."""
    await clock.sleep(spec.initial_delay)
    failures = 0
    while True:
        if await attempt():
            return True
        failures += 1
        if failures >= spec.failure_threshold:
            return False
        await clock.sleep(spec.period)

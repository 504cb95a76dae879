"""One clock for the whole local cluster, able to run faster than wall time.

Every delay in the cluster (model load times, probes, heartbeats, grace periods) is
measured on this clock, so `speed=10` makes a test ten times quicker while every event
keeps its real order. Timestamps written into objects come from it too.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Cluster time: starts at the wall time of creation and runs `speed` times faster."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall_start = datetime.now(UTC)
        self._mono_start = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._mono_start) * self.speed
        return self._wall_start + timedelta(seconds=elapsed)

    def monotonic(self) -> float:
        """Cluster seconds since the clock started."""
        return (time.monotonic() - self._mono_start) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def wall_seconds(self, seconds: float) -> float:
        """How long `seconds` of cluster time take on the wall."""
        return seconds / self.speed


def timestamp(moment: datetime) -> str:
    """RFC 3339 with whole seconds, as Kubernetes writes metadata timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_timestamp(moment: datetime) -> str:
    """RFC 3339 with microseconds (MicroTime), as Leases and Events use."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""The recommendation window: earlier recommendations, run-length coded.

A point (since, replicas) means "the recommendation was `replicas` from `since` until the
next point", so a steady recommendation costs one point however long it lasts, and the
window fits in `status.autoscaler` (a restarted operator continues from it).

- `highest(now, W)`: the largest recommendation in force at any moment of [now - W, now],
  or None while the window does not yet reach back W seconds (what came before is not
  known, so no scale-down may rest on it: HPA's rule needs the whole window).
- `lowest(now, W)`: the smallest in [now - W, now], over what is known.
- `record(now, replicas, keep)`: adds a point when the recommendation changes, and drops
  points that ended more than `keep` seconds ago (the first kept point still starts at or
  before now - keep, so coverage is not lost).
- `to_status(window)` / `from_status(points)`: the window as `status.autoscaler.
  recommendations` (`{"time": RFC 3339 UTC, "replicas": n}`; times are Unix seconds here).
  Times are written to the second, rounded up: a point that starts later never ends a
  higher recommendation sooner nor covers more, so a restart cannot bring a scale-down
  forward.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Point = tuple[float, int]


@dataclass(frozen=True)
class Window:
    points: tuple[Point, ...] = ()

    def record(self, now: float, replicas: int, keep: float) -> "Window":
        points = [p for p in self.points if p[0] < now]
        if not points or points[-1][1] != replicas:
            points.append((now, replicas))
        start = now - keep
        while len(points) > 1 and points[1][0] <= start:
            points.pop(0)
        return Window(tuple(points))

    def covers(self, now: float, seconds: float) -> bool:
        """Whether the window knows every moment of the last `seconds`."""
        return bool(self.points) and self.points[0][0] <= now - seconds

    def highest(self, now: float, seconds: float) -> int | None:
        if not self.covers(now, seconds):
            return None
        return max(self._in_force(now, seconds))

    def lowest(self, now: float, seconds: float) -> int | None:
        values = self._in_force(now, seconds)
        return min(values) if values else None

    def _in_force(self, now: float, seconds: float) -> list[int]:
        if not self.points:
            return []
        start = now - seconds
        ends = [p[0] for p in self.points[1:]] + [float("inf")]
        return [
            replicas
            for (since, replicas), end in zip(self.points, ends, strict=True)
            if end > start and since <= now
        ]


def to_status(window: Window) -> list[dict[str, Any]]:
    return [{"time": _rfc3339(since), "replicas": replicas} for since, replicas in window.points]


def from_status(points: Iterable[Mapping[str, Any]]) -> Window:
    return Window(tuple((_seconds(str(p["time"])), int(p["replicas"])) for p in points))


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(math.ceil(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text: str) -> float:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

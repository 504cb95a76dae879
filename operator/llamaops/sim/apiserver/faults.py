"""Faults for tests: error responses or delays on chosen verbs and resources, watches
closed or expired, and the whole server paused and resumed."""

import asyncio
from dataclasses import dataclass, field

from llamaops.sim.apiserver.errors import ApiError
from llamaops.sim.apiserver.store import Store

REASONS = {
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass
class Fault:
    """Answer the next `times` matching requests with `code` (after `delay` seconds)."""

    verb: str = "*"
    resource: str = "*"  # plural, e.g. "pods"
    code: int | None = None
    delay: float = 0.0
    times: int = 1
    hits: int = 0

    def matches(self, verb: str, resource: str) -> bool:
        return (
            self.verb in ("*", verb) and self.resource in ("*", resource) and self.hits < self.times
        )


@dataclass
class Faults:
    """The faults in force, and the switch that pauses every request."""

    store: Store
    rules: list[Fault] = field(default_factory=list)
    running: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.running.set()

    def inject(
        self,
        verb: str = "*",
        resource: str = "*",
        code: int | None = 500,
        delay: float = 0.0,
        times: int = 1,
    ) -> Fault:
        fault = Fault(verb, resource, code, delay, times)
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def close_watches(self, resource: str = "*") -> int:
        """End open watch streams, as a server restart or a load balancer would."""
        closed = 0
        for watch in self.store.watches():
            if resource in ("*", watch.key[1]):
                watch.queue.put_nowait(None)
                closed += 1
        return closed

    def expire_watches(self) -> int:
        """Forget history and tell every watch its version expired (410), as compaction does."""
        self.store.compact()
        expired = ApiError(410, "Expired", "too old resource version (compacted)").status()
        for watch in self.store.watches():
            watch.queue.put_nowait(("ERROR", expired))
        return len(self.store.watches())

    async def before(self, verb: str, resource: str) -> None:
        """Called before each request: wait while paused, then apply the first matching fault."""
        await self.running.wait()
        for fault in self.rules:
            if fault.matches(verb, resource):
                fault.hits += 1
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.code is not None:
                    raise ApiError(
                        fault.code,
                        REASONS.get(fault.code, "InternalError"),
                        f"injected fault: {fault.code} on {verb} {resource}",
                    )
                return

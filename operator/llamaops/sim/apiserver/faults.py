"""Faults for tests: error responses or delays on chosen verbs and resources, a share of
one client's writes refused at random (seeded), watches closed or expired, and the whole
server paused and resumed."""

import asyncio
import random
from dataclasses import dataclass, field

from llamaops.sim.apiserver.errors import ApiError
from llamaops.sim.apiserver.store import Store

WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
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
class FlakyWrites:
    """Answer a `share` of the writes of clients whose User-Agent starts with one of
    `agents` with one of `codes`, drawn from a generator seeded with `seed` (a run
    replays). A refused create is AlreadyExists (409), a refused update Conflict (409)."""

    share: float
    codes: tuple[int, ...]
    agents: tuple[str, ...]
    seed: int
    refused: int = 0

    def __post_init__(self) -> None:
        self._draw = random.Random(self.seed)

    def code_for(self, verb: str, agent: str) -> int | None:
        if verb not in WRITES or not agent.startswith(self.agents):
            return None
        if self._draw.random() >= self.share:
            return None
        self.refused += 1
        return self._draw.choice(self.codes)


@dataclass
class Faults:
    """The faults in force, and the switch that pauses every request."""

    store: Store
    rules: list[Fault] = field(default_factory=list)
    running: asyncio.Event = field(default_factory=asyncio.Event)
    flaky: FlakyWrites | None = None

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
        self.flaky = None

    def flaky_writes(
        self, share: float, agents: tuple[str, ...], seed: int, codes: tuple[int, ...] = (409, 500)
    ) -> FlakyWrites:
        """From now on, refuse `share` of these clients' writes (until `clear()`)."""
        self.flaky = FlakyWrites(share, codes, agents, seed)
        return self.flaky

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

    async def before(self, verb: str, resource: str, agent: str = "") -> None:
        """Called before each request: wait while paused, then apply the first matching fault."""
        await self.running.wait()
        code = self.flaky.code_for(verb, agent) if self.flaky is not None else None
        if code is not None:
            reason = "AlreadyExists" if code == 409 and verb == "create" else REASONS[code]
            raise ApiError(code, reason, f"injected fault: {code} on {verb} {resource}")
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

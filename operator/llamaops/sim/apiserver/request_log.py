"""Every API request the server answered, by verb and resource, for tests and benchmarks
that count what a client asks of the API (as an audit log would, without the policy)."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from llamaops.sim.apiserver.faults import WRITES
from llamaops.sim.apiserver.paths import Target


@dataclass(frozen=True)
class Request:
    verb: str  # Kubernetes' verb: get, list, watch, create, update, patch, delete...
    group: str
    resource: str  # plural
    subresource: str | None
    namespace: str | None  # None: cluster-scoped, or across every namespace
    name: str | None
    agent: str  # the User-Agent header
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def write(self) -> bool:
        return self.verb in WRITES

    @property
    def across_namespaces(self) -> bool:
        """A list or watch of every namespace's objects (or of a cluster-scoped kind)."""
        return self.verb in ("list", "watch") and self.namespace is None

    @classmethod
    def to(cls, target: Target, verb: str, agent: str) -> "Request":
        resource = target.resource
        return cls(
            verb,
            resource.group,
            resource.plural,
            target.subresource,
            target.namespace,
            target.name,
            agent,
        )

    def __str__(self) -> str:
        where = f"namespaces/{self.namespace}/" if self.namespace else ""
        path = "/".join(p for p in (self.resource, self.name, self.subresource) if p)
        group = f"{self.group}/" if self.group else ""
        return f"{self.verb} {group}{where}{path}"


@dataclass
class RequestLog:
    """The requests in arrival order; safe to read from another thread than the server's."""

    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def mark(self) -> int:
        """A position to count from: `since(mark())` later gives what came after."""
        with self._lock:
            return len(self.requests)

    def since(self, mark: int = 0, agent: str = "") -> list[Request]:
        """The requests after `mark` whose User-Agent starts with `agent`."""
        with self._lock:
            taken = self.requests[mark:]
        return [r for r in taken if r.agent.startswith(agent)]


def tally(requests: list[Request]) -> Counter[str]:
    """How many of each verb and resource: {"list pods": 3, "patch llamadeployments": 1}."""
    return Counter(
        f"{r.verb} {r.resource}{'/' + r.subresource if r.subresource else ''}" for r in requests
    )

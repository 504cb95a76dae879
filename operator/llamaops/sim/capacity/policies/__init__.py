"""Autoscaling policies as the capacity simulator runs them: what each sees, what it returns.

Every `metrics interval` of its own, a policy is shown a `View` of the deployment (the
gauges of each ready replica, the replicas loading and waiting for GPUs, the room the free
GPUs leave, the requests in flight) and returns the replica count it writes, as an HPA or
an operator writes `spec.replicas`. The simulator creates or drains replicas to match.

    llamaops     the operator's own decision, imported (llamaops.autoscaling.decision)
    hpa-queue    a HorizontalPodAutoscaler on waiting requests per pod (hpa.py)
    keda         KEDA's ScaledObject as vLLM production-stack's chart ships it (keda.py)
    kubeai       KubeAI's model autoscaler (kubeai.py)
    static-peak  the replicas the trace's peak needs, all the time (fixed.py)
    oracle       a hindsight schedule of the fewest replicas that meet the SLO (fixed.py)

Policies keep their own state between calls (a window, recommendations, a moving
average); the rule each applies is a pure function beside it, tested by tables.
"""

from dataclasses import dataclass
from typing import Protocol

from llamaops.autoscaling.decision import Reading


@dataclass(frozen=True)
class View:
    """The deployment at one tick, as a policy's metrics and the API show it."""

    now: float
    desired: int  # spec.replicas as last written
    ready: tuple[Reading, ...] = ()  # one per ready replica (draining ones are gone)
    loading: int = 0  # replicas on GPUs, not ready yet (their /metrics does not answer)
    pending: int = 0  # replicas wanted that no GPUs hold yet (Pending pods)
    room: int = 0  # further replicas the free GPUs can hold now
    draining: int = 0  # replicas removed, still finishing their requests
    in_flight: int = 0  # requests sent and not finished: in engines or held at the Service

    @property
    def pods(self) -> int:
        """Pods that exist and are not terminating (a Deployment's status.replicas)."""
        return len(self.ready) + self.loading + self.pending


class Autoscaler(Protocol):
    """One policy: how often it decides, where it starts, and which replicas it drains."""

    @property
    def name(self) -> str: ...

    @property
    def interval(self) -> float: ...

    @property
    def initial(self) -> int: ...

    @property
    def drains_least_loaded(self) -> bool: ...

    def decide(self, view: View) -> int: ...


def clamp(replicas: int, low: int, high: int) -> int:
    return max(low, min(high, replicas))

"""`llamaops`: the operator's own decision, the very function its autoscaler loop runs.

Every `spec.autoscaling.metricsIntervalSeconds` it gets what the operator's loop would:
a Reading (waiting, running, KV-cache usage) per ready replica, the replicas loading,
Pending and draining, and the replicas the free GPUs can still hold; `decide` (with its math in
llamaops/autoscaling/decision.py) returns the count it writes. The window carries over
from one tick to the next, as it does in status.autoscaler. It drains the least loaded
replicas first, as the operator does.
"""

from dataclasses import dataclass, field

from llamaops.autoscaling.decision import Decision, Replicas, decide
from llamaops.autoscaling.policy import Policy
from llamaops.autoscaling.window import Window
from llamaops.sim.capacity.policies import View


@dataclass
class Llamaops:
    policy: Policy
    interval: float
    name: str = "llamaops"
    drains_least_loaded: bool = True
    window: Window = field(default_factory=Window)
    last: Decision | None = None

    @property
    def initial(self) -> int:
        return self.policy.min_replicas

    def decide(self, view: View) -> int:
        replicas = Replicas(
            current=view.desired,
            ready=view.ready,
            loading=view.loading,
            pending=view.pending,
            draining=view.draining,
        )
        self.last = decide(self.policy, self.window, replicas, view.room, view.now)
        self.window = self.last.window
        return self.last.desired

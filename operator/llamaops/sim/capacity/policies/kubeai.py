"""`kubeai`: KubeAI's model autoscaler with its defaults (substratusai/kubeai).

From its code (internal/modelautoscaler/autoscaler.go, internal/modelclient/scale.go,
internal/movingaverage/simple.go, internal/config/system.go, api/k8s/v1/model_types.go):

- every `modelAutoscaling.interval` (default 10 s) it reads the active requests KubeAI's
  own proxy holds for the model: every request sent and not finished, whether it runs,
  waits in an engine's queue, or waits in the proxy for a replica;
- it adds that to a simple moving average over `timeWindow / interval` samples (default
  10 min / 10 s = 60), whose slots start at zero on a fresh controller;
- desired = ceil(average / targetRequests), targetRequests defaulting to 100, clamped
  into [minReplicas, maxReplicas];
- a higher or equal desired is written at once; a lower one only after
  ceil(scaleDownDelaySeconds / interval) consecutive lower decisions (default
  ceil(30 s / 10 s) = 3): the count grows on each lower decision that it blocks, resets
  on any other, and is not reset by the scale-down itself.

The simulation starts the average full of the first sample, as if the controller had run
at that load before the trace (a fresh one would start from zeros and scale up late).
"""

import math
from collections import deque
from dataclasses import dataclass, field

from llamaops.sim.capacity.policies import View, clamp

INTERVAL_SECONDS = 10.0
TIME_WINDOW_SECONDS = 600.0
TARGET_REQUESTS = 100
SCALE_DOWN_DELAY_SECONDS = 30.0


def moving_average_slots(interval: float, window: float) -> int:
    return math.ceil(window / interval)


def consecutive_scale_downs(interval: float, delay: float) -> int:
    return math.ceil(delay / interval)


def gate_scale_down(existing: int, desired: int, blocked: int, required: int) -> tuple[int, int]:
    """(replicas to write, new count of consecutive blocked scale-downs), as Scale() does."""
    if desired < existing:
        if blocked < required:
            return existing, blocked + 1
        return desired, blocked
    return desired, 0


@dataclass
class KubeAi:
    min_replicas: int
    max_replicas: int
    target_requests: float = TARGET_REQUESTS
    interval: float = INTERVAL_SECONDS
    time_window: float = TIME_WINDOW_SECONDS
    scale_down_delay: float = SCALE_DOWN_DELAY_SECONDS
    name: str = "kubeai"
    drains_least_loaded: bool = False
    history: deque[float] = field(init=False)
    blocked: int = 0

    def __post_init__(self) -> None:
        self.history = deque(maxlen=moving_average_slots(self.interval, self.time_window))

    @property
    def initial(self) -> int:
        return self.min_replicas

    def decide(self, view: View) -> int:
        if not self.history:
            self.history.extend([float(view.in_flight)] * (self.history.maxlen or 1))
        self.history.append(float(view.in_flight))
        average = sum(self.history) / len(self.history)
        desired = clamp(
            math.ceil(average / self.target_requests), self.min_replicas, self.max_replicas
        )
        required = consecutive_scale_downs(self.interval, self.scale_down_delay)
        written, self.blocked = gate_scale_down(view.desired, desired, self.blocked, required)
        return written

"""`keda`: a KEDA ScaledObject as vLLM production-stack's Helm chart ships it.

The chart (vllm-project/production-stack, helm/templates/scaledobject-vllm.yaml) renders,
when a model sets `keda.enabled` and no triggers of its own, one Prometheus trigger:

    query: vllm:num_requests_waiting{model="<name>"}    threshold: '5'

and leaves pollingInterval and cooldownPeriod to KEDA's defaults, 30 s and 300 s
(https://keda.sh/docs/latest/reference/scaledobject-spec/). Both govern only KEDA's own
loop, which activates a workload from 0 to 1 replica and returns it to 0 after the
cooldown; with minReplicaCount >= 1 (the manifest's minReplicas here) every scaling
decision is the HPA's that KEDA creates, with Kubernetes' default behaviour (hpa.py).
That HPA syncs every 15 s, and KEDA's metrics server queries the trigger afresh on each
of its requests (useCachedMetrics is off by default; kedacore/keda#2282).

A Prometheus trigger is an External metric with an AverageValue target of `threshold`:

    u = total / (threshold * status.replicas);   |1 - u| <= 0.1 keeps status.replicas,
    else desired = ceil(total / threshold)

where status.replicas counts every pod of the Deployment, loading and Pending ones too,
and `total` is what Prometheus has for the ready pods (a loading vLLM serves no metrics).

Modelled as the sum over pods, `sum(vllm:num_requests_waiting{...})`: the chart's query
has no sum(), so it returns one series per pod, and KEDA's Prometheus scaler refuses a
result of more than one element ("returned multiple elements", prometheus_scaler.go).
The model gives KEDA the query a working setup needs, not the one that stops at two pods.
The metric is read with no Prometheus scrape delay, which a real setup adds (15-60 s).
"""

from dataclasses import dataclass, field

from llamaops.sim.capacity.policies import View
from llamaops.sim.capacity.policies.hpa import SYNC_SECONDS, Hpa, external_average_replicas

PRODUCTION_STACK_THRESHOLD = 5.0  # threshold: '5' in scaledobject-vllm.yaml
POLLING_INTERVAL_SECONDS = 30.0  # KEDA's default; only its 0 <-> 1 activation loop uses it
COOLDOWN_SECONDS = 300.0  # KEDA's default; only for returning to 0 replicas


@dataclass
class Keda:
    min_replicas: int
    max_replicas: int
    threshold: float = PRODUCTION_STACK_THRESHOLD
    name: str = "keda"
    interval: float = SYNC_SECONDS  # the HPA's sync decides; see above
    drains_least_loaded: bool = False  # a ReplicaSet deletes the newest ready pod first
    hpa: Hpa = field(init=False)

    def __post_init__(self) -> None:
        self.hpa = Hpa(self.min_replicas, self.max_replicas)

    @property
    def initial(self) -> int:
        return self.min_replicas

    def decide(self, view: View) -> int:
        if not view.ready:  # no series: nothing for the HPA to act on
            return view.desired
        total = sum(reading.waiting for reading in view.ready)
        desired = external_average_replicas(view.pods, total, self.threshold)
        return self.hpa.normalize(view.now, view.desired, desired)

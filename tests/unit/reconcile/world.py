"""A reconcile's view of the world, built in sentences:

    world().with_nodes(2, gpus=8).deployment(replicas=2).with_ready_pods(1).obj()

gives an `Observed`: the LlamaDeployment, its replica pods (each on the layout the planner
would choose on empty nodes, so with the current template hash and checkpoint) and the
inventory of Node and Pod objects, taken as the operator takes it.
"""

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from llamaops.api.placement import Placement
from llamaops.api.resource import LlamaDeployment
from llamaops.api.status import Condition, LlamaDeploymentStatus
from llamaops.gpu_choice import choose_gpu
from llamaops.inventory import replica_tolerations, take_inventory
from llamaops.model_resolution import resolve_model
from llamaops.reconcile.engine_stats import EngineStats
from llamaops.reconcile.observed import Observed, ReplicaPod
from llamaops.reconcile.plan_types import CreatePod, DeletePod, EnsureObject, Plan, StartDrain
from llamaops.reconcile.rendering import (
    checkpoint_id,
    disruption_budget,
    replica_name,
    service,
    template_hash,
)
from tests.builders import a_deployment, gpu_node, gpu_pod

NOW = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
H100 = "NVIDIA-H100-80GB-HBM3"
L4 = "NVIDIA-L4"
NAME = "llama3-70b"


@dataclass(frozen=True)
class PodSketch:
    """A replica pod before the world gives it a name, a node and its hashes."""

    ready: bool = True
    scheduled: bool = True
    failed: bool = False
    terminating: bool = False
    serving: bool = True
    crash_looping: bool = False
    config_error: str | None = None  # the kubelet's CreateContainerConfigError message
    in_flight: int | None = 0
    draining_for: float | None = None  # seconds since its drain started
    age: float = 3600.0  # seconds since it was created
    unschedulable_message: str | None = None
    template_hash: str | None = None  # None: the current one
    gpus: int | None = None  # None: the placement's
    warmup: str | None = None  # a rollout replica's warm-up annotation
    serving_for: float | None = None  # a rollout replica: seconds since it joined the Service
    canary: str | None = None  # its analysis verdict annotation
    baseline: str | None = None  # its analysis baseline annotation
    stats: EngineStats | None = None  # its request counts


class World:
    def __init__(self) -> None:
        self._deployment = a_deployment(NAME).model("llama3.1-70b-instruct").max_model_len(8192)
        self._deployment.set("metadata.namespace", "default")
        self._deployment.set("metadata.uid", "0b9f2c1e-uid")
        self._deployment.set("metadata.generation", 1)
        self._nodes: list[dict[str, Any]] = []
        self._other_pods: list[dict[str, Any]] = []
        self._pods: list[PodSketch] = []
        self._status: LlamaDeploymentStatus | None = None
        self._now = NOW
        self._children_exist = True

    # --- the cluster ----------------------------------------------------------------

    def with_nodes(self, count: int, *, gpus: int = 8, product: str = H100) -> Self:
        start = len(self._nodes)
        for index in range(start, start + count):
            self._nodes.append(gpu_node(f"node-{index}", product=product, gpus=gpus))
        return self

    def with_busy_gpus(self, gpus: int, *, node: int = 0) -> Self:
        """Another workload holds `gpus` GPUs of the `node`-th node."""
        name = f"other-{len(self._other_pods)}"
        self._other_pods.append(gpu_pod(f"node-{node}", gpus, name=name))
        return self

    # --- the deployment -------------------------------------------------------------

    def deployment(self, *, replicas: int | None = None, **fields: Any) -> Self:
        """spec.replicas and any spec field by dotted path: `engine.extraArgs=[...]`."""
        if replicas is not None:
            self._deployment.replicas(replicas)
        for path, value in fields.items():
            self._deployment.set("spec." + path, value)
        return self

    def model(self, name: str, *, dtype: str = "bfloat16", max_model_len: int = 8192) -> Self:
        self._deployment.model(name).dtype(dtype).max_model_len(max_model_len)
        return self

    def annotated(self, key: str, value: str) -> Self:
        """An annotation on the LlamaDeployment."""
        self._deployment.set("metadata.annotations", {key: value})
        return self

    def generation(self, generation: int) -> Self:
        self._deployment.set("metadata.generation", generation)
        return self

    def with_status(self, status: LlamaDeploymentStatus) -> Self:
        """The status a previous reconcile wrote."""
        self._status = status
        return self

    def after(self, plan: Plan) -> Self:
        return self.with_status(plan.status)

    def without_children(self) -> Self:
        """Neither the Service nor the PodDisruptionBudget exists yet."""
        self._children_exist = False
        return self

    def at(self, now: datetime) -> Self:
        self._now = now
        return self

    def later(self, seconds: float) -> Self:
        return self.at(self._now + timedelta(seconds=seconds))

    # --- its pods -------------------------------------------------------------------

    def with_pods(self, count: int, **state: Any) -> Self:
        """`count` pods; a list value gives each its own (`in_flight=[5, 0, 2]`)."""
        for index in range(count):
            each = {k: (v[index] if isinstance(v, list) else v) for k, v in state.items()}
            self._pods.append(PodSketch(**each))
        return self

    def with_ready_pods(self, count: int, **state: Any) -> Self:
        return self.with_pods(count, **state)

    def with_loading_pods(self, count: int, **state: Any) -> Self:
        return self.with_pods(count, **{"ready": False, "in_flight": None, "age": 60, **state})

    def with_pending_pods(self, count: int, **state: Any) -> Self:
        message = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
        pending = {"ready": False, "scheduled": False, "in_flight": None, "age": 60}
        return self.with_pods(count, **{**pending, "unschedulable_message": message, **state})

    def with_failed_pods(self, count: int, **state: Any) -> Self:
        failed = {"ready": False, "failed": True, "in_flight": None}
        return self.with_pods(count, **{**failed, **state})

    def with_draining_pods(self, count: int, *, draining_for: float = 30, **state: Any) -> Self:
        draining = {"serving": False, "draining_for": draining_for}
        return self.with_pods(count, **{**draining, **state})

    # --- the observation ------------------------------------------------------------

    def placement(self) -> Placement:
        """The layout on the nodes before any replica: the one the pods are built on."""
        deployment = LlamaDeployment.from_wire(self._deployment.obj())
        spec = deployment.spec
        inventory = take_inventory(
            self._nodes, self._other_pods, replica_tolerations(spec.scheduling.tolerations)
        )
        placement = choose_gpu(resolve_model(spec.model), spec.gpu, inventory).placement
        assert placement is not None, "the world's pods need a layout to be built on"
        return placement

    def name_of(self, index: int) -> str:
        """The name of the world's `index`-th pod."""
        deployment = LlamaDeployment.from_wire(self._deployment.obj())
        sketch = self._pods[index]
        template = sketch.template_hash or template_hash(deployment.spec, self.placement())
        return replica_name(NAME, template, f"r{index:04d}")

    def obj(self) -> Observed:
        wire = self._deployment.obj()
        if self._status is not None:
            wire["status"] = self._status.to_wire()
        deployment = LlamaDeployment.from_wire(wire)
        pods, pod_objects = self._replica_pods(deployment) if self._pods else ((), [])
        inventory = take_inventory(
            self._nodes,
            [*self._other_pods, *pod_objects],
            replica_tolerations(deployment.spec.scheduling.tolerations),
            deployment.spec.scheduling.node_selector,
        )
        return Observed(
            deployment=deployment,
            pods=pods,
            inventory=inventory,
            now=self._now,
            service=self._child(service(deployment), clusterIP="10.96.0.10"),
            disruption_budget=self._child(disruption_budget(deployment)),
        )

    def _child(self, rendered: dict[str, Any], **added: str) -> dict[str, Any] | None:
        """The child as the cluster holds it: as rendered, with what the cluster adds."""
        if not self._children_exist:
            return None
        held = copy.deepcopy(rendered)
        held["metadata"]["resourceVersion"] = "7"
        held["spec"].update(added)
        return held

    def _replica_pods(
        self, deployment: LlamaDeployment
    ) -> tuple[tuple[ReplicaPod, ...], list[dict[str, Any]]]:
        placement = self.placement()
        template = template_hash(deployment.spec, placement)
        free = {node["metadata"]["name"]: _gpus(node) for node in self._nodes}
        for other in self._other_pods:
            free[other["spec"]["nodeName"]] -= _request(other)
        pods, objects = [], []
        for index, sketch in enumerate(self._pods):
            gpus = sketch.gpus or placement.gpus_per_replica
            node = _first_fit(free, gpus) if sketch.scheduled else None
            name = replica_name(NAME, sketch.template_hash or template, f"r{index:04d}")
            pods.append(self._replica_pod(sketch, name, node, template, deployment))
            if node is not None:
                free[node] -= gpus
                phase = "Failed" if sketch.failed else "Running"
                objects.append(gpu_pod(node, gpus, name=name, phase=phase))
        return tuple(pods), objects

    def _replica_pod(
        self,
        sketch: PodSketch,
        name: str,
        node: str | None,
        template: str,
        deployment: LlamaDeployment,
    ) -> ReplicaPod:
        started = None
        if sketch.draining_for is not None:
            started = self._now - timedelta(seconds=sketch.draining_for)
        return ReplicaPod(
            name=name,
            uid=f"uid-{name}",
            created=self._now - timedelta(seconds=sketch.age),
            template_hash=sketch.template_hash or template,
            checkpoint=checkpoint_id(deployment.spec),
            serving=sketch.serving,
            ready=sketch.ready,
            terminating=sketch.terminating,
            failed=sketch.failed,
            scheduled=node is not None,
            node=node,
            unschedulable_message=sketch.unschedulable_message,
            crash_looping=sketch.crash_looping,
            config_error=sketch.config_error,
            restarts=7 if sketch.crash_looping else 0,
            drain_started=started,
            in_flight=sketch.in_flight,
            warmup=sketch.warmup,
            serving_since=(
                self._now - timedelta(seconds=sketch.serving_for)
                if sketch.serving_for is not None
                else None
            ),
            canary=sketch.canary,
            canary_baseline=sketch.baseline,
            stats=sketch.stats,
            ip=f"127.0.0.{len(name) % 200 + 1}" if node is not None else None,
        )


def world() -> World:
    return World()


def _gpus(node: dict[str, Any]) -> int:
    return int(node["status"]["allocatable"]["nvidia.com/gpu"])


def _request(pod: dict[str, Any]) -> int:
    return int(pod["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"])


def _first_fit(free: dict[str, int], gpus: int) -> str:
    for node, left in free.items():
        if left >= gpus:
            return node
    raise AssertionError(f"no node of this world has {gpus} free GPUs for a scheduled pod")


# --- reading a plan ---------------------------------------------------------------------


def pod_actions(plan: Plan) -> list[tuple[str, str]]:
    """The plan's pod actions as ("create" | "drain" | "delete", pod name)."""
    shown = []
    for action in plan.actions:
        if isinstance(action, CreatePod):
            shown.append(("create", action.manifest["metadata"]["name"]))
        elif isinstance(action, StartDrain):
            shown.append(("drain", action.pod))
        elif isinstance(action, DeletePod):
            shown.append(("delete", action.pod))
    return shown


def verbs(plan: Plan) -> list[str]:
    return [verb for verb, _ in pod_actions(plan)]


def created_pods(plan: Plan) -> list[dict[str, Any]]:
    return [a.manifest for a in plan.actions if isinstance(a, CreatePod)]


def ensured_kinds(plan: Plan) -> list[str]:
    return [a.manifest["kind"] for a in plan.actions if isinstance(a, EnsureObject)]


def condition(plan: Plan, kind: str) -> Condition:
    matching = [c for c in plan.status.conditions if c.type == kind]
    assert matching, f"no {kind} condition in {plan.status.conditions}"
    return matching[0]


def expect_condition(plan: Plan, kind: str, status: str, reason: str | None = None) -> Condition:
    found = condition(plan, kind)
    assert (found.status, found.reason if reason else None) == (status, reason), found
    return found


def event_reasons(plan: Plan) -> list[str]:
    return [event.reason for event in plan.events]


def steps(plan: Plan, of: World) -> list[tuple[str, int | str]]:
    """The plan's pod actions with the world's pods by index and new ones as "new":
    [("drain", 1), ("delete", 0), ("create", "new")]."""
    observed = of.obj()
    index = {pod.name: i for i, pod in enumerate(observed.pods)}
    return [(verb, "new" if verb == "create" else index[name]) for verb, name in pod_actions(plan)]

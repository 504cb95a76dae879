"""A LlamaDeployment on a cluster file, as the capacity simulator needs it: pure.

The replica is sized exactly as the operator sizes it: the cluster file's node pools
become Nodes, `llamaops.gpu_choice` picks the GPU product and layout from their
inventory, and the number of replicas the free GPUs hold (per node: GPUs per node over
GPUs per replica, summed) bounds every policy. The engine each replica runs is the local
cluster's simulated vLLM: its `vllm serve` arguments are those the operator renders
(model, TP, PP, max model length, memory utilization, precision, spec.engine.extraArgs),
and `engine_shape` turns them and the machine into KV capacity, load time (weights over
the cluster file's engine.loadBandwidthGBps per GPU, plus engine.startupSeconds) and the
step time of continuous batching (`engine_step_time`, the one place that reads it).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from llamaops.api.resource import LlamaDeployment
from llamaops.autoscaling.policy import Policy, policy_of
from llamaops.catalog.gpus import product_or_default
from llamaops.catalog.models import find_model
from llamaops.errors import SpecError
from llamaops.gpu_choice import choose_gpu
from llamaops.inventory import replica_tolerations, take_inventory
from llamaops.model_resolution import ResolvedModel, resolve_model
from llamaops.sim.capacity.fleet import EngineModel
from llamaops.sim.cluster.config import ClusterFile
from llamaops.sim.engine.args import EngineArgs, EngineArgsError, parse_serve_arguments
from llamaops.sim.engine.batching import BatchLimits, StepTime
from llamaops.sim.engine.profile import EngineProfile
from llamaops.sim.engine.shape import EngineShape, engine_shape

Obj = dict[str, Any]


class DeploymentError(ValueError):
    """A manifest and cluster that cannot be simulated; the message is one line."""


@dataclass(frozen=True)
class Deployment:
    name: str
    model: ResolvedModel
    gpu_product: str
    tensor_parallel: int
    pipeline_parallel: int
    slots: int  # replicas the cluster's GPUs hold
    min_replicas: int
    max_replicas: int
    engine: EngineModel
    policy: Policy  # the llamaops decision's policy, with the bounds above
    metrics_interval: float
    note: str | None = None  # what the simulator assumed, when it had to

    @property
    def gpus_per_replica(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def max_replicas_held(self) -> int:
        """The most replicas that can serve at once: maxReplicas, if the GPUs hold them."""
        return min(self.max_replicas, self.slots)


def engine_step_time(shape: EngineShape) -> StepTime:
    """The simulated engine's step time: the roofline of the model on the GPU."""
    return shape.speed.step_seconds


def plan_deployment(deployment: LlamaDeployment, cluster: ClusterFile) -> Deployment:
    spec, name = deployment.spec, deployment.metadata.name
    try:
        model = resolve_model(spec.model)
        choice = choose_gpu(model, spec.gpu, _inventory(deployment, cluster))
    except SpecError as error:
        raise DeploymentError(str(error)) from None
    placement = choice.placement
    if placement is None or not placement.fits or not choice.replicas_available:
        raise DeploymentError(f"no replica of {name} fits the cluster: {choice.reason}")
    if placement.nodes_per_replica > 1:
        raise DeploymentError(
            f"a replica of {name} spans {placement.nodes_per_replica} nodes, which the "
            "operator does not run yet"
        )
    args = _engine_args(
        deployment, model, placement.tensor_parallel_size, placement.pipeline_parallel_size
    )
    profile = EngineProfile(
        gpu=product_or_default(placement.gpu_product),
        gpu_memory_mib=placement.gpu_memory_mib,
        load_bandwidth_gbps=cluster.engine.load_bandwidth_gbps,
        startup_seconds=cluster.engine.startup_seconds,
    )
    shape = engine_shape(args, profile)
    if shape.failure is not None:
        raise DeploymentError(f"a replica of {name} would not start: {shape.failure}")
    slots = choice.replicas_available
    policy = policy_of(spec)
    note = None
    if not spec.autoscaling.enabled:
        policy = dataclasses.replace(policy, min_replicas=1, max_replicas=slots)
        note = (
            f"spec.autoscaling is off in {name}: simulating minReplicas 1 and maxReplicas "
            f"{slots}, the replicas the cluster holds"
        )
    return Deployment(
        name=name,
        model=model,
        gpu_product=placement.gpu_product,
        tensor_parallel=placement.tensor_parallel_size,
        pipeline_parallel=placement.pipeline_parallel_size,
        slots=slots,
        min_replicas=policy.min_replicas,
        max_replicas=policy.max_replicas,
        engine=EngineModel(
            limits=BatchLimits(
                args.max_num_seqs, shape.kv_capacity_tokens, profile.kv_block_tokens
            ),
            step_time=engine_step_time(shape),
            max_model_len=shape.max_model_len,
            load_seconds=shape.load_seconds,
            gpus=placement.gpus_per_replica,
            max_batched_seconds=profile.max_batched_steps_seconds,
        ),
        policy=policy,
        metrics_interval=float(spec.autoscaling.metrics_interval_seconds),
        note=note,
    )


def _inventory(deployment: LlamaDeployment, cluster: ClusterFile) -> Any:
    scheduling = deployment.spec.scheduling
    return take_inventory(
        cluster_nodes(cluster),
        [],
        replica_tolerations(scheduling.tolerations),
        scheduling.node_selector,
    )


def cluster_nodes(cluster: ClusterFile) -> list[Obj]:
    """The cluster file's GPU nodes as Node objects carry what the inventory reads."""
    nodes = []
    for pool in cluster.nodes:
        for index in range(pool.count):
            labels = {"kubernetes.io/hostname": f"{pool.pool}-{index}", **pool.labels}
            allocatable: Obj = {}
            if pool.gpu is not None:
                labels["nvidia.com/gpu.product"] = pool.gpu.product
                if pool.gpu.memory_mib is not None:
                    labels["nvidia.com/gpu.memory"] = str(pool.gpu.memory_mib)
                allocatable["nvidia.com/gpu"] = str(pool.gpu.count)
            nodes.append(
                {
                    "metadata": {"name": f"{pool.pool}-{index}", "labels": labels},
                    "spec": {"taints": [taint.model_dump() for taint in pool.taints]},
                    "status": {
                        "allocatable": allocatable,
                        "conditions": [{"type": "Ready", "status": "True"}],
                    },
                }
            )
    return nodes


def _engine_args(deployment: LlamaDeployment, model: ResolvedModel, tp: int, pp: int) -> EngineArgs:
    """`vllm serve` as the operator renders it (reconcile/rendering_pod.py's engine_args)."""
    spec = deployment.spec
    entry = find_model(model.name)
    words = [entry.hf_id if entry else model.name, "--served-model-name", spec.model.name]
    words += ["--tensor-parallel-size", str(tp)]
    if pp > 1:
        words += ["--pipeline-parallel-size", str(pp)]
    words += ["--max-model-len", str(model.max_model_len)]
    words += ["--gpu-memory-utilization", f"{spec.gpu.memory_utilization:g}"]
    if model.dtype != "fp8":
        words += ["--dtype", model.dtype]
    elif not (entry and entry.native_dtype == "fp8"):
        words += ["--quantization", "fp8"]
    try:
        return parse_serve_arguments([*words, *spec.engine.extra_args])
    except EngineArgsError as error:
        raise DeploymentError(f"spec.engine.extraArgs: {error}") from None

"""A manifest on a cluster file: sized as the operator sizes it, on the engine's model."""

from pathlib import Path

import pytest

from llamaops.manifest import load_deployment
from llamaops.sim.capacity.deployment import DeploymentError, plan_deployment
from llamaops.sim.cluster.config import ClusterFile, load_cluster_file

REPO = Path(__file__).resolve().parents[4]
H100S = REPO / "benchmarks" / "clusters" / "h100-2x8.yaml"
L4S = REPO / "benchmarks" / "clusters" / "l4-pool.yaml"


def test_70b_on_two_h100_nodes_is_four_replicas_of_tp_4_that_load_in_minutes() -> None:
    found = plan_deployment(
        load_deployment(REPO / "manifests/llama3-70b.yaml"), load_cluster_file(H100S)
    )

    assert (found.tensor_parallel, found.gpus_per_replica, found.slots) == (4, 4, 4)
    weights = 70.55e9 * 2
    assert found.engine.load_seconds == pytest.approx(weights / (2e9 * 4) + 190)
    assert found.engine.limits.kv_capacity_tokens > 400_000
    assert (found.min_replicas, found.max_replicas) == (1, 4)  # autoscaling is off ...
    assert found.note is not None and "autoscaling is off" in found.note  # ... and it says so


def test_8b_with_autoscaling_keeps_the_manifests_bounds_and_target() -> None:
    found = plan_deployment(
        load_deployment(REPO / "manifests/llama3-8b.yaml"), load_cluster_file(L4S)
    )

    assert (found.gpu_product, found.tensor_parallel, found.slots) == ("NVIDIA-L4", 2, 8)
    assert (found.min_replicas, found.max_replicas, found.note) == (1, 8, None)
    assert found.policy.target_queue_depth == 4 and found.metrics_interval == 5
    # a decode step of 8B at TP 2 on L4s reads 8 GB of weights per GPU at ~255 GB/s
    assert 0.03 < found.engine.step_time(1, 0, 1000) < 0.05


def test_a_cluster_without_a_gpu_that_fits_is_refused_in_one_line() -> None:
    cluster = ClusterFile.model_validate(
        {"nodes": [{"pool": "l4", "count": 2, "gpu": {"product": "NVIDIA-L4", "count": 1}}]}
    )
    deployment = load_deployment(REPO / "manifests/llama3-70b.yaml")

    with pytest.raises(DeploymentError, match="no replica of llama3-70b fits the cluster"):
        plan_deployment(deployment, cluster)

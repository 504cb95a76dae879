"""The `local_cluster` fixture: the whole cluster in-process, ready for a test."""

import json

from tests.integration.cluster_fixture import RunningCluster


def test_the_fixture_gives_two_ready_gpu_nodes_and_waits_for_what_a_test_asks(
    local_cluster: RunningCluster,
) -> None:
    nodes = json.loads(local_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]

    assert sorted(n["metadata"]["name"] for n in nodes) == ["h100-0", "h100-1"]
    assert {n["metadata"]["labels"]["nvidia.com/gpu.product"] for n in nodes} == {
        "NVIDIA-H100-80GB-HBM3"
    }
    lease = local_cluster.wait_until(
        lambda: local_cluster.get("leases", "kube-node-lease", "h100-0"),
        timeout=5,
        message="h100-0 renewed its Lease",
    )
    assert lease["spec"]["holderIdentity"] == "h100-0"

"""Preferred pod anti-affinity, scored as kube-scheduler's InterPodAffinity does: replicas of
one deployment go to different nodes when they can, and share one when they must."""

from typing import Any

from llamaops.sim.cluster.scheduling import schedule
from llamaops.sim.cluster.scheduling_spread import anti_affinity_scores, matches
from tests.unit.sim.cluster.scheduling_builders import gpu_node, gpu_pod

REPLICA = {"app": "vllm", "deployment": "llama"}


def replica(name: str, *, node: str | None = None, gpus: int = 4) -> dict[str, Any]:
    pod = gpu_pod(name, gpus=gpus).obj()
    pod["metadata"]["labels"] = dict(REPLICA)
    pod["spec"]["affinity"] = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": REPLICA},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    }
    if node is not None:
        pod["spec"]["nodeName"] = node
        pod["status"]["phase"] = "Running"
    return pod


def hosts(*names: str) -> list[dict[str, Any]]:
    return [gpu_node(n).labelled(**{"kubernetes.io/hostname": n}).obj() for n in names]


def busy(node: str) -> dict[str, Any]:
    """Another workload with large CPU and memory requests: its node scores lower on them."""
    pod = gpu_pod("other", gpus=0).requesting(cpu="64", memory="512Gi").obj()
    pod["spec"]["nodeName"] = node
    pod["status"]["phase"] = "Running"
    return pod


def test_a_second_replica_avoids_the_first_ones_node_even_when_it_is_emptier() -> None:
    nodes = hosts("a", "b")
    existing = [replica("r0", node="a"), busy("b")]

    with_spread = schedule(replica("r1"), nodes, existing)
    plain = replica("r1")
    del plain["spec"]["affinity"]
    without = schedule(plain, nodes, existing)

    assert (with_spread.node, without.node) == ("b", "a")


def test_replicas_share_a_node_when_no_other_has_room() -> None:
    nodes = hosts("a", "b")
    existing = [replica("r0", node="a"), replica("r1", node="b", gpus=8)]

    assert schedule(replica("r2"), nodes, existing).node == "a"


def test_scores_are_normalized_over_the_feasible_nodes() -> None:
    nodes = hosts("a", "b", "c")
    existing = [replica("r0", node="a"), replica("r1", node="a"), replica("r2", node="b")]

    scores = anti_affinity_scores(replica("r3"), nodes, nodes, existing)

    assert scores == {"a": 0, "b": 50, "c": 100}


def test_label_selectors() -> None:
    labels = {"app": "vllm", "tier": "a"}

    assert matches({"matchLabels": {"app": "vllm"}}, labels)
    assert not matches({"matchLabels": {"app": "other"}}, labels)
    assert matches(
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}, labels
    )
    assert not matches(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, labels
    )
    assert matches({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels)
    assert not matches({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels)

"""Where the local cluster's scheduler puts GPU pods, and what it says when they fit nowhere.

Pods are created with kubectl and read with the official client, as a user would. The
pods here are idle containers asking for GPUs: scheduling does not wait for engines.
"""

from pathlib import Path

from tests.integration.cluster_helpers import (
    MIXED,
    Cluster,
    a_cluster,
    condition,
    idle_pod,
    is_running,
    node_of,
)

FULL = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
UNTOLERATED = "0/2 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: present}."
NO_L40S = "0/8 nodes are available: 8 node(s) didn't match Pod's node affinity/selector."


def gpu_pod(name: str, gpus: int) -> dict[str, object]:
    return idle_pod(name).gpus(gpus).tolerating_gpus().obj()


def wait_running(cluster: Cluster, *names: str) -> None:
    for name in names:
        cluster.wait_for_pod(name, is_running, 5, "is Running")


def wait_unschedulable(cluster: Cluster, name: str, message: str) -> dict[str, object]:
    pod = cluster.wait_for_pod(
        name,
        lambda p: condition(p, "PodScheduled").get("message") == message,
        5,
        f"is refused with {message!r}",
    )
    return condition(pod, "PodScheduled")


def test_a_third_8_gpu_pod_stays_pending_with_the_real_message_until_a_node_frees_up(
    tmp_path: Path,
) -> None:
    with a_cluster(tmp_path) as cluster:
        cluster.apply(gpu_pod("a", 8), gpu_pod("b", 8))
        wait_running(cluster, "a", "b")
        cluster.apply(gpu_pod("c", 8))

        refused = wait_unschedulable(cluster, "c", FULL)
        assert (refused["reason"], refused["message"]) == ("Unschedulable", FULL)
        pending = cluster.pod("c")
        assert pending is not None
        assert pending["status"]["phase"] == "Pending"
        assert node_of(pending) == ""
        events = [(e["reason"], e["message"]) for e in cluster.events_about("c")]
        assert ("FailedScheduling", FULL) in events, events
        assert {node_of(cluster.pod("a")), node_of(cluster.pod("b"))} == {"h100-0", "h100-1"}

        freed = node_of(cluster.pod("a"))
        cluster.delete_pod("a")
        cluster.wait_for_pod("c", is_running, 5, "runs once a is gone")
        assert node_of(cluster.pod("c")) == freed
        assert condition(cluster.pod("c"), "PodScheduled").get("status") == "True"
        assert "Successfully assigned default/c to " + freed in [
            e["message"] for e in cluster.events_about("c")
        ]


def test_a_gpu_pod_without_the_gpu_toleration_is_refused_by_the_taint(tmp_path: Path) -> None:
    with a_cluster(tmp_path) as cluster:
        cluster.apply(idle_pod("untolerated").gpus(1).obj())

        refused = wait_unschedulable(cluster, "untolerated", UNTOLERATED)
        assert (refused["reason"], refused["message"]) == ("Unschedulable", UNTOLERATED)
        kubectl_says = cluster.kubectl("get", "pod", "untolerated", "--no-headers")
        assert "Pending" in kubectl_says, kubectl_says


def test_node_selectors_and_required_node_affinity_choose_the_gpu(tmp_path: Path) -> None:
    with a_cluster(tmp_path, MIXED) as cluster:
        cluster.apply(
            idle_pod("small")
            .gpus(1)
            .selecting_nodes(**{"nvidia.com/gpu.product": "NVIDIA-L4"})
            .obj(),
            idle_pod("medium")
            .gpus(4)
            .tolerating_gpus()
            .requiring_node_label("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB")
            .obj(),
            idle_pod("nowhere")
            .gpus(1)
            .tolerating_gpus()
            .requiring_node_label("nvidia.com/gpu.product", "NVIDIA-L40S")
            .obj(),
        )
        wait_running(cluster, "small", "medium")

        assert node_of(cluster.pod("small")).startswith("l4-")
        assert node_of(cluster.pod("medium")).startswith("a100-")
        refused = wait_unschedulable(cluster, "nowhere", NO_L40S)
        assert refused["message"] == NO_L40S


def test_gpus_are_never_overcommitted(tmp_path: Path) -> None:
    with a_cluster(tmp_path) as cluster:
        cluster.apply(*(gpu_pod(f"three-{i}", 3) for i in range(6)), gpu_pod("two", 2))
        cluster.wait_until(
            lambda: (
                sum(is_running(cluster.pod(f"three-{i}")) for i in range(6)) == 4
                and is_running(cluster.pod("two"))
            ),
            5,
            "four 3-GPU pods and the 2-GPU pod run",
        )

        used: dict[str, int] = {}
        for name in [*(f"three-{i}" for i in range(6)), "two"]:
            pod = cluster.pod(name)
            if node_of(pod):
                gpus = int(pod["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"])
                used[node_of(pod)] = used.get(node_of(pod), 0) + gpus
        assert sorted(used.values()) == [6, 8], used
        pending = [name for i in range(6) if not node_of(cluster.pod(name := f"three-{i}"))]
        assert len(pending) == 2, pending
        assert "2 Insufficient nvidia.com/gpu" in condition(
            cluster.pod(pending[0]), "PodScheduled"
        ).get("message", "")

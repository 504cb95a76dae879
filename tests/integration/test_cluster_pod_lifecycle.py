"""A pod's life on a node of the local cluster: loading, probes, readiness, crashes,
restarts with back-off, its own address, and graceful deletion.

A Llama-3.1-8B engine on one H100 loads for about 24 cluster seconds (16 GB of weights
at 4 GB/s plus 20 s of start-up); the clock runs 20 or 50 times faster than the wall.
"""

import ipaddress
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.cluster_helpers import (
    LLAMA_8B,
    Cluster,
    a_cluster,
    a_cluster_file,
    condition,
    container_status,
    idle_pod,
    is_ready,
    is_running,
    parse_time,
    vllm_pod,
)

LOAD_SECONDS = 16e9 / 4e9 + 20


def health_at(ip: str) -> int | str:
    """What GET /health on the pod's own address answers, as the kubelet's probe sees it."""
    try:
        with urllib.request.urlopen(f"http://{ip}:8000/health", timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return type(error.reason if isinstance(error, urllib.error.URLError) else error).__name__


def served_by_at(ip: str) -> str:
    with urllib.request.urlopen(f"http://{ip}:8000/v1/models", timeout=2) as answer:
        return str(answer.headers["X-Served-By"])


def container_running(pod: dict[str, object] | None) -> bool:
    return "running" in container_status(pod).get("state", {})


def test_a_vllm_pod_is_running_but_not_ready_until_its_engine_answers_health(
    tmp_path: Path,
) -> None:
    with a_cluster(tmp_path) as cluster:
        cluster.apply(vllm_pod("a").tolerating_gpus().with_probes().obj())

        loading = cluster.wait_for_pod("a", container_running, 5, "has a running container")
        assert loading["status"]["phase"] == "Running"
        assert condition(loading, "Ready")["status"] == "False"
        assert condition(loading, "Ready").get("reason") == "ContainersNotReady"
        assert health_at(loading["status"]["podIP"]) == "ConnectionRefusedError"

        ready = cluster.wait_for_pod("a", is_ready, 5, "is Ready")
        assert health_at(ready["status"]["podIP"]) == 200
        started = parse_time(container_status(ready)["state"]["running"]["startedAt"])
        became_ready = parse_time(condition(ready, "Ready")["lastTransitionTime"])
        took = (became_ready - started).total_seconds()
        assert LOAD_SECONDS - 1 <= took <= LOAD_SECONDS + 5, f"Ready {took} s after start"
        assert "1/1     Running" in cluster.kubectl("get", "pod", "a")


def test_a_container_that_is_not_vllm_runs_idle_and_is_ready(tmp_path: Path) -> None:
    with a_cluster(tmp_path) as cluster:
        cluster.apply(idle_pod("sidecar").tolerating_gpus().obj())

        pod = cluster.wait_for_pod("sidecar", is_ready, 5, "is Ready")
        assert pod["status"]["phase"] == "Running"
        status = container_status(pod)
        assert (status["ready"], status["started"], status["restartCount"]) == (True, True, 0)


def test_a_readiness_probe_that_nothing_answers_keeps_the_pod_not_ready(tmp_path: Path) -> None:
    with a_cluster(tmp_path) as cluster:
        cluster.apply(
            idle_pod("deaf").tolerating_gpus().with_readiness_probe("/healthz", 8080).obj()
        )
        cluster.wait_for_pod("deaf", container_running, 5, "has a running container")
        since = cluster.now()

        cluster.wait_until(lambda: cluster.seconds_since(since) > 10, 5, "10 probe periods pass")
        pod = cluster.pod("deaf")
        assert is_running(pod)
        assert not is_ready(pod)
        assert container_status(pod)["ready"] is False


def test_an_engine_that_crashes_while_loading_restarts_with_growing_back_off(
    tmp_path: Path,
) -> None:
    bad_checkpoint = a_cluster_file(checkpoints={LLAMA_8B: {"behaviour": "bad"}})
    with a_cluster(tmp_path, bad_checkpoint, speed=50) as cluster:
        cluster.apply(vllm_pod("broken").tolerating_gpus().with_probes().obj())

        first, second = back_offs_seen(cluster, "broken", count=2)
        assert abs(first - 10) <= 1 and abs(second - 20) <= 1, f"back-offs {first} s, {second} s"
        pod = cluster.wait_for_pod(
            "broken",
            lambda p: "waiting" in container_status(p).get("state", {}),
            5,
            "waits to restart a third time",
        )
        status = container_status(pod)
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff", status
        assert status["lastState"]["terminated"]["exitCode"] == 1, status
        assert status["restartCount"] >= 2, status
        assert not is_ready(pod)
        reasons = [e["reason"] for e in cluster.events_about("broken")]
        assert reasons.count("BackOff") >= 2, reasons
        assert "CrashLoopBackOff" in cluster.kubectl("get", "pod", "broken")


def back_offs_seen(cluster: Cluster, name: str, count: int) -> list[float]:
    """Seconds from each exit to the restart after it, from the container's own status
    (the last run's finishedAt, the new run's startedAt), for the first `count` restarts."""
    back_offs: dict[int, float] = {}

    def seen() -> bool:
        status = container_status(cluster.pod(name))
        running = status.get("state", {}).get("running")
        finished = (status.get("lastState") or {}).get("terminated", {}).get("finishedAt")
        if running and finished:
            gap = parse_time(running["startedAt"]) - parse_time(finished)
            back_offs.setdefault(int(status["restartCount"]), gap.total_seconds())
        return len(back_offs) >= count

    cluster.wait_until(seen, 8, f"{name} restarted {count} times")
    return [back_offs[restart] for restart in sorted(back_offs)][:count]


def test_each_running_pod_has_its_own_loopback_address_where_its_engine_answers(
    tmp_path: Path,
) -> None:
    names = ["a", "b", "c"]
    with a_cluster(tmp_path) as cluster:
        cluster.apply(*(vllm_pod(name).tolerating_gpus().with_probes().obj() for name in names))

        pods = [cluster.wait_for_pod(name, is_ready, 5, "is Ready") for name in names]
        ips = [pod["status"]["podIP"] for pod in pods]
        assert len(set(ips)) == 3, ips
        assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("127.0.0.0/8") for ip in ips)
        assert [served_by_at(ip) for ip in ips] == names
        wide = cluster.kubectl("get", "pods", "-o", "wide")
        assert all(ip in wide for ip in ips), wide


def test_two_clusters_on_one_machine_give_their_pods_different_addresses(
    tmp_path: Path,
) -> None:
    """Two local clusters at once (a test run beside `llamaops sim up` or a benchmark):
    each pod must still be the only one at its address, or probes and Services of one
    cluster reach the other's engines."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    with (
        a_cluster(tmp_path / "one") as one,
        a_cluster(tmp_path / "two") as two,
    ):
        one.apply(vllm_pod("in-one").tolerating_gpus().with_probes().obj())
        two.apply(vllm_pod("in-two").tolerating_gpus().with_probes().obj())
        ip_one = one.wait_for_pod("in-one", is_ready, 5, "is Ready")["status"]["podIP"]
        ip_two = two.wait_for_pod("in-two", is_ready, 5, "is Ready")["status"]["podIP"]

        answers = {ip_one: served_by_at(ip_one), ip_two: served_by_at(ip_two)}
        assert ip_one != ip_two, f"both pods got {ip_one}; /v1/models there is {answers}"
        assert answers == {ip_one: "in-one", ip_two: "in-two"}


@pytest.mark.parametrize("as_exec", [False, True], ids=["sleep-action", "exec-sleep"])
def test_a_deleted_pod_sleeps_before_stop_then_drains_and_goes_within_its_grace_period(
    tmp_path: Path, as_exec: bool
) -> None:
    with a_cluster(tmp_path, speed=50) as cluster:
        pod = (
            vllm_pod("a")
            .engine_flags("--shutdown-timeout", "20")
            .tolerating_gpus()
            .with_probes()
            .sleeping_before_stop(5, as_exec=as_exec)
            .grace(30)
        )
        cluster.apply(pod.obj())
        ip = cluster.wait_for_pod("a", is_ready, 5, "is Ready")["status"]["podIP"]

        deleted = cluster.now()
        cluster.delete_pod("a")
        cluster.wait_until(lambda: cluster.seconds_since(deleted) > 3, 5, "3 s of the sleep")
        assert health_at(ip) == 200, "the engine serves on through its preStop sleep"
        cluster.wait_until(lambda: cluster.pod("a") is None, 5, "a is gone")
        took = cluster.seconds_since(deleted)
        assert 5 <= took < 30, f"a was gone {took:.1f} s after its deletion"

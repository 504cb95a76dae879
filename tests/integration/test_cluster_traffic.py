"""Traffic through a Service's proxy while its pods come and go, and the engine's queue.

The load generator runs on wall time; the cluster's clock runs 20 times faster, so a
1000-token answer from the 8B on an H100 (about 8 cluster seconds, at under 8 ms a decode
step) takes 0.4 s on the wall.
"""

import time
from pathlib import Path

from tests.integration.cluster_helpers import (
    Cluster,
    a_cluster,
    a_service,
    is_ready,
    replica,
)
from tests.integration.cluster_traffic_helpers import (
    PodTimeline,
    Traffic,
    at_once,
    engine_gauges,
    failed,
    requests_to_pods_not_serving,
    steady,
    summary,
)

SPEED = 20.0


def serving(cluster: Cluster, *names: str) -> str:
    """Wait until the Service `llama` routes to exactly `names`; its proxy URL."""
    for name in names:
        cluster.wait_for_pod(name, is_ready, 5, "is Ready")
    cluster.wait_until(
        lambda: cluster.serving_addresses("llama") == sorted(names), 5, f"llama serves {names}"
    )
    return cluster.service_url("llama")


def delete_during_traffic(cluster: Cluster, name: str, after: float) -> tuple[float, float]:
    """Delete pod `name` `after` wall seconds into the traffic; when kubectl was called
    and when it returned (the API marked the pod deleted in between)."""
    time.sleep(after)
    called = time.monotonic()
    cluster.delete_pod(name)
    return called, time.monotonic()


def test_deleting_a_pod_whose_grace_period_covers_its_drain_fails_no_request(
    tmp_path: Path,
) -> None:
    # Cluster seconds; requests last about 20, so that some to a are surely still running
    # at SIGTERM however long the delete call takes on a loaded machine.
    pre_stop, shutdown_timeout = 3, 60
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        draining = (
            replica("a")
            .engine_flags("--shutdown-timeout", str(shutdown_timeout))
            .sleeping_before_stop(pre_stop)
            .grace(pre_stop + shutdown_timeout + 10)
        )
        cluster.apply(a_service("llama", app="llama"), draining.obj(), replica("b").obj())
        url = serving(cluster, "a", "b")

        with (
            PodTimeline(cluster.core) as timeline,
            Traffic(url, steady(rate=10, seconds=2.5, output_tokens=2500)) as traffic,
        ):
            called, deleted = delete_during_traffic(cluster, "a", after=0.8)
            records = traffic.records()
        cluster.wait_until(lambda: cluster.pod("a") is None, 5, "a is gone")

    failures = failed(records)
    assert not failures, f"{len(failures)} of {len(records)} failed:\n{summary(records)}"
    sigterm = deleted + pre_stop / SPEED
    drained = [
        r
        for r in records
        if r.pod == "a" and traffic.began_before(r, called) and traffic.ended_after(r, sigterm)
    ]
    assert drained, f"no request to a was still running at SIGTERM:\n{summary(records)}"
    assert any(r.pod == "b" and not traffic.began_before(r, deleted) for r in records)
    assert requests_to_pods_not_serving(records, traffic.started, timeline) == []


def test_deleting_a_pod_whose_grace_period_is_shorter_than_its_drain_cuts_its_requests(
    tmp_path: Path,
) -> None:
    grace = 2  # cluster seconds; requests last about 22, the drain may take 60
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        cut_short = replica("a").engine_flags("--shutdown-timeout", "60").grace(grace)
        cluster.apply(a_service("llama", app="llama"), cut_short.obj(), replica("b").obj())
        url = serving(cluster, "a", "b")

        with (
            PodTimeline(cluster.core) as timeline,
            Traffic(url, steady(rate=10, seconds=1.5, output_tokens=3000), timeout=5) as traffic,
        ):
            _, deleted = delete_during_traffic(cluster, "a", after=0.6)
            records = traffic.records()

    failures = failed(records)
    in_flight_on_a = [r for r in records if r.pod == "a" and traffic.began_before(r, deleted)]
    assert failures, f"0 of {len(records)} failed:\n{summary(records)}"
    assert failures == in_flight_on_a, (
        f"{len(failures)} failed, {len(in_flight_on_a)} were in flight on a:\n{summary(records)}"
    )
    killed = deleted + grace / SPEED
    late = [
        f"{r.status} {traffic.ended_at(r) - killed:+.2f} s after SIGKILL"
        for r in failures
        if traffic.ended_after(r, killed + 0.5)
    ]
    assert not late, f"cut requests must fail when a is killed, not hang: {late}"
    assert requests_to_pods_not_serving(records, traffic.started, timeline) == []


def test_the_service_sends_nothing_to_a_replica_until_it_is_ready(tmp_path: Path) -> None:
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        cluster.apply(a_service("llama", app="llama"), replica("a").obj())
        url = serving(cluster, "a")

        with (
            PodTimeline(cluster.core) as timeline,
            Traffic(url, steady(rate=20, seconds=2.5, output_tokens=50)) as traffic,
        ):
            time.sleep(0.2)
            cluster.apply(replica("b").obj())
            records = traffic.records()

    failures = failed(records)
    assert not failures, f"{len(failures)} of {len(records)} failed:\n{summary(records)}"
    to_b = [r for r in records if r.pod == "b"]
    ready_at = timeline.first_serving("b")
    assert to_b and ready_at is not None, f"b served nothing:\n{summary(records)}"
    early = [r for r in to_b if traffic.started + r.start < ready_at - timeline.slack]
    assert not early, f"{len(early)} requests reached b before it was Ready"
    assert requests_to_pods_not_serving(records, traffic.started, timeline) == []


def idle(gauges: dict[str, float]) -> dict[str, float] | None:
    busy = gauges["vllm:num_requests_waiting"] or gauges["vllm:num_requests_running"]
    return None if busy else gauges


def test_the_queue_rises_under_a_burst_and_falls_back_to_zero(tmp_path: Path) -> None:
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        small_batches = replica("a").engine_flags("--max-num-seqs", "4")
        cluster.apply(a_service("llama", app="llama"), small_batches.obj())
        url = serving(cluster, "a")
        before = engine_gauges(url)

        seen: list[dict[str, float]] = []
        with Traffic(url, at_once(40, output_tokens=100)) as burst:
            while burst.running():
                seen.append(engine_gauges(url))
                time.sleep(0.02)
            records = burst.records()
        after = cluster.wait_until(lambda: idle(engine_gauges(url)), 5, "the queue empties")

    waiting = [g["vllm:num_requests_waiting"] for g in seen]
    running = [g["vllm:num_requests_running"] for g in seen]
    assert before["vllm:num_requests_waiting"] == 0
    assert max(waiting) >= 20, f"waiting during the burst: {waiting}"
    assert max(running) == 4, f"running during the burst: {running}"
    assert after["vllm:kv_cache_usage_perc"] == 0
    assert not failed(records), summary(records)

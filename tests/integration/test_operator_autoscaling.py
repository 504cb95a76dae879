"""The autoscaler end to end: the real operator process on the local cluster, with every
request recorded; spec.replicas follows the queue, explained in status and events."""

import asyncio
import itertools
import threading
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from llamaops.sim.traffic.client import Record
from llamaops.sim.traffic.lengths import Fixed
from llamaops.sim.traffic.plan import plan_requests
from llamaops.sim.traffic.run import run_traffic
from llamaops.sim.traffic.shapes import constant
from tests.integration.autoscaling_helpers import (
    INTERVAL,
    SPEED,
    TARGET,
    WINDOW,
    PhasedTraffic,
    ReplicasWatch,
    autoscaler_status,
    deploy_autoscaled,
    failed,
    spec_replicas,
)
from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import a_world, events_with_reason, wait_all_ready
from tests.integration.test_operator_endpoints import fetch, free_port


def test_a_step_in_load_scales_up_fast_and_back_down_after_the_window(tmp_path: Path) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, replicas=1, max_replicas=4)
        wait_all_ready(world, 1)
        with ReplicasWatch(world) as watch:
            with PhasedTraffic(world, [(3, 1), (12, 10)]) as load:
                scaled = world.wait_until(
                    lambda: watch.first_change_to_more_than(1), 20, "a scale-up"
                )
                crossed = watch.first_queue_above(TARGET * 1.1)
                assert crossed is not None, watch.queues
                assert scaled - crossed <= 2 * INTERVAL + 1.0, (crossed, scaled, watch.queues)
                records = load.records()
            ended = load.started + load.duration
            world.wait_until(lambda: spec_replicas(world) == 1, 60, "back to 1 replica")
            down = next(t for t, count in watch.changes if t > ended and count < 4)
        assert down - ended >= WINDOW - 1, (ended, watch.changes)
        assert failed(records) == [], failed(records)
        ups = events_with_reason(world, "ScaledUp")
        assert ups and "requests waiting on 1 ready replica" in ups[0]["message"], ups
        assert events_with_reason(world, "ScaledDown")
        wait_all_ready(world, 1)
        status = autoscaler_status(world)
        assert status["desiredReplicas"] == 1 and status["lastScaleTime"], status


def test_load_that_wobbles_by_ten_percent_changes_direction_at_most_once_a_window(
    tmp_path: Path,
) -> None:
    wobble = [(2.0, 5.4), (2.0, 6.6)] * 8  # ±10 % around 6 requests a second, for 32 s
    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, replicas=2, max_replicas=4)
        wait_all_ready(world, 2)
        with ReplicasWatch(world) as watch, PhasedTraffic(world, wobble) as load:
            records = load.records()
        assert failed(records) == [], failed(records)
        for start, _ in watch.changes:
            within = [c for c in watch.changes if start <= c[0] < start + WINDOW]
            turns = ReplicasWatch.turns([count for _, count in within])
            assert turns <= 1, f"{turns} direction changes within {WINDOW} s: {watch.changes}"


def test_an_operator_killed_mid_scale_up_neither_scales_twice_nor_shortens_the_window(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, replicas=1, max_replicas=3)
        wait_all_ready(world, 1)
        with ReplicasWatch(world) as watch:
            with PhasedTraffic(world, [(8, 10)]) as load:
                world.wait_until(lambda: watch.first_change_to_more_than(1), 20, "a scale-up")
                world.kill_operator()  # right after the scale write, while replicas load
                world.start_operator()
                records = load.records()
            ended = load.started + load.duration
            world.wait_until(lambda: spec_replicas(world) == 1, 60, "back to 1 replica")
        assert failed(records) == [], failed(records)
        ups = events_with_reason(world, "ScaledUp")
        rises = [b for (_, a), (_, b) in itertools.pairwise(watch.changes) if b > a]
        # Every ScaledUp Event is a rise that happened once (none written twice by the
        # restarted operator); the one Event the kill may cut off, between the scale write
        # and the Event post, is the only one allowed to be missing.
        targets = sorted(int(e["message"].split(" to ")[1].split(":")[0]) for e in ups)
        assert set(targets) <= set(rises) and len(targets) == len(set(targets)), (ups, rises)
        assert len(rises) - 1 <= len(ups) <= len(rises), (ups, watch.changes)
        down = next(t for t, count in watch.changes if t > ended and count < max(rises))
        assert down - ended >= WINDOW - 1, (ended, watch.changes)


def test_too_few_gpus_cap_the_scale_up_with_the_reason_and_no_pod_churn(tmp_path: Path) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        world.stop_operator()
        world.metrics_port = free_port()
        world.start_operator()
        deploy_autoscaled(world, replicas=1, max_replicas=6)  # 2 × 8 H100 hold 4 TP-4 replicas
        wait_all_ready(world, 1)
        with PhasedTraffic(world, [(25, 30)]) as load:
            world.wait_until(
                lambda: autoscaler_status(world).get("cappedBy") == "gpus", 30, "capped by GPUs"
            )
            status = autoscaler_status(world)
            assert "capped at 4 by free GPUs" in status["reason"], status
            assert spec_replicas(world) == 4
            wait_all_ready(world, 4, timeout=30)
            pods = {p["metadata"]["name"] for p in world.replica_pods("llama3-70b")}
            shown = world.kubectl("get", "llama").stdout.splitlines()
            header, row = shown[0].split(), shown[1].split()
            columns = dict(zip(header, row, strict=False))
            assert columns["DESIRED"] == "4" and int(columns["QUEUE"]) >= 0, shown
            world.wait_until(
                lambda: autoscaler_status(world).get("queueDepth", 0) > 0, 10, "a queue"
            )
            expect_no_churn(world, pods, seconds=3)
            gauges = operator_metrics(world.metrics_port)
            capped = [
                gauges[("llamaops_autoscaler_capped", tuple(sorted((*WHERE, ("limit", limit)))))]
                for limit in ("gpus", "maxReplicas")
            ]
            assert capped == [1, 0], "held by the GPUs, not by maxReplicas"
            assert gauges[("llamaops_autoscaler_desired_replicas", WHERE)] == 4
            assert gauges[("llamaops_autoscaler_queue_depth", WHERE)] >= 0
            assert gauges[
                (
                    "llamaops_autoscaler_scale_events_total",
                    tuple(sorted((*WHERE, ("direction", "up")))),
                )
            ]
            world.cluster.run(lambda: world.cluster.cluster.add_node("h100"))
            world.wait_until(
                lambda: (spec_replicas(world) or 0) > 4, 30, "more replicas on the new node"
            )
            load.finish()
        capped = [
            e
            for e in events_with_reason(world, "ScaledUp")
            + events_with_reason(world, "ScaleCapped")
            if "by free GPUs" in e["message"]
        ]
        assert len(capped) == 1, capped  # one Event for the cap, not one per decision


WHERE = (("deployment", "llama3-70b"), ("namespace", "default"))
MODEL = "meta-llama/Llama-3.1-70B-Instruct"


def operator_metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    _, text = fetch(f"http://127.0.0.1:{port}/metrics")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def autoscaling_off(world: OperatorWorld) -> None:
    patch = '{"spec": {"autoscaling": {"enabled": false}}}'
    world.kubectl("patch", "llama", "llama3-70b", "--type=merge", "-p", patch)


def autoscaler_series(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> list[str]:
    return [
        name
        for name, labels in metrics
        if name.startswith("llamaops_autoscaler") and set(WHERE) <= set(labels)
    ]


def expect_no_churn(world: object, pods: set[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = {p["metadata"]["name"] for p in world.replica_pods("llama3-70b")}  # type: ignore[attr-defined]
        assert now == pods, f"the replica pods changed while capped: {pods} -> {now}"
        time.sleep(0.2)


def test_kubectl_scale_lasts_until_the_next_decision_and_for_good_once_autoscaling_is_off(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        world.stop_operator()
        world.metrics_port = free_port()
        world.start_operator()
        deploy_autoscaled(world, replicas=1, max_replicas=4)
        wait_all_ready(world, 1)
        world.wait_until(
            lambda: autoscaler_status(world).get("desiredReplicas") == 1, 10, "a decision"
        )
        assert ("llamaops_autoscaler_desired_replicas", WHERE) in operator_metrics(
            world.metrics_port
        )
        world.kubectl("scale", "llama/llama3-70b", "--replicas=3")
        world.wait_until(lambda: spec_replicas(world) == 1, WINDOW + 10, "the autoscaler's 1 again")
        assert events_with_reason(world, "ScaledDown")

        autoscaling_off(world)
        world.wait_until(lambda: not autoscaler_status(world), 10, "status.autoscaler cleared")
        port = world.metrics_port
        world.wait_until(
            lambda: not autoscaler_series(operator_metrics(port)), 10, "autoscaler series gone"
        )
        world.kubectl("scale", "llama/llama3-70b", "--replicas=2")
        time.sleep(WINDOW + 2 * INTERVAL)
        assert spec_replicas(world) == 2
        wait_all_ready(world, 2)


def test_autoscaling_turned_off_while_no_operator_runs_leaves_no_stale_status(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, replicas=1, max_replicas=4)
        wait_all_ready(world, 1)
        world.wait_until(lambda: autoscaler_status(world).get("reason"), 10, "a decision")
        world.stop_operator()
        autoscaling_off(world)
        world.start_operator()
        world.wait_until(lambda: not autoscaler_status(world), 20, "status.autoscaler cleared")


def test_a_scale_down_drains_the_least_loaded_replica(tmp_path: Path) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, replicas=2, max_replicas=2)
        wait_all_ready(world, 2)
        busy, idle = sorted(world.replica_pods("llama3-70b"), key=lambda p: p["metadata"]["name"])
        ip = busy["status"]["podIP"]
        plan = plan_requests(constant(1, 1), Fixed(16), Fixed(6000))  # one long answer
        done: list[Record] = []
        long = threading.Thread(
            target=lambda: done.extend(
                asyncio.run(
                    run_traffic(f"http://{ip}:8000", plan, model=MODEL, timeout=WINDOW + 60)
                )
            )
        )
        long.start()
        world.wait_until(lambda: spec_replicas(world) == 1, WINDOW + 20, "a scale-down to 1")
        world.wait_until(lambda: events_with_reason(world, "DrainStarted"), 10, "a drain to start")
        (drain,) = events_with_reason(world, "DrainStarted")
        assert idle["metadata"]["name"] in drain["message"], drain
        long.join(timeout=WINDOW + 60)
        assert [r.ok for r in done] == [True], done

"""Checkpoint rollouts end to end: the real operator process on the local cluster, with
every request recorded. A new revision replaces each replica through a warmed-up canary
without a failed request; a checkpoint that fails halts with the old replicas serving."""

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from llamaops.sim.traffic.client import Record
from tests.integration.cluster_helpers import is_ready
from tests.integration.operator_harness import LLAMAOPS, OperatorWorld
from tests.integration.operator_helpers import (
    LLAMA_70B,
    NAME,
    Traffic,
    Watch,
    a_world,
    crash_engine,
    events_with_reason,
    failures,
    wait_all_ready,
)

ROLLOUT_CLUSTER = "e2e/clusters/h100-3x8-rollout.yaml"
CHECKPOINT = "serving.llamaops.io/checkpoint"
TEMPLATE = "serving.llamaops.io/template-hash"


def deploy_on(
    world: OperatorWorld,
    revision: str,
    replicas: int,
    canary: dict[str, Any] | None = None,
    **rollout: Any,
) -> None:
    """`kubectl apply` of the 70B manifest on an hf:// checkpoint at `revision`, with
    `canary` as spec.rollout.canary and `rollout` in spec.rollout."""
    manifest = yaml.safe_load(LLAMA_70B.read_text())
    manifest["spec"]["replicas"] = replicas
    manifest["spec"]["rollout"].update(rollout)
    if canary is not None:
        manifest["spec"]["rollout"]["canary"] = canary
    manifest["spec"]["model"]["checkpoint"] = {
        "uri": "hf://meta-llama/Llama-3.1-70B-Instruct",
        "revision": revision,
    }
    path = world.log.parent / f"llama-{revision}.json"
    path.write_text(json.dumps(manifest))
    world.kubectl("apply", "-f", str(path))


def roll_to(world: OperatorWorld, revision: str) -> None:
    patch = {"spec": {"model": {"checkpoint": {"revision": revision}}}}
    world.kubectl("patch", "llama", NAME, "--type=merge", "-p", json.dumps(patch))


class ServingWatch(Watch):
    """Polls the Service's ready addresses: the fewest seen, and each pod's template."""

    def __init__(self, world: OperatorWorld) -> None:
        self.fewest: int | None = None
        super().__init__(world)

    def _poll(self) -> None:
        while not self._stopped.is_set():
            endpoints = self.world.cluster.get("endpoints", "default", self.name) or {}
            count = sum(len(s.get("addresses") or []) for s in endpoints.get("subsets") or [])
            self.fewest = count if self.fewest is None else min(self.fewest, count)
            time.sleep(0.05)


def rollout_cli(world: OperatorWorld, *args: str) -> subprocess.CompletedProcess[str]:
    """`llamaops rollout ...` against the local cluster, as a user runs it."""
    kubeconfig = ["--kubeconfig", str(world.cluster.kubeconfig)]
    command = [str(LLAMAOPS), "rollout", *args, NAME, *kubeconfig]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def halted_under_load(
    world: OperatorWorld, revision: str, rate: float, seconds: float, wait: float
) -> tuple[dict[str, Any], list[Record]]:
    """Roll to `revision` under traffic until the rollout halts and only the replicas from
    before are left. Returns status.checkpoint.failed and the records."""
    old = replica_names(world)
    with Traffic(world, rate=rate, seconds=seconds, tokens=16) as load:
        roll_to(world, revision)
        world.wait_until(lambda: failed_checkpoint(world), wait, "a failure")
        world.wait_until(lambda: replica_names(world) == old, 20, "only the old replicas left")
        records = load.finish()
    return failed_checkpoint(world) or {}, records


def checkpoint_column(world: OperatorWorld) -> str:
    """The CHECKPOINT column of `kubectl get llama`, as a person reads it."""
    printed = world.kubectl(
        "get", "llama", NAME, "-o", "custom-columns=C:.status.checkpoint.summary"
    )
    return printed.stdout.splitlines()[-1].strip()


def failed_checkpoint(world: OperatorWorld) -> dict[str, Any] | None:
    return (status(world).get("checkpoint") or {}).get("failed")


def replica_names(world: OperatorWorld) -> set[str]:
    return {p["metadata"]["name"] for p in world.replica_pods(NAME)}


def templates(world: OperatorWorld) -> set[str]:
    return {p["metadata"]["labels"][TEMPLATE] for p in world.replica_pods(NAME)}


def status(world: OperatorWorld) -> dict[str, Any]:
    return dict((world.llama(NAME) or {}).get("status") or {})


def progressing(world: OperatorWorld) -> dict[str, Any]:
    found = [c for c in status(world).get("conditions", []) if c["type"] == "Progressing"]
    return found[0] if found else {}


def test_a_new_revision_rolls_every_replica_under_load_with_none_failed(tmp_path: Path) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=4)
        wait_all_ready(world, 4)
        (before,) = templates(world)
        with ServingWatch(world) as watch, Traffic(world, rate=6, seconds=40, tokens=32) as load:
            time.sleep(2)
            roll_to(world, "b2")
            world.wait_until(
                lambda: checkpoint_column(world) == "a1 -> b2", 10, "CHECKPOINT a1 -> b2"
            )
            world.wait_until(
                lambda: len(templates(world) - {before}) == 1 and before not in templates(world),
                60,
                "every replica on the new template",
            )
            wait_all_ready(world, 4)
            records = load.finish()
        assert failures(records) == [], failures(records)
        assert watch.fewest is not None and watch.fewest >= 4, watch.fewest
        served = {r.pod for r in records if r.ok}
        assert len(served) >= 5, f"old and new replicas served: {served}"
        world.wait_until(
            lambda: progressing(world).get("reason") == "Complete", 10, "Progressing Complete"
        )
        assert status(world)["updatedReplicas"] == 4
        shown = world.kubectl("get", "llama", NAME).stdout.splitlines()
        assert shown[0].split()[-2:] == ["CHECKPOINT", "AGE"] and shown[1].split()[-2] == "b2"
        assert len(events_with_reason(world, "DrainStarted")) == 4
        done = rollout_cli(world, "status", "--timeout", "20")
        assert done.returncode == 0 and "successfully rolled out" in done.stdout, done
        checkpoint = status(world)["checkpoint"]
        assert checkpoint["rolledOut"]["revision"] == "b2", checkpoint
        assert checkpoint["previous"]["revision"] == "a1", checkpoint


def test_a_revision_that_fails_its_warm_up_halts_with_the_old_replicas_serving(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=2)
        wait_all_ready(world, 2)
        old = replica_names(world)
        failed, records = halted_under_load(world, "erroring", rate=4, seconds=15, wait=30)
        assert failed["reason"] == "WarmupFailed" and failed["revision"] == "erroring", failed
        assert "HTTP 500" in failed["message"], failed
        assert failures(records) == [], failures(records)
        assert progressing(world)["status"] == "False", progressing(world)
        halts = events_with_reason(world, "RolloutFailed")
        assert halts and all(e["source"]["component"] == "llamaops" for e in halts), halts
        halted = rollout_cli(world, "status", "--timeout", "20")
        assert halted.returncode == 1 and "rollout halted" in halted.stdout, halted
        time.sleep(3)
        assert replica_names(world) == old, "not retried"
        undo = rollout_cli(world, "undo")
        assert undo.returncode == 1 and "no previous checkpoint" in undo.stdout, undo
        roll_to(world, "a1")
        world.wait_until(lambda: not failed_checkpoint(world), 10, "the failure cleared")


def test_a_revision_that_cannot_load_halts_with_the_old_replicas_serving(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=2)
        wait_all_ready(world, 2)
        failed, records = halted_under_load(world, "bad", rate=4, seconds=10, wait=60)
        assert failed["reason"] == "ReplicaCrashLooping", failed
        assert failures(records) == [], failures(records)
        wait_all_ready(world, 2)


def test_no_room_for_a_surge_replica_blocks_until_one_may_be_replaced_in_place(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path) as world:  # 2 × 8 H100: 4 TP-4 replicas fill it
        deploy_on(world, "a1", replicas=4)
        wait_all_ready(world, 4)
        (before,) = templates(world)
        roll_to(world, "b2")
        world.wait_until(
            lambda: progressing(world).get("reason") == "RolloutBlocked", 10, "RolloutBlocked"
        )
        message = progressing(world)["message"]
        assert "a surge replica needs 4 free NVIDIA-H100-80GB-HBM3 GPUs, 0 are free" in message
        assert "set rollout.maxUnavailable to 1 to replace in place" in message
        assert templates(world) == {before}
        with ServingWatch(world) as watch, Traffic(world, rate=4, seconds=20, tokens=16) as load:
            patch = {"spec": {"rollout": {"maxUnavailable": 1}}}
            world.kubectl("patch", "llama", NAME, "--type=merge", "-p", json.dumps(patch))
            world.wait_until(
                lambda: before not in templates(world) and len(templates(world)) == 1,
                60,
                "every replica replaced in place",
            )
            wait_all_ready(world, 4)
            records = load.finish()
        assert failures(records) == [], failures(records)
        assert watch.fewest is not None and watch.fewest >= 3, watch.fewest


def test_the_restart_annotation_replaces_every_replica_with_none_failed(tmp_path: Path) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=2)
        wait_all_ready(world, 2)
        old = replica_names(world)
        with Traffic(world, rate=4, seconds=15, tokens=16) as load:
            world.kubectl(
                "annotate", "llama", NAME, "serving.llamaops.io/restartedAt=2026-12-04T20:00:00Z"
            )
            world.wait_until(
                lambda: not old & replica_names(world),
                40,
                "every replica replaced",
            )
            wait_all_ready(world, 2)
            records = load.finish()
        assert failures(records) == [], failures(records)


ANALYSIS = {"analysisSeconds": 5, "minRequests": 8}


def test_a_slower_revision_fails_its_canary_analysis_with_the_old_replicas_serving(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=2, canary=ANALYSIS)
        wait_all_ready(world, 2)
        failed, records = halted_under_load(world, "slower", rate=6, seconds=25, wait=40)
        assert failed["reason"] == "CanaryRegressed", failed
        assert "canary TTFT p90" in failed["message"], failed
        assert failures(records) == [], failures(records)


def test_a_revision_as_good_as_the_old_one_passes_its_canary_analysis_and_rolls_out(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=2, canary=ANALYSIS)
        wait_all_ready(world, 2)
        (before,) = templates(world)
        with Traffic(world, rate=6, seconds=30, tokens=16) as load:
            roll_to(world, "b2")
            world.wait_until(
                lambda: before not in templates(world) and len(templates(world)) == 1,
                40,
                "every replica on the new template",
            )
            wait_all_ready(world, 2)
            records = load.finish()
        assert failures(records) == [], failures(records)
        (passed,) = events_with_reason(world, "CanaryPassed")
        assert "canary passed" in passed["message"], passed


def test_a_failure_after_the_canary_passed_rolls_back_with_none_failed(tmp_path: Path) -> None:
    with a_world(tmp_path, speed=10, cluster_file=ROLLOUT_CLUSTER) as world:
        deploy_on(world, "a1", replicas=3)
        wait_all_ready(world, 3)
        (good,) = templates(world)
        with Traffic(world, rate=6, seconds=40, tokens=16) as load:
            roll_to(world, "b2")
            second = world.wait_until(
                lambda: a_second_new_replica_loading(world, good), 40, "a second new replica"
            )
            crash_engine(world, second)  # it crash-loops: the rollout fails after its canary
            world.wait_until(lambda: failed_checkpoint(world), 30, "a failure")
            world.wait_until(
                lambda: templates(world) == {good}, 60, "all back on the good template"
            )
            wait_all_ready(world, 3)
            records = load.finish()
        assert failures(records) == [], failures(records)
        assert "rolled back to rev a1" in progressing(world)["message"], progressing(world)
        assert status(world)["checkpoint"]["failed"]["reason"] == "ReplicaCrashLooping"
        drains = [e["message"] for e in events_with_reason(world, "DrainStarted")]
        assert any(m.endswith(": rolled back to rev a1") for m in drains), drains


def a_second_new_replica_loading(world: OperatorWorld, old_template: str) -> dict[str, Any] | None:
    """A replica on the new template, not ready, while another new one already serves."""
    new = [p for p in world.replica_pods(NAME) if p["metadata"]["labels"][TEMPLATE] != old_template]
    serving = [
        p for p in new if p["metadata"]["labels"].get("serving.llamaops.io/serving") == "true"
    ]
    loading = [
        p
        for p in new
        if not is_ready(p) and world.cluster.cluster.runtime.engine_of(p["metadata"]["uid"])
    ]
    return loading[0] if serving and loading else None


def test_a_revision_never_ready_in_time_halts_at_the_readiness_timeout(tmp_path: Path) -> None:
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER) as world:
        # 60 s: the startup probe (cluster time) must let a good 70B load; the operator's
        # deadline runs on the wall clock.
        deploy_on(world, "a1", replicas=2, readinessTimeoutSeconds=60)
        wait_all_ready(world, 2)
        old = replica_names(world)
        started = time.monotonic()
        roll_to(world, "never")
        world.wait_until(lambda: failed_checkpoint(world), 80, "a failure")
        took = time.monotonic() - started
        failed = status(world)["checkpoint"]["failed"]
        # The startup probe gives up at the same deadline (in cluster time, sooner here),
        # and the kubelet restarts the engine: it reads as a crash loop, or as late.
        assert failed["reason"] in ("ProgressDeadlineExceeded", "ReplicaCrashLooping"), failed
        assert took <= 60 + 15, took  # within the deadline, plus one look
        world.wait_until(lambda: replica_names(world) == old, 20, "only the old replicas left")

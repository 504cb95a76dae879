"""Table responses for Pods: the columns and cells kube-apiserver sends kubectl."""

from typing import Any

import pytest

from tests.unit.sim.table_builders import RESOURCES, Obj, ago, cells, created, rows


# --- Pods -------------------------------------------------------------------------------
def a_pod(status: Obj | None = None, **spec: Any) -> Obj:
    spec.setdefault("containers", [{"name": "vllm", "image": "vllm/vllm-openai:v0.6.3"}])
    return created(
        {
            "metadata": {"name": "llama-0", "namespace": "default"},
            "spec": spec,
            "status": status or {},
        },
        hours=1,
    )


def with_container(
    state: Obj,
    *,
    phase: str = "Running",
    ready: bool = False,
    restarts: int = 0,
    last_state: Obj | None = None,
) -> Obj:
    return {
        "phase": phase,
        "containerStatuses": [
            {
                "name": "vllm",
                "state": state,
                "ready": ready,
                "restartCount": restarts,
                "lastState": last_state or {},
            }
        ],
    }


CRASHED_2M_AGO = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(minutes=2)}}


@pytest.mark.parametrize(
    ("pod", "ready", "status", "restarts"),
    [
        (a_pod({"phase": "Pending"}), "0/1", "Pending", "0"),
        (
            a_pod(with_container({"waiting": {"reason": "ContainerCreating"}}, phase="Pending")),
            "0/1",
            "ContainerCreating",
            "0",
        ),
        (a_pod(with_container({"running": {}}, ready=True)), "1/1", "Running", "0"),
        (a_pod(with_container({"running": {}})), "0/1", "Running", "0"),
        (
            a_pod(
                with_container(
                    {"waiting": {"reason": "CrashLoopBackOff"}},
                    restarts=5,
                    last_state=CRASHED_2M_AGO,
                )
            ),
            "0/1",
            "CrashLoopBackOff",
            "5 (2m ago)",
        ),
        (
            a_pod(with_container({"terminated": {"exitCode": 137, "reason": "OOMKilled"}})),
            "0/1",
            "OOMKilled",
            "0",
        ),
        (a_pod(with_container({"terminated": {"exitCode": 137}})), "0/1", "ExitCode:137", "0"),
        (
            a_pod(with_container({"terminated": {"exitCode": 0, "signal": 9}})),
            "0/1",
            "Signal:9",
            "0",
        ),
        (
            a_pod(
                with_container(
                    {"terminated": {"exitCode": 0, "reason": "Completed"}}, phase="Succeeded"
                )
            ),
            "0/1",
            "Completed",
            "0",
        ),
        (a_pod({"phase": "Failed", "reason": "Evicted"}), "0/1", "Evicted", "0"),
        (
            a_pod(
                {
                    "phase": "Pending",
                    "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                    ],
                }
            ),
            "0/1",
            "SchedulingGated",
            "0",
        ),
    ],
    ids=[
        "pending",
        "container-creating",
        "running-ready",
        "running-not-ready",
        "crash-loop",
        "oom-killed",
        "exit-code",
        "signal",
        "completed",
        "evicted",
        "scheduling-gated",
    ],
)
def test_a_pods_ready_status_and_restarts_read_as_kubectl_shows_them(
    pod: Obj, ready: str, status: str, restarts: str
) -> None:
    name, *shown, age, _ip, _node, _nominated, _gates = cells(RESOURCES["Pod"], pod)

    assert (name, shown, age) == ("llama-0", [ready, status, restarts], "60m")


def deleting(pod: Obj) -> Obj:
    pod["metadata"]["deletionTimestamp"] = ago(seconds=10)
    return pod


@pytest.mark.parametrize(
    ("pod", "status"),
    [
        (deleting(a_pod(with_container({"running": {}}, ready=True))), "Terminating"),
        (deleting(a_pod({"phase": "Running", "reason": "NodeLost"})), "Unknown"),
        (deleting(a_pod({"phase": "Succeeded"})), "Succeeded"),
    ],
    ids=["running", "node-lost", "already-finished"],
)
def test_a_pod_being_deleted_shows_terminating_unless_finished_or_lost(
    pod: Obj, status: str
) -> None:
    assert cells(RESOURCES["Pod"], pod)[2] == status


def init_status(state: Obj) -> Obj:
    return {
        "phase": "Pending",
        "initContainerStatuses": [
            {"name": "fetch", "state": state, "ready": False, "restartCount": 0}
        ],
        "containerStatuses": [
            {
                "name": "vllm",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
    }


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ({"running": {}}, "Init:0/1"),
        ({"waiting": {"reason": "PodInitializing"}}, "Init:0/1"),
        ({"waiting": {"reason": "ImagePullBackOff"}}, "Init:ImagePullBackOff"),
        ({"terminated": {"exitCode": 1, "reason": "Error"}}, "Init:Error"),
        ({"terminated": {"exitCode": 2}}, "Init:ExitCode:2"),
        ({"terminated": {"exitCode": 0, "reason": "Completed"}}, "PodInitializing"),
    ],
)
def test_a_pod_still_initializing_shows_its_init_container(state: Obj, status: str) -> None:
    pod = a_pod(init_status(state), initContainers=[{"name": "fetch", "image": "busybox"}])

    assert cells(RESOURCES["Pod"], pod)[2] == status


def test_a_ready_sidecar_counts_as_a_ready_container() -> None:
    status = with_container({"running": {}}, ready=True)
    status["initContainerStatuses"] = [
        {
            "name": "proxy",
            "state": {"running": {}},
            "ready": True,
            "started": True,
            "restartCount": 1,
        }
    ]
    pod = a_pod(status, initContainers=[{"name": "proxy", "restartPolicy": "Always"}])

    assert cells(RESOURCES["Pod"], pod)[1:4] == ["2/2", "Running", "1"]


def test_the_wide_pod_columns_show_ip_node_and_readiness_gates() -> None:
    status = with_container({"running": {}}, ready=True)
    status.update(
        podIPs=[{"ip": "10.244.0.7"}], conditions=[{"type": "llamaops.io/warm", "status": "True"}]
    )
    pod = a_pod(
        status,
        nodeName="h100-0",
        readinessGates=[
            {"conditionType": "llamaops.io/warm"},
            {"conditionType": "llamaops.io/loaded"},
        ],
    )

    assert cells(RESOURCES["Pod"], pod)[5:] == ["10.244.0.7", "h100-0", "<none>", "1/2"]


def test_an_unscheduled_pod_shows_none_in_the_wide_columns() -> None:
    assert cells(RESOURCES["Pod"], a_pod({"phase": "Pending"}))[5:] == ["<none>"] * 4


@pytest.mark.parametrize(
    ("phase", "conditions"),
    [
        (
            "Succeeded",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Succeeded",
                    "message": "The pod has completed successfully.",
                }
            ],
        ),
        (
            "Failed",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Failed",
                    "message": "The pod failed.",
                }
            ],
        ),
        ("Running", None),
    ],
)
def test_rows_of_finished_pods_carry_a_completed_condition(
    phase: str, conditions: list[Obj] | None
) -> None:
    (row,) = rows(RESOURCES["Pod"], a_pod({"phase": phase}))

    assert row.get("conditions") == conditions

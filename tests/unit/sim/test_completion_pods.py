"""Pods come back completed as kube-apiserver returns them: the server's defaults,
tolerations, priority, QoS class and status.
"""

from typing import Any

import pytest

from llamaops.sim.apiserver.pod_defaults import default_tolerations, image_pull_policy, qos_class
from tests.unit.sim.completion_builders import Obj, completed, container, pod

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


# --- Pod --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "default"),
    [
        ("restartPolicy", "Always"),
        ("dnsPolicy", "ClusterFirst"),
        ("schedulerName", "default-scheduler"),
        ("terminationGracePeriodSeconds", 30),
        ("securityContext", {}),
        ("enableServiceLinks", True),
        ("serviceAccountName", "default"),
        ("priority", 0),
        ("preemptionPolicy", "PreemptLowerPriority"),
    ],
)
def test_a_pod_spec_gets_the_servers_defaults(field: str, default: Any) -> None:
    assert completed("Pod", pod())["spec"][field] == default


def test_what_the_user_wrote_in_a_pod_spec_is_kept() -> None:
    spec = completed("Pod", pod(restartPolicy="Never", terminationGracePeriodSeconds=5))["spec"]

    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"]) == ("Never", 5)


@pytest.mark.parametrize(
    ("field", "default"),
    [
        ("terminationMessagePath", "/dev/termination-log"),
        ("terminationMessagePolicy", "File"),
        ("imagePullPolicy", "IfNotPresent"),
        ("resources", {}),
    ],
)
def test_a_container_gets_the_servers_defaults(field: str, default: Any) -> None:
    assert completed("Pod", pod())["spec"]["containers"][0][field] == default


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("vllm/vllm-openai:v0.6.3", "IfNotPresent"),
        ("registry.local:5000/vllm", "Always"),
        ("registry.local:5000/vllm:v1", "IfNotPresent"),
        ("nginx@sha256:0123456789abcdef", "IfNotPresent"),
        ("nginx:latest@sha256:0123456789abcdef", "Always"),
    ],
)
def test_the_pull_policy_is_always_only_for_the_latest_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_requests_default_to_limits_and_keep_what_was_asked() -> None:
    asked = container(
        resources={"limits": {"cpu": "4", "nvidia.com/gpu": "1"}, "requests": {"cpu": "2"}}
    )

    resources = completed("Pod", pod(asked))["spec"]["containers"][0]["resources"]

    assert resources["requests"] == {"cpu": "2", "nvidia.com/gpu": "1"}


def test_ports_get_tcp_and_host_network_pods_get_host_ports() -> None:
    body = pod(container(ports=[{"containerPort": 8000}]), hostNetwork=True)

    (port,) = completed("Pod", body)["spec"]["containers"][0]["ports"]

    assert port == {"containerPort": 8000, "protocol": "TCP", "hostPort": 8000}


def test_probes_get_their_timings_and_http_defaults() -> None:
    body = pod(container(readinessProbe={"httpGet": {"port": 8000}}))

    probe = completed("Pod", body)["spec"]["containers"][0]["readinessProbe"]

    assert probe == {
        "httpGet": {"port": 8000, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def test_volumes_without_a_source_are_empty_dirs_and_secrets_get_a_mode() -> None:
    body = pod(volumes=[{"name": "cache"}, {"name": "token", "secret": {"secretName": "hf"}}])

    cache, token = completed("Pod", body)["spec"]["volumes"]

    assert cache == {"name": "cache", "emptyDir": {}}
    assert token["secret"]["defaultMode"] == 0o644


@pytest.mark.parametrize(
    ("given", "added"),
    [
        ([], [NOT_READY, UNREACHABLE]),
        (
            [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            [NOT_READY, UNREACHABLE],
        ),
        (
            [
                {
                    "key": NOT_READY,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 5,
                }
            ],
            [UNREACHABLE],
        ),
        ([{"key": UNREACHABLE, "operator": "Exists"}], [NOT_READY]),
        ([{"operator": "Exists"}], []),
    ],
    ids=["none", "gpu-only", "own-not-ready", "own-unreachable-any-effect", "tolerates-all"],
)
def test_pods_tolerate_unready_nodes_for_five_minutes_unless_they_say_otherwise(
    given: list[Obj], added: list[str]
) -> None:
    tolerations = default_tolerations(given)

    assert tolerations[: len(given)] == given
    assert [t["key"] for t in tolerations[len(given) :]] == added
    assert all(t["tolerationSeconds"] == 300 for t in tolerations[len(given) :])


@pytest.mark.parametrize(
    ("class_name", "priority"),
    [("", 0), ("system-node-critical", 2000001000), ("llm-serving", None)],
)
def test_priority_comes_from_the_class_when_the_server_knows_it(
    class_name: str, priority: int | None
) -> None:
    spec = completed("Pod", pod(priorityClassName=class_name))["spec"]

    assert spec.get("priority") == priority


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ([{}], "BestEffort"),
        ([{"limits": {"nvidia.com/gpu": "1"}}], "BestEffort"),
        ([{"limits": {"cpu": "2", "memory": "8Gi"}}], "Guaranteed"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m"}}], "Guaranteed"),
        ([{"limits": {"cpu": "2", "memory": "8Gi"}, "requests": {"cpu": "1"}}], "Burstable"),
        ([{"requests": {"memory": "1Gi"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
    ],
    ids=[
        "nothing",
        "gpus-only",
        "limits",
        "equal-in-other-units",
        "less-requested",
        "requests-only",
        "one-container-without",
    ],
)
def test_the_qos_class_follows_cpu_and_memory(resources: list[Obj], qos: str) -> None:
    containers = [container(name=f"c{i}", resources=r) for i, r in enumerate(resources)]

    assert completed("Pod", pod(*containers))["status"]["qosClass"] == qos


def test_qos_class_reads_a_spec_whose_requests_are_already_defaulted() -> None:
    spec = {
        "containers": [
            {
                "resources": {
                    "limits": {"cpu": "1", "memory": "1Gi"},
                    "requests": {"cpu": "1", "memory": "1Gi"},
                }
            }
        ]
    }

    assert qos_class(spec) == "Guaranteed"


@pytest.mark.parametrize(
    ("status", "pod_ip", "pod_ips"),
    [
        ({"podIP": "10.0.0.1"}, "10.0.0.1", [{"ip": "10.0.0.1"}]),
        (
            {"podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]},
            "10.0.0.1",
            [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
        ),
        ({"podIP": "10.0.0.2", "podIPs": [{"ip": "10.0.0.1"}]}, "10.0.0.2", [{"ip": "10.0.0.2"}]),
    ],
    ids=["single-only", "list-only", "disagreeing"],
)
def test_pod_ip_and_pod_ips_agree_with_the_single_field_winning(
    status: Obj, pod_ip: str, pod_ips: list[Obj]
) -> None:
    result = completed("Pod", {**pod(), "status": status})["status"]

    assert (result["podIP"], result["podIPs"]) == (pod_ip, pod_ips)


def test_a_new_pod_is_pending_and_its_conditions_carry_null_times() -> None:
    body = {**pod(), "status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}

    status = completed("Pod", body)["status"]

    assert status["phase"] == "Pending"
    assert status["conditions"][0] == {
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": None,
    }


def test_container_statuses_get_go_zero_values_and_the_spec_image() -> None:
    body = {
        **pod(),
        "status": {
            "containerStatuses": [
                {"name": "vllm", "lastState": {"terminated": {"reason": "OOMKilled"}}}
            ]
        },
    }

    (status,) = completed("Pod", body)["status"]["containerStatuses"]

    assert status == {
        "name": "vllm",
        "image": "vllm/vllm-openai:v0.6.3",
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "state": {},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 0}},
    }

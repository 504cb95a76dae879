"""Table responses: the columns and cells kube-apiserver sends kubectl for `get`."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llamaops.sim.apiserver.columns import human_duration, since
from llamaops.sim.apiserver.resources import BUILTINS, ResourceType
from llamaops.sim.apiserver.tables import table
from tests.builders import a_deployment, gpu_node

Obj = dict[str, Any]
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
RESOURCES = {resource.kind: resource for resource in BUILTINS}
H100 = "NVIDIA-H100-80GB-HBM3"


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def created(body: Obj, **delta: float) -> Obj:
    body.setdefault("metadata", {})["creationTimestamp"] = ago(**delta)
    return body


def llama_deployments(crd: Obj) -> ResourceType:
    """The LlamaDeployment resource as the registry builds it from the CRD."""
    version = crd["spec"]["versions"][0]
    names = crd["spec"]["names"]
    return ResourceType(
        crd["spec"]["group"],
        version["name"],
        names["kind"],
        names["plural"],
        namespaced=True,
        builtin=False,
        subresources=("status", "scale"),
        printer_columns=tuple(version["additionalPrinterColumns"]),
    )


def custom(*printer_columns: Obj) -> ResourceType:
    return ResourceType(
        "example.com",
        "v1",
        "Widget",
        "widgets",
        True,
        builtin=False,
        printer_columns=printer_columns,
    )


def rows(resource: ResourceType, *objects: Obj, include_object: str = "Metadata") -> list[Obj]:
    result: list[Obj] = table(resource, list(objects), "7", include_object=include_object, now=NOW)[
        "rows"
    ]
    return result


def cells(resource: ResourceType, body: Obj) -> list[Any]:
    (row,) = rows(resource, body)
    return list(row["cells"])


def by_column(resource: ResourceType, body: Obj) -> dict[str, Any]:
    columns = table(resource, [], "7", now=NOW)["columnDefinitions"]
    return dict(zip([c["name"] for c in columns], cells(resource, body), strict=True))


# --- the envelope and includeObject -----------------------------------------------------
def test_a_table_is_a_meta_v1_table_at_the_given_resource_version() -> None:
    result = table(RESOURCES["ConfigMap"], [], "7", now=NOW)

    assert {k: result[k] for k in ("kind", "apiVersion", "metadata", "rows")} == {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "7"},
        "rows": [],
    }


def test_every_column_definition_carries_the_five_fields() -> None:
    for resource in BUILTINS:
        for definition in table(resource, [], "1", now=NOW)["columnDefinitions"]:
            assert set(definition) == {"name", "type", "format", "description", "priority"}


CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "default", "resourceVersion": "5"},
    "data": {"a": "1"},
}


@pytest.mark.parametrize(
    ("include_object", "included"),
    [
        ("None", None),
        (
            "Metadata",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": CONFIG_MAP["metadata"],
            },
        ),
        (
            "",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": CONFIG_MAP["metadata"],
            },
        ),
        ("Object", CONFIG_MAP),
    ],
    ids=["None", "Metadata", "unset", "Object"],
)
def test_each_row_includes_the_object_as_include_object_asks(
    include_object: str, included: Obj | None
) -> None:
    (row,) = rows(RESOURCES["ConfigMap"], CONFIG_MAP, include_object=include_object)

    assert row["object"] == included


def test_an_unknown_include_object_is_refused() -> None:
    with pytest.raises(ValueError, match='unrecognized includeObject value: "All"'):
        table(RESOURCES["ConfigMap"], [CONFIG_MAP], "7", include_object="All", now=NOW)


def test_a_full_object_row_names_its_kind_even_if_the_stored_object_does_not() -> None:
    body = {"metadata": {"name": "cfg"}}

    (row,) = rows(RESOURCES["ConfigMap"], body, include_object="Object")

    assert row["object"] == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}


# --- ages: duration.HumanDuration --------------------------------------------------------
@pytest.mark.parametrize(
    ("elapsed", "shown"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-2), "<invalid>"),
        (timedelta(seconds=-1.5), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=5, seconds=30), "5m30s"),
        (timedelta(minutes=9, seconds=59), "9m59s"),
        (timedelta(minutes=10, seconds=30), "10m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=3, minutes=5), "3h5m"),
        (timedelta(hours=8, minutes=30), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(hours=49), "2d1h"),
        (timedelta(days=7, hours=23), "7d23h"),
        (timedelta(days=8, hours=2), "8d"),
        (timedelta(days=367), "367d"),
        (timedelta(days=365 * 2, hours=25), "2y1d"),
        (timedelta(days=365 * 3), "3y"),
        (timedelta(days=365 * 8, hours=2), "8y"),
    ],
)
def test_ages_are_shown_as_kubernetes_human_durations(elapsed: timedelta, shown: str) -> None:
    assert human_duration(elapsed) == shown


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        (ago(minutes=5), "5m"),
        ("2025-06-01T11:55:00.123456Z", "4m59s"),
        ("2025-06-01T13:55:00+02:00", "5m"),
        (None, "<unknown>"),
        ("yesterday", "<unknown>"),
    ],
)
def test_a_timestamp_is_aged_from_now(timestamp: Any, shown: str) -> None:
    assert since(timestamp, NOW) == shown


# --- custom resources: additionalPrinterColumns -----------------------------------------
def test_a_llama_deployment_has_name_then_the_crds_printer_columns(crd: Obj) -> None:
    printer_columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]

    definitions = table(llama_deployments(crd), [], "1", now=NOW)["columnDefinitions"]

    assert [(c["name"], c["type"]) for c in definitions] == [("Name", "string")] + [
        (c["name"], c["type"]) for c in printer_columns
    ]
    assert definitions[0]["format"] == "name"
    assert [c["description"] for c in definitions[1:]] == [
        c.get("description")
        or f"Custom resource definition column (in JSONPath format): {c['jsonPath']}"
        for c in printer_columns
    ]


def test_a_running_llama_deployment_shows_its_status_in_the_columns(crd: Obj) -> None:
    body = created(a_deployment("llama3-70b").model("llama3.1-70b-instruct").obj(), minutes=5)
    body["status"] = {
        "placement": {"gpuProduct": H100, "tensorParallelSize": 4},
        "readyReplicas": 2,
        "desiredReplicas": 3,
        "autoscaler": {"queueDepth": 7},
        "checkpoint": {"current": "rev-1"},
    }

    assert by_column(llama_deployments(crd), body) == {
        "Name": "llama3-70b",
        "Model": "llama3.1-70b-instruct",
        "GPU": H100,
        "TP": 4,
        "Ready": 2,
        "Desired": 3,
        "Queue": 7,
        "Checkpoint": "rev-1",
        "Age": "5m",
    }


def test_a_new_llama_deployment_shows_null_cells_until_it_has_a_status(crd: Obj) -> None:
    body = created(a_deployment("llama3-8b").obj(), days=2, hours=3)

    shown = by_column(llama_deployments(crd), body)

    assert shown["Model"] == "llama3.1-8b-instruct"
    assert shown["Age"] == "2d3h"
    assert {k: v for k, v in shown.items() if k not in ("Name", "Model", "Age")} == {
        "GPU": None,
        "TP": None,
        "Ready": None,
        "Desired": None,
        "Queue": None,
        "Checkpoint": None,
    }


def test_a_custom_resource_without_printer_columns_shows_name_and_age() -> None:
    result = table(custom(), [created({"metadata": {"name": "w"}}, days=3)], "1", now=NOW)

    assert [(c["name"], c["type"]) for c in result["columnDefinitions"]] == [
        ("Name", "string"),
        ("Age", "date"),
    ]
    assert result["rows"][0]["cells"] == ["w", "3d"]


def test_a_printer_columns_priority_and_format_are_kept() -> None:
    resource = custom(
        {
            "name": "Size",
            "type": "integer",
            "format": "int32",
            "priority": 1,
            "jsonPath": ".spec.size",
        }
    )

    (_, size) = table(resource, [], "1", now=NOW)["columnDefinitions"]

    assert (size["format"], size["priority"]) == ("int32", 1)


def test_a_column_whose_path_does_not_parse_ends_the_column_list() -> None:
    resource = custom(
        {"name": "A", "type": "string", "jsonPath": ".spec.a"},
        {"name": "B", "type": "string", "jsonPath": ".spec[?(@.b)]"},
        {"name": "C", "type": "string", "jsonPath": ".spec.c"},
    )

    definitions = table(resource, [], "1", now=NOW)["columnDefinitions"]

    assert [c["name"] for c in definitions] == ["Name", "A"]


def cell_at(path: str, body: Obj, column_type: str = "string") -> Any:
    resource = custom({"name": "Value", "type": column_type, "jsonPath": path})
    return cells(resource, {"metadata": {"name": "w"}, **body})[1]


SPEC = {
    "spec": {
        "items": [{"name": "first"}, {"name": "second"}],
        "labels": {"app.kubernetes.io/name": "llama"},
    }
}


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (".spec.items[0].name", "first"),
        (".spec.items[-1].name", "second"),
        (".spec.items[*].name", "first"),
        (".spec.items[2].name", None),
        (".spec.missing.deeper", None),
        (".spec.items.name", None),
        (".spec.labels.app\\.kubernetes\\.io/name", "llama"),
        (".spec.labels['app.kubernetes.io/name']", "llama"),
        ('.spec.labels["app.kubernetes.io/name"]', "llama"),
        (".metadata.name", "w"),
    ],
)
def test_printer_column_paths_follow_the_jsonpath_subset(path: str, shown: Any) -> None:
    assert cell_at(path, SPEC) == shown


@pytest.mark.parametrize(
    ("column_type", "value", "shown"),
    [
        ("integer", 3, 3),
        ("integer", 2.9, 2),
        ("integer", "3", None),
        ("integer", True, None),
        ("number", 2, 2.0),
        ("number", 0.5, 0.5),
        ("boolean", True, True),
        ("boolean", "true", None),
        ("string", "H100", "H100"),
        ("string", 3, "3"),
        ("string", 2.0, "2"),
        ("string", 0.25, "0.25"),
        ("string", 1e6, "1e+06"),
        ("string", 1.5e-5, "1.5e-05"),
        ("string", False, "false"),
        ("string", {"b": 1, "a": "<x>"}, '{"a":"\\u003cx\\u003e","b":1}'),
        ("string", ["x", 1], '["x",1]'),
        ("string", None, "<no value>"),
        ("integer", None, None),
        ("date", ago(hours=2), "120m"),
        ("date", "", "<unknown>"),
        ("date", "last week", "<invalid>"),
        ("date", 5, None),
        ("unknown-type", "x", None),
    ],
)
def test_a_cell_is_typed_by_its_column_as_the_apiserver_types_it(
    column_type: str, value: Any, shown: Any
) -> None:
    assert cell_at(".spec.value", {"spec": {"value": value}}, column_type) == shown


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


# --- the other built-ins ----------------------------------------------------------------
COLUMNS = [
    (
        "Pod",
        ["Name", "Ready", "Status", "Restarts", "Age"],
        ["IP", "Node", "Nominated Node", "Readiness Gates"],
    ),
    (
        "Node",
        ["Name", "Status", "Roles", "Age", "Version"],
        ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
    ),
    ("Service", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"]),
    ("Namespace", ["Name", "Status", "Age"], []),
    (
        "Event",
        ["Last Seen", "Type", "Reason", "Object", "Message"],
        ["Subobject", "Source", "First Seen", "Count", "Name"],
    ),
    ("ConfigMap", ["Name", "Data", "Age"], []),
    ("Secret", ["Name", "Type", "Data", "Age"], []),
    ("Endpoints", ["Name", "Endpoints", "Age"], []),
    ("EndpointSlice", ["Name", "AddressType", "Ports", "Endpoints", "Age"], []),
    (
        "PodDisruptionBudget",
        ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"],
        [],
    ),
    ("Lease", ["Name", "Holder", "Age"], []),
    ("CustomResourceDefinition", ["Name", "Created At"], []),
]


@pytest.mark.parametrize(("kind", "normal", "wide"), COLUMNS, ids=[c[0] for c in COLUMNS])
def test_each_builtin_has_kubectls_columns_with_wide_ones_at_priority_one(
    kind: str, normal: list[str], wide: list[str]
) -> None:
    definitions = table(RESOURCES[kind], [], "1", now=NOW)["columnDefinitions"]

    assert [c["name"] for c in definitions if c["priority"] == 0] == normal
    assert [c["name"] for c in definitions if c["priority"] == 1] == wide


def test_every_builtin_kind_has_its_columns_checked() -> None:
    assert {c[0] for c in COLUMNS} == set(RESOURCES)


@pytest.mark.parametrize(
    ("node", "status", "roles"),
    [
        (gpu_node("h100-0"), "Ready", "<none>"),
        (gpu_node("h100-0", ready=False), "NotReady", "<none>"),
        (gpu_node("h100-0", cordoned=True), "Ready,SchedulingDisabled", "<none>"),
        ({**gpu_node("h100-0"), "status": {}}, "Unknown", "<none>"),
        (
            gpu_node(
                "cp",
                labels={"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "gpu"},
            ),
            "Ready",
            "control-plane,gpu",
        ),
    ],
    ids=["ready", "not-ready", "cordoned", "no-conditions", "roles"],
)
def test_a_nodes_status_and_roles_read_as_kubectl_shows_them(
    node: Obj, status: str, roles: str
) -> None:
    assert cells(RESOURCES["Node"], created(node, days=2))[1:4] == [status, roles, "2d"]


def test_the_wide_node_columns_show_addresses_and_node_info() -> None:
    node = gpu_node("h100-0")
    node["status"].update(
        addresses=[
            {"type": "InternalIP", "address": "172.18.0.2"},
            {"type": "Hostname", "address": "h100-0"},
        ],
        nodeInfo={
            "kubeletVersion": "v1.32.0",
            "osImage": "Ubuntu 22.04.4 LTS",
            "kernelVersion": "",
            "containerRuntimeVersion": "containerd://1.7.13",
        },
    )

    assert cells(RESOURCES["Node"], node)[4:] == [
        "v1.32.0",
        "172.18.0.2",
        "<none>",
        "Ubuntu 22.04.4 LTS",
        "<unknown>",
        "containerd://1.7.13",
    ]


def service(spec: Obj, status: Obj | None = None) -> Obj:
    return created(
        {"metadata": {"name": "llama"}, "spec": spec, "status": status or {}}, minutes=30
    )


@pytest.mark.parametrize(
    ("svc", "shown"),
    [
        (
            service(
                {
                    "type": "ClusterIP",
                    "clusterIPs": ["10.96.0.10"],
                    "selector": {"app": "x"},
                    "ports": [{"port": 8000, "protocol": "TCP"}],
                }
            ),
            ["ClusterIP", "10.96.0.10", "<none>", "8000/TCP", "30m", "app=x"],
        ),
        (
            service(
                {
                    "type": "NodePort",
                    "clusterIPs": ["10.96.0.11"],
                    "ports": [
                        {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                        {"port": 53, "nodePort": 30053, "protocol": "UDP"},
                    ],
                }
            ),
            ["NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53:30053/UDP", "30m", "<none>"],
        ),
        (
            service({"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"], "ports": []}),
            ["LoadBalancer", "10.96.0.12", "<pending>", "<none>", "30m", "<none>"],
        ),
        (
            service(
                {"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"]},
                {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
            ),
            ["LoadBalancer", "10.96.0.12", "203.0.113.7", "<none>", "30m", "<none>"],
        ),
        (
            service({"type": "ExternalName", "externalName": "example.com"}),
            ["ExternalName", "<none>", "example.com", "<none>", "30m", "<none>"],
        ),
        (
            service(
                {
                    "type": "ClusterIP",
                    "clusterIPs": ["None"],
                    "externalIPs": ["1.2.3.4"],
                    "selector": {"b": "2", "a": "1"},
                }
            ),
            ["ClusterIP", "None", "1.2.3.4", "<none>", "30m", "a=1,b=2"],
        ),
    ],
    ids=["cluster-ip", "node-port", "pending-lb", "lb", "external-name", "headless"],
)
def test_a_services_addresses_and_ports_read_as_kubectl_shows_them(
    svc: Obj, shown: list[Any]
) -> None:
    assert cells(RESOURCES["Service"], svc)[1:] == shown


def test_an_event_shows_when_what_and_about_which_object() -> None:
    event = {
        "metadata": {"name": "llama-0.17f", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "llama-0", "fieldPath": "spec.containers{vllm}"},
        "reason": "Started",
        "type": "Normal",
        "message": "Started container vllm\n",
        "source": {"component": "kubelet", "host": "h100-0"},
        "firstTimestamp": ago(minutes=20),
        "lastTimestamp": ago(minutes=3),
        "reportingComponent": "",
        "reportingInstance": "",
    }

    assert cells(RESOURCES["Event"], event) == [
        "3m",
        "Normal",
        "Started",
        "pod/llama-0",
        "spec.containers{vllm}",
        "kubelet, h100-0",
        "Started container vllm",
        "20m",
        1,
        "llama-0.17f",
    ]


def test_a_new_style_event_is_aged_by_its_event_time_and_series() -> None:
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "LlamaDeployment"},
        "eventTime": "2025-06-01T11:50:00.000000Z",
        "firstTimestamp": None,
        "lastTimestamp": None,
        "series": {"count": 4, "lastObservedTime": ago(minutes=1)},
        "reportingComponent": "llamaops",
        "reportingInstance": "llamaops-0",
    }

    shown = cells(RESOURCES["Event"], event)

    assert (shown[0], shown[3], shown[5], shown[7], shown[8]) == (
        "60s",
        "llamadeployment",
        "llamaops, llamaops-0",
        "10m",
        4,
    )


ONE_HOUR = {"creationTimestamp": ago(hours=1)}
SMALL_KINDS: list[tuple[str, Obj, list[Any]]] = [
    (
        "Namespace",
        {"metadata": {"name": "llm", **ONE_HOUR}, "status": {"phase": "Active"}},
        ["llm", "Active", "60m"],
    ),
    (
        "ConfigMap",
        {"metadata": {"name": "cfg", **ONE_HOUR}, "data": {"a": "1"}, "binaryData": {"b": "AA=="}},
        ["cfg", 2, "60m"],
    ),
    (
        "Secret",
        {"metadata": {"name": "hf", **ONE_HOUR}, "type": "Opaque", "data": {"token": "aGY="}},
        ["hf", "Opaque", 1, "60m"],
    ),
    ("Endpoints", {"metadata": {"name": "llama", **ONE_HOUR}}, ["llama", "<none>", "60m"]),
    (
        "Endpoints",
        {
            "metadata": {"name": "llama", **ONE_HOUR},
            "subsets": [
                {
                    "addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)],
                    "ports": [{"port": 8000}],
                }
            ],
        },
        ["llama", "10.0.0.1:8000,10.0.0.2:8000,10.0.0.3:8000 + 2 more...", "60m"],
    ),
    (
        "Endpoints",
        {
            "metadata": {"name": "v6", **ONE_HOUR},
            "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}],
        },
        ["v6", "[fd00::1]:80", "60m"],
    ),
    (
        "EndpointSlice",
        {
            "metadata": {"name": "llama-x7k2p", **ONE_HOUR},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8000}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}],
        },
        ["llama-x7k2p", "IPv4", "8000", "10.0.0.1,10.0.0.2", "60m"],
    ),
    (
        "EndpointSlice",
        {"metadata": {"name": "empty", **ONE_HOUR}, "addressType": "IPv4"},
        ["empty", "IPv4", "<unset>", "<unset>", "60m"],
    ),
    (
        "PodDisruptionBudget",
        {
            "metadata": {"name": "llama", **ONE_HOUR},
            "spec": {"maxUnavailable": "25%"},
            "status": {"disruptionsAllowed": 1},
        },
        ["llama", "N/A", "25%", 1, "60m"],
    ),
    (
        "Lease",
        {"metadata": {"name": "llamaops", **ONE_HOUR}, "spec": {"holderIdentity": "llamaops-0"}},
        ["llamaops", "llamaops-0", "60m"],
    ),
    (
        "CustomResourceDefinition",
        {
            "metadata": {
                "name": "llamadeployments.serving.llamaops.io",
                "creationTimestamp": "2025-05-01T08:00:00+02:00",
            }
        },
        ["llamadeployments.serving.llamaops.io", "2025-05-01T06:00:00Z"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "body", "shown"),
    SMALL_KINDS,
    ids=[f"{c[0]}-{c[1]['metadata']['name']}" for c in SMALL_KINDS],
)
def test_the_smaller_kinds_read_as_kubectl_shows_them(
    kind: str, body: Obj, shown: list[Any]
) -> None:
    assert cells(RESOURCES[kind], body) == shown

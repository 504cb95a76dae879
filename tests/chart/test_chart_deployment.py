"""The operator's Deployment: `llamaops run` with the scope from the values, hardened, probed
on /healthz, its metrics behind a Service, and peering objects when highly available."""

import pytest

from tests.chart.render import (
    Obj,
    objects_of,
    of_kind,
    one,
    operator_container,
    render_files,
    rendered,
)


def pod_spec(objects: list[Obj]) -> Obj:
    spec: Obj = one(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def test_the_container_runs_the_operator_with_its_ports() -> None:
    container = operator_container(rendered("defaults"))

    assert container["args"][:5] == ["run", "--metrics-port", "8080", "--health-port", "8081"]
    assert container["image"] == "ghcr.io/llamaops/llamaops:0.1.0"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "metrics": 8080,
        "health": 8081,
    }
    assert {"name": "PYTHONUNBUFFERED", "value": "1"} in container["env"]


@pytest.mark.parametrize(
    ("case", "scope"),
    [
        ("defaults", ["--all-namespaces"]),
        ("namespaced", ["--namespace", "team-a", "--namespace", "team-b"]),
        ("ha-namespaced", ["--namespace", "team-a", "--namespace", "team-b"]),
    ],
)
def test_the_scope_flags_follow_watch_namespaces(case: str, scope: list[str]) -> None:
    args = operator_container(rendered(case))["args"]

    assert args[5 : 5 + len(scope)] == scope
    assert args[5 + len(scope) :] in ([], ["--peering", "llamaops", "--priority", "random"])


def test_the_container_is_non_root_read_only_and_without_privileges() -> None:
    objects = rendered("defaults")
    container = operator_container(objects)

    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod_spec(objects)["securityContext"]["runAsNonRoot"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert "emptyDir" in one_volume(pod_spec(objects), "tmp")


def one_volume(pod: Obj, name: str) -> Obj:
    volume: Obj = next(v for v in pod["volumes"] if v["name"] == name)
    return volume


@pytest.mark.parametrize("probe", ["livenessProbe", "readinessProbe"])
def test_liveness_and_readiness_ask_healthz_on_the_health_port(probe: str) -> None:
    container = operator_container(rendered("defaults"))

    assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_resources_default_to_modest_requests_and_a_memory_limit() -> None:
    assert operator_container(rendered("defaults"))["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "1Gi"},
    }


def test_pod_placement_and_image_settings_come_from_the_values() -> None:
    values = {
        "image": {"repository": "registry.local/llamaops", "tag": "dev", "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "registry"}],
        "nodeSelector": {"pool": "system"},
        "tolerations": [{"key": "system", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
        "podAnnotations": {"team": "ml-platform"},
        "priorityClassName": "system-cluster-critical",
        "verbose": True,
    }
    objects = objects_of(render_files(values))
    pod, container = pod_spec(objects), operator_container(objects)
    template = one(objects, "Deployment")["spec"]["template"]

    assert (container["image"], container["imagePullPolicy"]) == (
        "registry.local/llamaops:dev",
        "Always",
    )
    assert container["args"][-1] == "--verbose"
    assert pod["imagePullSecrets"] == [{"name": "registry"}]
    assert pod["nodeSelector"] == {"pool": "system"}
    assert pod["tolerations"] == values["tolerations"]
    assert pod["affinity"] == values["affinity"]
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert template["metadata"]["annotations"] == {"team": "ml-platform"}


@pytest.mark.parametrize(
    ("case", "strategy", "replicas"),
    [("defaults", "Recreate", 1), ("ha-cluster-wide", "RollingUpdate", 2)],
)
def test_one_operator_recreates_and_a_peered_pair_rolls(
    case: str, strategy: str, replicas: int
) -> None:
    deployment = one(rendered(case), "Deployment")

    assert deployment["spec"]["strategy"]["type"] == strategy
    assert deployment["spec"]["replicas"] == replicas


def test_peered_pods_are_named_after_their_pod_and_spread_over_nodes() -> None:
    objects = rendered("ha-cluster-wide")
    env = {e["name"]: e for e in operator_container(objects)["env"]}
    anti = pod_spec(objects)["affinity"]["podAntiAffinity"]
    term = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]

    assert env["POD_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert (
        term["labelSelector"]["matchLabels"]
        == one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
    )


def test_the_metrics_service_selects_the_operator_pods_on_the_metrics_port() -> None:
    objects = rendered("defaults")
    service = one(objects, "Service")
    pod_labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]

    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert one(objects, "Deployment")["spec"]["selector"]["matchLabels"].items() <= (
        pod_labels.items()
    )


@pytest.mark.parametrize("case", ["defaults", "namespaced"])
def test_without_high_availability_there_is_no_peering(case: str) -> None:
    objects = rendered(case)

    assert "--peering" not in operator_container(objects)["args"], "alone: no peering joined"
    assert not [o for o in objects if o["apiVersion"].startswith("kopf.dev/")]
    assert of_kind(objects, "CustomResourceDefinition") == []


@pytest.mark.parametrize(
    ("case", "peerings"),
    [
        ("ha-cluster-wide", [("ClusterKopfPeering", None)]),
        ("ha-namespaced", [("KopfPeering", "team-a"), ("KopfPeering", "team-b")]),
    ],
)
def test_high_availability_ships_the_peering_crds_and_objects_the_pods_join(
    case: str, peerings: list[tuple[str, str | None]]
) -> None:
    objects = rendered(case)
    crds = {c["metadata"]["name"]: c for c in of_kind(objects, "CustomResourceDefinition")}
    found = [o for o in objects if o["apiVersion"] == "kopf.dev/v1"]

    assert {name: c["spec"]["scope"] for name, c in crds.items()} == {
        "clusterkopfpeerings.kopf.dev": "Cluster",
        "kopfpeerings.kopf.dev": "Namespaced",
    }
    assert all(
        c["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for c in crds.values()
    )
    assert [(o["kind"], o["metadata"].get("namespace")) for o in found] == peerings
    assert {o["metadata"]["name"] for o in found} == {"llamaops"}, "the release's, not default"
    args = operator_container(objects)["args"]
    assert args[args.index("--peering") + 1] == "llamaops"
    assert args[args.index("--priority") + 1] == "random", "equal priorities pause each other"
    # Hooks: created after their CRDs exist, which a first install needs.
    assert all("post-install" in o["metadata"]["annotations"]["helm.sh/hook"] for o in found)


def test_peering_crds_can_be_left_to_another_release() -> None:
    values = {"highAvailability": {"enabled": True, "installPeeringCRDs": False}}
    objects = objects_of(render_files(values))

    assert of_kind(objects, "CustomResourceDefinition") == []
    assert len(of_kind(objects, "ClusterKopfPeering")) == 1

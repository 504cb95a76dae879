"""RBAC: exactly what the operator calls, nothing more; no wildcards, no Secrets; cluster-wide
with a ClusterRole, per namespace with Roles and a ClusterRole for the cluster-scoped rest.

NEEDS lists every request the operator makes, by the code that makes it. The grants the
chart renders must equal it: a missing rule breaks a feature, an extra one is privilege no
code uses. A new method on the client (`Kube`) fails the first test until it is listed here.
"""

import inspect
from itertools import product

import pytest

from llamaops.kube.client import Kube
from tests.chart.render import (
    CASES,
    NAMESPACE,
    TEAMS,
    Obj,
    objects_of,
    of_kind,
    one,
    render_files,
    rendered,
)

LLAMA = "serving.llamaops.io"
# apiGroup, resource, verb, and where: "namespace", "cluster", or "namespaced mode" (a
# cluster-scoped grant that only an operator given namespaces needs)
Need = tuple[str, str, str, str]

NEEDS: dict[str, list[Need]] = {
    # `llamaops rollout`'s, with the user's credentials: the operator reads LlamaDeployments
    # from kopf's watch (its cache).
    "Kube.get_deployment": [],
    "Kube.close": [],
    "informer (kube/informer.py): every pod, for the replicas and the GPU inventory": [
        ("", "pods", "list", "cluster"),
        ("", "pods", "watch", "cluster"),
    ],
    "informer: the nodes": [("", "nodes", "list", "cluster"), ("", "nodes", "watch", "cluster")],
    "Kube.create_pod": [("", "pods", "create", "namespace")],
    "Kube.delete_pod": [("", "pods", "delete", "namespace")],
    "Kube.patch_pod_metadata": [("", "pods", "patch", "namespace")],
    "Kube.ensure": [
        ("", "services", "create", "namespace"),
        ("", "services", "patch", "namespace"),
        ("policy", "poddisruptionbudgets", "create", "namespace"),
        ("policy", "poddisruptionbudgets", "patch", "namespace"),
    ],
    # Its Secret entry is never called (observe reads a Service and a budget): not granted.
    "Kube.get_object": [
        ("", "services", "get", "namespace"),
        ("policy", "poddisruptionbudgets", "get", "namespace"),
    ],
    "Kube.patch_status": [(LLAMA, "llamadeployments/status", "patch", "namespace")],
    "Kube.scale": [(LLAMA, "llamadeployments/scale", "patch", "namespace")],
    "kopf: handlers, timer and daemon on LlamaDeployments": [
        (LLAMA, "llamadeployments", "list", "namespace"),
        (LLAMA, "llamadeployments", "watch", "namespace"),
    ],
    "kopf: progress and diff-base annotations, the drain finalizer": [
        (LLAMA, "llamadeployments", "patch", "namespace"),
    ],
    "kopf: on.event for the Services and budgets llamaops renders (the cache)": [
        ("", "services", "list", "namespace"),
        ("", "services", "watch", "namespace"),
        ("policy", "poddisruptionbudgets", "list", "namespace"),
        ("policy", "poddisruptionbudgets", "watch", "namespace"),
    ],
    "kopf: Events (kopf.event, kopf.info, handler logs)": [("", "events", "create", "namespace")],
    "kopf, given namespaces: the namespace observer (they come and go)": [
        ("", "namespaces", "list", "namespaced mode"),
        ("", "namespaces", "watch", "namespaced mode"),
    ],
    "kopf: resource observer (CRDs appearing or changing)": [
        ("apiextensions.k8s.io", "customresourcedefinitions", "list", "cluster"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "watch", "cluster"),
    ],
}
PEERING_VERBS = ("list", "watch", "patch")


def needs(high_availability: bool, clusterwide: bool) -> set[Need]:
    found = {need for listed in NEEDS.values() for need in listed}
    found = {
        (*need[:3], "cluster") if need[3] == "namespaced mode" else need
        for need in found
        if not (clusterwide and need[3] == "namespaced mode")
    }
    if high_availability:
        resource = "clusterkopfpeerings" if clusterwide else "kopfpeerings"
        scope = "cluster" if clusterwide else "namespace"
        found |= {("kopf.dev", resource, verb, scope) for verb in PEERING_VERBS}
    return found


def rules_granted(role: Obj) -> set[tuple[str, str, str]]:
    return {
        triple
        for rule in role["rules"]
        for triple in product(rule["apiGroups"], rule["resources"], rule["verbs"])
    }


def bound_to_operator(binding: Obj) -> bool:
    subjects: list[Obj] = binding["subjects"]
    return subjects == [{"kind": "ServiceAccount", "name": "llamaops", "namespace": NAMESPACE}]


def cluster_grants(objects: list[Obj]) -> set[tuple[str, str, str]]:
    roles = {r["metadata"]["name"]: r for r in of_kind(objects, "ClusterRole")}
    bindings = [b for b in of_kind(objects, "ClusterRoleBinding") if bound_to_operator(b)]
    return {g for b in bindings for g in rules_granted(roles[b["roleRef"]["name"]])}


def namespace_grants(objects: list[Obj], namespace: str) -> set[tuple[str, str, str]]:
    roles = {
        r["metadata"]["name"]: r
        for r in of_kind(objects, "Role")
        if r["metadata"]["namespace"] == namespace
    }
    bindings = [
        b
        for b in of_kind(objects, "RoleBinding")
        if b["metadata"]["namespace"] == namespace and bound_to_operator(b)
    ]
    assert all(b["roleRef"]["kind"] == "Role" for b in bindings)
    return {g for b in bindings for g in rules_granted(roles[b["roleRef"]["name"]])}


def test_every_call_the_operators_client_makes_is_listed() -> None:
    methods = {
        f"Kube.{name}"
        for name, member in inspect.getmembers(Kube, inspect.isfunction)
        if not name.startswith("_")
    }

    assert methods == {call for call in NEEDS if call.startswith("Kube.")}


@pytest.mark.parametrize("case", CASES)
def test_no_rule_has_a_wildcard_resource_names_or_secrets(case: str) -> None:
    roles = of_kind(rendered(case), "ClusterRole") + of_kind(rendered(case), "Role")
    rules = [rule for role in roles for rule in role["rules"]]

    assert rules
    for rule in rules:
        assert "*" not in rule["apiGroups"] + rule["resources"] + rule["verbs"], rule
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule, rule
        assert not any(r.startswith("secrets") for r in rule["resources"]), rule


@pytest.mark.parametrize(
    ("case", "high_availability"), [("defaults", False), ("ha-cluster-wide", True)]
)
def test_cluster_wide_the_cluster_role_grants_exactly_what_the_operator_calls(
    case: str, high_availability: bool
) -> None:
    objects = rendered(case)

    assert of_kind(objects, "Role") == [] and of_kind(objects, "RoleBinding") == []
    assert cluster_grants(objects) == {
        need[:3] for need in needs(high_availability, clusterwide=True)
    }


@pytest.mark.parametrize(
    ("case", "high_availability"), [("namespaced", False), ("ha-namespaced", True)]
)
def test_namespaced_each_namespace_has_a_role_and_the_cluster_role_only_the_cluster_scope(
    case: str, high_availability: bool
) -> None:
    objects = rendered(case)
    wanted = needs(high_availability, clusterwide=False)

    assert sorted(r["metadata"]["namespace"] for r in of_kind(objects, "Role")) == TEAMS
    assert sorted(b["metadata"]["namespace"] for b in of_kind(objects, "RoleBinding")) == TEAMS
    for namespace in TEAMS:
        assert namespace_grants(objects, namespace) == {
            need[:3] for need in wanted if need[3] == "namespace"
        }
    assert cluster_grants(objects) == {need[:3] for need in wanted if need[3] == "cluster"}
    assert cluster_grants(objects) == {
        ("", "nodes", "list"),
        ("", "nodes", "watch"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "namespaces", "list"),
        ("", "namespaces", "watch"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
    }


def test_the_operator_runs_as_the_service_account_the_rules_are_bound_to() -> None:
    objects = rendered("namespaced")
    account = one(objects, "ServiceAccount")
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]

    assert account["metadata"] == account["metadata"] | {"name": "llamaops", "namespace": NAMESPACE}
    assert account["automountServiceAccountToken"] is True
    assert pod["serviceAccountName"] == "llamaops"
    bindings = of_kind(objects, "RoleBinding") + of_kind(objects, "ClusterRoleBinding")
    assert len(bindings) == 3 and all(bound_to_operator(b) for b in bindings)


def test_without_rbac_create_the_chart_renders_no_rbac_objects() -> None:
    kinds = {o["kind"] for o in objects_of(render_files({"rbac": {"create": False}}))}

    assert kinds.isdisjoint({"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"})

"""RBAC decisions as a table: which binding grants which request to whom."""

import pytest

from llamaops.sim.apiserver.rbac import (
    Attributes,
    Policy,
    User,
    allowed,
    forbidden_message,
    rule_matches,
    service_account_user,
)

Obj = dict[str, object]
ROBOT = service_account_user("ops", "robot")
STRANGER = service_account_user("ops", "stranger")


def role(name: str, *rules: Obj, namespace: str | None = None) -> Obj:
    meta: Obj = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"metadata": meta, "rules": list(rules)}


def rule(groups: list[str], resources: list[str], verbs: list[str], **more: object) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **more}


def binding(
    called: str, ref_kind: str, ref: str, namespace: str | None = None, **subject: str
) -> Obj:
    meta: Obj = {"name": called} if namespace is None else {"name": called, "namespace": namespace}
    the_subject = subject or {"kind": "ServiceAccount", "name": "robot", "namespace": "ops"}
    return {"metadata": meta, "roleRef": {"kind": ref_kind, "name": ref}, "subjects": [the_subject]}


def ask(verb: str, resource: str, namespace: str | None = "team-a", **more: str) -> Attributes:
    return Attributes(
        verb, more.get("group", ""), resource, more.get("sub"), namespace, more.get("name")
    )


POLICY = Policy(
    roles=[role("pods", rule([""], ["pods"], ["get", "list"]), namespace="team-a")],
    cluster_roles=[
        role("nodes-reader", rule([""], ["nodes"], ["list", "watch"])),
        role(
            "llamas",
            rule(["serving.llamaops.io"], ["llamadeployments"], ["get", "patch"]),
            rule(["serving.llamaops.io"], ["llamadeployments/status"], ["patch"]),
        ),
        role("one-map", rule([""], ["configmaps"], ["get"], resourceNames=["settings"])),
    ],
    role_bindings=[
        binding("pods", "Role", "pods", "team-a"),
        binding("llamas", "ClusterRole", "llamas", "team-a"),
        binding("one-map", "ClusterRole", "one-map", "team-a"),
    ],
    cluster_role_bindings=[binding("nodes", "ClusterRole", "nodes-reader")],
)


@pytest.mark.parametrize(
    ("user", "request_", "expected"),
    [
        pytest.param(ROBOT, ask("list", "pods"), True, id="a Role in its namespace"),
        pytest.param(ROBOT, ask("list", "pods", "team-b"), False, id="not in another namespace"),
        pytest.param(ROBOT, ask("delete", "pods"), False, id="not a verb it lacks"),
        pytest.param(ROBOT, ask("list", "pods", None), False, id="not across namespaces"),
        pytest.param(STRANGER, ask("list", "pods"), False, id="not for another account"),
        pytest.param(ROBOT, ask("list", "nodes", None), True, id="a ClusterRoleBinding"),
        pytest.param(
            ROBOT,
            ask("patch", "llamadeployments", group="serving.llamaops.io", name="x"),
            True,
            id="a ClusterRole bound in a namespace",
        ),
        pytest.param(
            ROBOT,
            ask("patch", "llamadeployments", "team-b", group="serving.llamaops.io", name="x"),
            False,
            id="a ClusterRole bound in a namespace holds there only",
        ),
        pytest.param(
            ROBOT,
            ask("patch", "llamadeployments", group="serving.llamaops.io", sub="status", name="x"),
            True,
            id="a subresource named as such",
        ),
        pytest.param(
            ROBOT,
            ask("update", "llamadeployments", group="serving.llamaops.io", sub="scale", name="x"),
            False,
            id="not a subresource it was not given",
        ),
        pytest.param(
            ROBOT, ask("get", "configmaps", name="settings"), True, id="a resource name granted"
        ),
        pytest.param(
            ROBOT, ask("get", "configmaps", name="other"), False, id="not another resource name"
        ),
        pytest.param(
            ROBOT, ask("list", "configmaps"), False, id="resource names never allow a list"
        ),
        pytest.param(
            User("kubernetes-admin", ("system:masters",)),
            ask("delete", "secrets"),
            True,
            id="system:masters may do anything",
        ),
    ],
)
def test_who_may_do_what(user: User, request_: Attributes, expected: bool) -> None:
    assert allowed(user, request_, POLICY) is expected


@pytest.mark.parametrize(
    ("pattern", "request_", "expected"),
    [
        ("*", ask("get", "pods", sub="status"), True),
        ("*/status", ask("get", "pods", sub="status"), True),
        ("*/status", ask("get", "pods"), False),
        ("pods/*", ask("get", "pods", sub="eviction"), True),
        ("pods/*", ask("get", "pods"), False),
        ("pods", ask("get", "pods", sub="status"), False),
    ],
)
def test_resource_patterns(pattern: str, request_: Attributes, expected: bool) -> None:
    assert rule_matches(rule([""], [pattern], ["get"]), request_) is expected


def test_a_group_subject_and_a_user_subject() -> None:
    by_group = Policy(
        [],
        [role("view", rule([""], ["pods"], ["list"]))],
        [],
        [binding("b", "ClusterRole", "view", kind="Group", name="system:serviceaccounts:ops")],
    )
    by_user = Policy(
        [],
        by_group.cluster_roles,
        [],
        [binding("b", "ClusterRole", "view", kind="User", name="alice")],
    )

    assert allowed(ROBOT, ask("list", "pods"), by_group)
    assert not allowed(service_account_user("other", "robot"), ask("list", "pods"), by_group)
    assert allowed(User("alice"), ask("list", "pods"), by_user)
    assert not allowed(User("bob"), ask("list", "pods"), by_user)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            ask("list", "pods", "default"),
            'pods is forbidden: User "system:serviceaccount:ops:robot" cannot list resource '
            '"pods" in API group "" in the namespace "default"',
        ),
        (
            ask("list", "nodes", None),
            'nodes is forbidden: User "system:serviceaccount:ops:robot" cannot list resource '
            '"nodes" in API group "" at the cluster scope',
        ),
        (
            ask("patch", "llamadeployments", group="serving.llamaops.io", sub="status", name="x"),
            'llamadeployments.serving.llamaops.io "x" is forbidden: User '
            '"system:serviceaccount:ops:robot" cannot patch resource "llamadeployments/status" '
            'in API group "serving.llamaops.io" in the namespace "team-a"',
        ),
    ],
)
def test_the_forbidden_message_is_kubernetes_own(request_: Attributes, message: str) -> None:
    assert forbidden_message(ROBOT, request_) == message

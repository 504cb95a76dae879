"""RBAC authorization as kube-apiserver's RBAC authorizer decides it. Pure: it reads the
Roles, ClusterRoles and their bindings it is given.

A request (user, verb, API group, resource, subresource, namespace, name) is allowed when
some binding that names the user grants a rule that matches it:

    ClusterRoleBinding -> ClusterRole         every namespace and cluster-scoped resources
    RoleBinding in N   -> Role N/x or a ClusterRole   requests in namespace N only

    subject   User by name; Group by one of the user's groups; ServiceAccount by
              system:serviceaccount:<namespace>:<name> (the binding's namespace when the
              subject gives none)
    verbs     "*" or the verb (get, list, watch, create, update, patch, delete,
              deletecollection)
    apiGroups "*" or the group ("" is the core group)
    resources "*", "pods", "pods/status", "*/status" or "pods/*"
    resourceNames  when given, only requests that name one of them (never a list, a watch
              of a collection or a create, as in Kubernetes)

The group system:masters is allowed everything (the admin kubeconfig's user). Not
modelled: aggregated ClusterRoles (aggregationRule), escalation checks on writing roles,
and non-resource URLs (discovery and /version are open to every authenticated user).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"
MASTERS = "system:masters"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attributes:
    """What a resource request asks to do."""

    verb: str
    group: str
    resource: str  # the plural
    subresource: str | None
    namespace: str | None  # None: cluster-scoped, or across every namespace
    name: str | None


@dataclass(frozen=True)
class Policy:
    """The RBAC objects of the cluster."""

    roles: Iterable[Obj]
    cluster_roles: Iterable[Obj]
    role_bindings: Iterable[Obj]
    cluster_role_bindings: Iterable[Obj]


def service_account_user(namespace: str, name: str) -> User:
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
    return User(f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}", (*groups, "system:authenticated"))


def allowed(user: User, request: Attributes, policy: Policy) -> bool:
    if MASTERS in user.groups:
        return True
    cluster_roles = {_name(r): r for r in policy.cluster_roles}
    for binding in policy.cluster_role_bindings:
        role = cluster_roles.get(_role_ref(binding, "ClusterRole"))
        if role is not None and _names(binding, user) and _grants(role, request):
            return True
    if request.namespace is None:
        return False
    roles = {_name(r): r for r in policy.roles if _namespace(r) == request.namespace}
    for binding in policy.role_bindings:
        if _namespace(binding) != request.namespace or not _names(binding, user):
            continue
        ref = binding.get("roleRef") or {}
        found = (roles if ref.get("kind") == "Role" else cluster_roles).get(ref.get("name", ""))
        if found is not None and _grants(found, request):
            return True
    return False


def forbidden_message(user: User, request: Attributes) -> str:
    """Kubernetes' words: `pods "x" is forbidden: User "u" cannot get resource "pods" in API
    group "" in the namespace "default"`."""
    what = f'{request.resource} "{request.name}"' if request.name else request.resource
    if request.group:
        what = (
            f'{request.resource}.{request.group} "{request.name}"'
            if request.name
            else f"{request.resource}.{request.group}"
        )
    resource = request.resource + (f"/{request.subresource}" if request.subresource else "")
    scope = (
        f'in the namespace "{request.namespace}"'
        if request.namespace is not None
        else "at the cluster scope"
    )
    return (
        f'{what} is forbidden: User "{user.name}" cannot {request.verb} resource "{resource}" '
        f'in API group "{request.group}" {scope}'
    )


def rule_matches(rule: Obj, request: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    groups = rule.get("apiGroups") or []
    if "*" not in verbs and request.verb not in verbs:
        return False
    if "*" not in groups and request.group not in groups:
        return False
    if not any(_resource_matches(r, request) for r in rule.get("resources") or []):
        return False
    names = rule.get("resourceNames") or []
    return not names or (request.name is not None and request.name in names)


def _resource_matches(pattern: str, request: Attributes) -> bool:
    combined = request.resource + (f"/{request.subresource}" if request.subresource else "")
    if pattern in ("*", combined):
        return True
    if request.subresource and pattern == f"*/{request.subresource}":
        return True
    return pattern.endswith("/*") and pattern[:-2] == request.resource and bool(request.subresource)


def _grants(role: Obj, request: Attributes) -> bool:
    return any(rule_matches(rule, request) for rule in role.get("rules") or [])


def _names(binding: Obj, user: User) -> bool:
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "User" and name == user.name:
            return True
        if kind == "Group" and name in user.groups:
            return True
        if kind == "ServiceAccount":
            namespace = subject.get("namespace") or _namespace(binding)
            if user.name == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}":
                return True
    return False


def _role_ref(binding: Obj, kind: str) -> str:
    ref = binding.get("roleRef") or {}
    return str(ref.get("name", "")) if ref.get("kind") == kind else ""


def _name(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def _namespace(obj: Obj) -> str:
    return str(obj["metadata"].get("namespace") or "")

"""Who a request comes from, and a record of what each user asked and was answered.

Off by default: every request is the admin's, as before. With `ApiServer(authorize=True)`
a request needs a bearer token (401 Unauthorized without a known one) and RBAC decides
(rbac.py; 403 Forbidden with Kubernetes' message):

    llamaops-sim      the kubeconfig's token: user kubernetes-admin, group system:masters
    a ServiceAccount  tokens from the TokenRequest API, as `kubectl create token NAME`
                      gets them (POST .../serviceaccounts/NAME/token); opaque strings,
                      not JWTs, that last as long as the server

/healthz, /livez, /readyz and /version answer anyone (system:public-info-viewer);
discovery and OpenAPI need a token but no rule (system:discovery), and so does a
SelfSubjectAccessReview (`kubectl auth can-i`, system:basic-user).
"""

import secrets
from dataclasses import dataclass

from llamaops.sim.apiserver.errors import forbidden
from llamaops.sim.apiserver.paths import Target
from llamaops.sim.apiserver.rbac import (
    GROUP,
    MASTERS,
    Attributes,
    Policy,
    User,
    allowed,
    forbidden_message,
    service_account_user,
)
from llamaops.sim.apiserver.registry import Registry
from llamaops.sim.apiserver.store import Obj, Store

ADMIN_TOKEN = "llamaops-sim"
ADMIN = User("kubernetes-admin", (MASTERS, "system:authenticated"))
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
REVIEWS = "authorization.k8s.io"  # SelfSubjectAccessReview: `kubectl auth can-i`


@dataclass(frozen=True)
class AuditRecord:
    user: str
    request: Attributes
    allowed: bool


class Auth:
    def __init__(self, enforce: bool) -> None:
        self.enforce = enforce
        self.audit: list[AuditRecord] = []
        self._tokens = {ADMIN_TOKEN: ADMIN}

    def issue(self, namespace: str, service_account: str) -> str:
        token = f"sa.{secrets.token_urlsafe(24)}"
        self._tokens[token] = service_account_user(namespace, service_account)
        return token

    def user(self, authorization: str | None) -> User | None:
        """The user a request's Authorization header names; None: no known bearer token."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer":  # any case, as kube-apiserver reads it
            return None
        return self._tokens.get(token.strip())

    def record(self, user: User, request: Attributes, allowed: bool) -> None:
        self.audit.append(AuditRecord(user.name, request, allowed))

    def authorize(
        self, authorization: str | None, target: Target, verb: str, policy: Policy
    ) -> None:
        """RBAC (rbac.py) when enforced; every decision goes to the audit; a denial is
        kube-apiserver's 403."""
        resource = target.resource
        if not self.enforce or resource.group == REVIEWS:
            return  # every authenticated user may ask what it may do (system:basic-user)
        user = self.user(authorization) or ADMIN  # authenticated by the middleware
        asked = Attributes(
            verb, resource.group, resource.plural, target.subresource, target.namespace, target.name
        )
        permitted = allowed(user, asked, policy)
        self.record(user, asked, permitted)
        if not permitted:
            details = {"kind": resource.plural, "group": resource.group}
            raise forbidden(
                forbidden_message(user, asked),
                {**details, "name": target.name} if target.name else details,
            )


def policy_of(registry: Registry, store: Store) -> Policy:
    """The cluster's Roles, ClusterRoles and bindings, as stored now."""

    def objects(plural: str) -> list[Obj]:
        found = registry.find(GROUP, "v1", plural)
        return store.list(found.key, None) if found is not None else []

    roles, bindings = objects("roles"), objects("rolebindings")
    return Policy(roles, objects("clusterroles"), bindings, objects("clusterrolebindings"))


def self_review(user: User, review: Obj, policy: Policy) -> Obj:
    """A SelfSubjectAccessReview answered for `user` (resource attributes only)."""
    asked = (review.get("spec") or {}).get("resourceAttributes") or {}
    request = Attributes(
        asked.get("verb", ""),
        asked.get("group", ""),
        asked.get("resource", ""),
        asked.get("subresource") or None,
        asked.get("namespace") or None,
        asked.get("name") or None,
    )
    answer = allowed(user, request, policy)
    return {**review, "status": {"allowed": answer, "denied": not answer}}

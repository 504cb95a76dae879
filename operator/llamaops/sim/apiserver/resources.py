"""The kinds the emulator serves: built-ins, and custom resources registered by CRDs."""

from dataclasses import dataclass, field
from typing import Any

READ_VERBS = ("get", "list", "watch")
# Field selectors each kind accepts (kube-apiserver refuses others with 400).
COMMON_FIELD_LABELS = ("metadata.name", "metadata.namespace")
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    ),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Node": ("spec.unschedulable",),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
}
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource (a group, version and plural), and how the server treats it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    builtin: bool = True
    # Custom resources only: the version's openAPIV3Schema, scale paths, printer columns.
    schema: dict[str, Any] | None = None
    scale: dict[str, str] | None = None
    printer_columns: tuple[dict[str, Any], ...] = ()
    # Kinds whose metadata.generation counts spec changes.
    tracks_generation: bool = False
    list_kind: str = ""
    singular: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        """Objects are stored per (group, plural): one storage version per resource."""
        return (self.group, self.plural)

    @property
    def status_is_subresource(self) -> bool:
        return "status" in self.subresources

    @property
    def field_labels(self) -> tuple[str, ...]:
        extra = FIELD_LABELS.get(self.kind, ()) if self.builtin else ()
        return COMMON_FIELD_LABELS + extra

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def list_kind_name(self) -> str:
        return self.list_kind or f"{self.kind}List"


def _core(kind: str, plural: str, namespaced: bool = True, **extra: Any) -> ResourceType:
    return ResourceType("", "v1", kind, plural, namespaced, **extra)


def _rbac(kind: str, plural: str, namespaced: bool) -> ResourceType:
    return ResourceType("rbac.authorization.k8s.io", "v1", kind, plural, namespaced)


BUILTINS: tuple[ResourceType, ...] = (
    _core("Namespace", "namespaces", False, short_names=("ns",), subresources=("status",)),
    _core("Node", "nodes", False, short_names=("no",), subresources=("status",)),
    _core(
        "Pod",
        "pods",
        short_names=("po",),
        categories=("all",),
        subresources=("status", "binding", "eviction"),
    ),
    _core(
        "Service", "services", short_names=("svc",), categories=("all",), subresources=("status",)
    ),
    _core("Endpoints", "endpoints", short_names=("ep",), list_kind="EndpointsList"),
    _core("Event", "events", short_names=("ev",)),
    _core("ConfigMap", "configmaps", short_names=("cm",)),
    _core("Secret", "secrets"),
    _core("ServiceAccount", "serviceaccounts", short_names=("sa",), subresources=("token",)),
    _rbac("Role", "roles", True),
    _rbac("RoleBinding", "rolebindings", True),
    _rbac("ClusterRole", "clusterroles", False),
    _rbac("ClusterRoleBinding", "clusterrolebindings", False),
    # `kubectl auth can-i`: answered from RBAC (auth.py), never stored.
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=("create",),
    ),
    # Stored, with no controller: the chart's operator Deployment is applied and read.
    ResourceType(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        True,
        short_names=("deploy",),
        categories=("all",),
        subresources=("status",),
        tracks_generation=True,
    ),
    ResourceType(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        True,
    ),
    ResourceType(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        True,
        short_names=("pdb",),
        subresources=("status",),
        tracks_generation=True,
    ),
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=("status",),
        tracks_generation=True,
    ),
)

"""What the operator knows of the cluster between reconciles, fed by watches, so that a
reconcile reads memory instead of listing every pod and node of the cluster.

    replica pods   per (namespace, deployment), from the pod informer (every namespace:
                   GPUs held by anyone's pods limit where replicas fit)
    GPUs held      per node, summed as pods come and go (inventory.py's rule)
    nodes          from the node informer
    inventory      per (tolerations, nodeSelector), computed again only when a node or a
                   GPU request changed (`generation`)
    objects        LlamaDeployments (kopf's watch hands each event here), and the
                   Services and PodDisruptionBudgets llamaops renders (kopf's watch too;
                   one GET each when first needed, so a restart knows them)

Every write's answer is put in at once (write-through), so a reconcile right after a
write sees it even before its watch event: no replica created twice for a stale view.
Versions decide between the two, newest wins, comparing resourceVersions as numbers as
client-go's mutation cache does (etcd's revisions; anything else is taken as newer).
Pods and nodes are kept slim (only the fields observe and the inventory read; the
informers trim them page by page as they arrive), other objects without managedFields.
A node that turns ready or not ready wakes the deployments with replicas on it: no pod
event says that their replicas are lost, and the resync is minutes apart.
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from llamaops.api.spec import Toleration
from llamaops.inventory import TERMINAL_PHASES, Inventory, inventory_of, pod_gpu_request
from llamaops.reconcile import names

Obj = dict[str, Any]
Key = tuple[str, str]
OWNED_KINDS = ("LlamaDeployment", "Service", "PodDisruptionBudget")


class Cache:
    def __init__(self, replica_changed: Callable[[str, str], None]) -> None:
        """`replica_changed(namespace, deployment)` is called when one of its pods changes."""
        self.replica_changed = replica_changed
        self.replicas: dict[Key, dict[str, Obj]] = {}
        self.pod_owner: dict[Key, str] = {}  # replica pod -> its deployment
        self.holding: dict[Key, tuple[str, int]] = {}  # GPU-holding pod -> (node, GPUs)
        self.requested: dict[str, int] = {}
        self.nodes: dict[str, Obj] = {}
        self.objects: dict[tuple[str, str, str], Obj | None] = {}
        self.generation = 0
        self._inventories: dict[Any, Inventory] = {}
        self._at = -1
        self.pods_synced, self.nodes_synced = asyncio.Event(), asyncio.Event()

    async def synced(self) -> None:
        await self.pods_synced.wait()
        await self.nodes_synced.wait()

    # --- reads -------------------------------------------------------------------------
    def replica_pods(self, namespace: str, deployment: str) -> list[Obj]:
        return list(self.replicas.get((namespace, deployment), {}).values())

    def inventory(
        self, tolerations: Sequence[Toleration], node_selector: Mapping[str, str]
    ) -> Inventory:
        if self._at != self.generation:
            self._inventories, self._at = {}, self.generation
        key = (tuple(tolerations), tuple(sorted(node_selector.items())))
        if key not in self._inventories:
            nodes = list(self.nodes.values())
            self._inventories[key] = inventory_of(nodes, self.requested, tolerations, node_selector)
        return self._inventories[key]

    def ready_nodes(self) -> set[str]:
        return {name for name, node in self.nodes.items() if _node_ready(node)}

    def known(self, kind: str, namespace: str, name: str) -> bool:
        return (kind, namespace, name) in self.objects

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self.objects.get((kind, namespace, name))

    def renders(self, child: Obj) -> bool:
        """Whether a Service or budget is one llamaops renders: named after a
        LlamaDeployment of its namespace (labels can be edited away; the name cannot), or
        controlled by a LlamaDeployment of its name not seen yet (kopf's watches start in
        any order: after a restart the children's list may come first)."""
        meta = child.get("metadata") or {}
        name = meta.get("name", "")
        if self.get("LlamaDeployment", meta.get("namespace", ""), name) is not None:
            return True
        return any(
            ref.get("kind") == "LlamaDeployment"
            and ref.get("name") == name
            and ref.get("controller")
            for ref in meta.get("ownerReferences") or []
        )

    # --- pods --------------------------------------------------------------------------
    def pods_relisted(self, pods: list[Obj]) -> None:
        before = set(self.replicas)
        self.replicas, self.pod_owner, self.holding, self.requested = {}, {}, {}, {}
        for pod in pods:
            self._put_pod(pod)
        self.generation += 1
        self.pods_synced.set()
        for namespace, deployment in before | set(self.replicas):
            self.replica_changed(namespace, deployment)

    def pod_changed(self, kind: str, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        owner = self.pod_owner.get(key)
        current = self.replicas.get((key[0], owner), {}).get(key[1]) if owner else None
        if current is not None and _older(pod, current):
            return  # an event older than a write already put in
        if kind == "DELETED":
            self._drop_pod(key)
        else:
            self._put_pod(pod)
        owner = owner or _owner(pod)
        if owner:
            self.replica_changed(key[0], owner)

    def _put_pod(self, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        self._disown(key)
        owner = _owner(pod)
        if owner:
            self.replicas.setdefault((key[0], owner), {})[key[1]] = slim_pod(pod)
            self.pod_owner[key] = owner
        self._hold(key, _holding(pod))

    def _drop_pod(self, key: Key) -> None:
        self._disown(key)
        self._hold(key, None)

    def _disown(self, key: Key) -> None:
        owner = self.pod_owner.pop(key, None)
        if owner is not None:
            group = self.replicas.get((key[0], owner), {})
            group.pop(key[1], None)
            if not group:
                self.replicas.pop((key[0], owner), None)

    def _hold(self, key: Key, held: tuple[str, int] | None) -> None:
        """The pod now holds `held` (node, GPUs); the inventory changes only if that did."""
        before = self.holding.get(key)
        if before == held:
            return
        if before is not None:
            node, gpus = self.holding.pop(key)
            self.requested[node] -= gpus
            if not self.requested[node]:
                del self.requested[node]
        if held is not None:
            node, gpus = self.holding[key] = held
            self.requested[node] = self.requested.get(node, 0) + gpus
        self.generation += 1

    # --- nodes -------------------------------------------------------------------------
    def nodes_relisted(self, nodes: list[Obj]) -> None:
        before = self.ready_nodes() if self.nodes_synced.is_set() else None
        self.nodes = {n["metadata"]["name"]: slim_node(n) for n in nodes}
        self.generation += 1
        self.nodes_synced.set()
        if before is not None:
            self._readiness_changed(before ^ self.ready_nodes())

    def node_changed(self, kind: str, node: Obj) -> None:
        name = node["metadata"]["name"]
        was = _node_ready(self.nodes[name]) if name in self.nodes else None
        if kind == "DELETED":
            self.nodes.pop(name, None)
        elif name not in self.nodes or not _older(node, self.nodes[name]):
            self.nodes[name] = slim_node(node)
        self.generation += 1
        now = _node_ready(self.nodes[name]) if name in self.nodes else None
        if bool(was) != bool(now):
            self._readiness_changed({name})

    def _readiness_changed(self, nodes: set[str]) -> None:
        """A node became ready or stopped being so (or went): its replicas are lost or back,
        which no pod event says, so their deployments are told."""
        if not nodes:
            return
        for (namespace, deployment), pods in list(self.replicas.items()):
            if any(p["spec"].get("nodeName") in nodes for p in pods.values()):
                self.replica_changed(namespace, deployment)

    # --- LlamaDeployments, Services, PodDisruptionBudgets ------------------------------
    def absorb(self, obj: Obj) -> None:
        """A newer version of an object, from a watch event or a write's answer; a pod
        goes to the pods, a Status (a DELETE's answer) nowhere."""
        kind = obj.get("kind")
        if kind == "Pod":
            self.pod_changed("MODIFIED", obj)
        elif kind in OWNED_KINDS:
            meta = obj["metadata"]
            key = (str(kind), meta.get("namespace", ""), meta["name"])
            current = self.objects.get(key)
            if current is None or not _older(obj, current):
                self.objects[key] = _without_managed_fields(obj)

    def absent(self, kind: str, namespace: str, name: str) -> None:
        """Read from the API and not found: known to be missing."""
        self.objects.setdefault((kind, namespace, name), None)

    def deleted(self, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (str(obj.get("kind")), meta.get("namespace", ""), meta["name"])
        current = self.objects.get(key)
        if current is None or not _older(obj, current):  # not a newer incarnation
            self.objects[key] = None
        if key[0] == "LlamaDeployment":  # its children go with it (garbage collection):
            for child in ("Service", "PodDisruptionBudget"):  # read again if it comes back
                self.objects.pop((child, key[1], key[2]), None)


def _older(candidate: Obj, current: Obj) -> bool:
    """Whether `candidate` is strictly older than `current`: their resourceVersions compared
    as numbers, as client-go's mutation cache does (etcd's revisions); known only when both
    are numbers (otherwise the candidate is taken as the newer)."""
    mine = str((candidate.get("metadata") or {}).get("resourceVersion", ""))
    theirs = str((current.get("metadata") or {}).get("resourceVersion", ""))
    return mine.isdigit() and theirs.isdigit() and int(mine) < int(theirs)


def _without_managed_fields(obj: Obj) -> Obj:
    """The object without metadata.managedFields (often its largest part; never read)."""
    meta = obj.get("metadata") or {}
    if "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def slim_pod(pod: Obj) -> Obj:
    """The fields of a replica pod that observe and the inventory read."""
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    kept_meta = (
        "name",
        "namespace",
        "uid",
        "labels",
        "annotations",
        "creationTimestamp",
        "deletionTimestamp",
        "resourceVersion",
    )
    containers = [
        {"name": c.get("name"), "resources": c.get("resources") or {}}
        for c in spec.get("containers") or []
    ]
    inits = [{"resources": c.get("resources") or {}} for c in spec.get("initContainers") or []]
    return {
        "kind": "Pod",
        "metadata": {k: meta[k] for k in kept_meta if k in meta},
        "spec": {
            "nodeName": spec.get("nodeName"),
            "containers": containers,
            "initContainers": inits,
        },
        "status": {
            "phase": status.get("phase"),
            "podIP": status.get("podIP"),
            "conditions": [
                _pick(c, "type", "status", "reason", "message")
                for c in status.get("conditions") or []
            ],
            "containerStatuses": [
                _slim_container(c) for c in status.get("containerStatuses") or []
            ],
        },
    }


def _slim_container(status: Obj) -> Obj:
    kept = _pick(status, "name", "ready", "restartCount")
    waiting = (status.get("state") or {}).get("waiting")
    if waiting is not None:
        kept["state"] = {"waiting": _pick(waiting, "reason", "message")}
    return kept


def slim_node(node: Obj) -> Obj:
    """The fields of a node that the inventory and readiness read (a real node's status
    also lists every image it holds)."""
    meta, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    return {
        "kind": "Node",
        "metadata": _pick(meta, "name", "labels", "resourceVersion"),
        "spec": _pick(spec, "unschedulable", "taints"),
        "status": _pick(status, "capacity", "allocatable", "conditions"),
    }


def _pick(mapping: Obj, *keys: str) -> Obj:
    return {k: mapping[k] for k in keys if k in mapping}


def _holding(pod: Obj) -> tuple[str, int] | None:
    """(node, GPUs) for a pod bound to a node that holds GPUs and is not finished."""
    node = (pod.get("spec") or {}).get("nodeName")
    if not node or (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return None
    gpus = pod_gpu_request(pod)
    return (str(node), gpus) if gpus else None


def _owner(pod: Obj) -> str | None:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if labels.get(names.LABEL_MANAGED_BY) != names.MANAGER:
        return None
    owner = labels.get(names.LABEL_DEPLOYMENT)
    return str(owner) if owner else None


def _node_ready(node: Obj) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

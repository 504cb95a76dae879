"""Strategic merge patch for built-in kinds: the subset of Kubernetes' semantics clients send.

The apiserver reads each field's patch strategy and merge key from the Go struct tags of the
kind (`patchStrategy:"merge" patchMergeKey:"name"`). The emulator has no Go types, so it knows
the fields by name (`MERGE_KEYS`), which is right for every kind the emulator serves.

Implemented, as k8s.io/apimachinery/pkg/util/strategicpatch does it:
- maps merge recursively, `null` deletes a key, a value of another type replaces the old one;
- a map carrying `$patch: replace` replaces the map; `$patch: delete` leaves it empty;
- lists of objects whose field has a merge key are merged item by item on that key. An item
  carrying `$patch: delete` removes the item with its key; an item carrying `$patch: replace`
  (alone, or with other fields, which are then ignored) makes the list exactly the patch's
  other items;
- `metadata.finalizers` is merged as a set, and `$deleteFromPrimitiveList/finalizers` removes
  values from it;
- `$setElementOrder/<field>` puts the items it names first, in its order;
- `$retainKeys` drops the keys of a map that it does not list;
- every other list is replaced, including `tolerations`, `taints`, `args` and `command`.

Not implemented, or not exactly:
- Strategies follow the field name, not the kind: a field named like a merged one (`ports`,
  `conditions`, `addresses`) is merged wherever its items carry the merge key. Lists of
  primitives with `patchStrategy: merge` other than `metadata.finalizers` are replaced.
- Without `$setElementOrder`, patched and server-only items are interleaved by their place in
  the original as the apiserver's `normalizeElementOrder` does: a new item goes before the
  server-only items it meets. With it, items it does not name go after the ones it names
  rather than being interleaved.
  Its consistency with the patch list is not checked.
- Every malformed patch raises `StrategicMergeError`; the apiserver answers some of these with
  400 and others with 500.
"""

import copy
from collections.abc import Iterable, Mapping
from typing import Any

PATCH_DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"
SET_ELEMENT_ORDER = "$setElementOrder/"

# A field's merge key candidates; the first one that the list's items carry is used, so `ports`
# is keyed by containerPort in a container and by port in a Service spec. Fields missing here
# (tolerations and taints among them: they have no merge key upstream either) are replaced.
MERGE_KEYS: Mapping[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "ports": ("containerPort", "port"),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "readinessGates": ("conditionType",),
    "addresses": ("type",),
    "podIPs": ("ip",),
    "hostIPs": ("ip",),
    "resourceClaims": ("name",),
    "schedulingGates": ("name",),
}

# Lists of primitives merged as sets, as (parent field, field): ObjectMeta.finalizers is the one
# with patchStrategy merge that clients rely on (Namespace spec.finalizers is replaced).
SET_LISTS = frozenset({("metadata", "finalizers")})


class StrategicMergeError(ValueError):
    """The patch is malformed: an unknown directive, a missing merge key, a directive not a list."""


def strategic_merge(original: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The original with the patch merged in; neither argument is changed."""
    return _merge_map(original, patch, parent="")


def _merge_map(
    original: Mapping[str, Any], patch: Mapping[str, Any], parent: str
) -> dict[str, Any]:
    if PATCH_DIRECTIVE in patch:
        return _map_directive(patch, parent)
    result = copy.deepcopy(dict(original))
    if RETAIN_KEYS in patch:
        result = _retain_keys(result, patch)
    deletions: dict[str, list[Any]] = {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key == RETAIN_KEYS:
            continue
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            deletions[key.removeprefix(DELETE_FROM_PRIMITIVE_LIST)] = _directive_list(key, value)
        elif key.startswith(SET_ELEMENT_ORDER):
            orders[key.removeprefix(SET_ELEMENT_ORDER)] = _directive_list(key, value)
        elif value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_value(result.get(key), value, key, parent)
    for field, values in deletions.items():
        if isinstance(result.get(field), list):
            result[field] = [item for item in result[field] if item not in values]
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _ordered(result[field], order, _merge_key(field, result[field]))
    return result


def _map_directive(patch: Mapping[str, Any], parent: str) -> dict[str, Any]:
    directive = patch[PATCH_DIRECTIVE]
    if directive == "replace":
        rest = {key: value for key, value in patch.items() if key != PATCH_DIRECTIVE}
        return _merge_map({}, rest, parent)
    if directive == "delete":
        # The apiserver empties the map rather than removing its key.
        return {}
    raise StrategicMergeError(f"unknown patch type: {directive} in map: {dict(patch)}")


def _retain_keys(original: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    retained = _directive_list(RETAIN_KEYS, patch[RETAIN_KEYS])
    for key, value in patch.items():
        if value is not None and not key.startswith("$") and key not in retained:
            raise StrategicMergeError(f"field {key!r} is in the patch but not in $retainKeys")
    return {key: value for key, value in original.items() if key in retained}


def _directive_list(directive: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise StrategicMergeError(f"the value of {directive} must be a list, not {value!r}")
    return value


def _merge_value(current: Any, value: Any, field: str, parent: str) -> Any:
    if isinstance(value, dict):
        return _merge_map(current if isinstance(current, dict) else {}, value, parent=field)
    if isinstance(value, list):
        return _merge_list(current if isinstance(current, list) else [], value, field, parent)
    return value


def _merge_list(original: list[Any], patch: list[Any], field: str, parent: str) -> list[Any]:
    if (parent, field) in SET_LISTS:
        return _union(original, patch)
    key = _merge_key(field, original, patch)
    if key is None:
        return copy.deepcopy(patch)
    return _merge_by_key(original, patch, key, field)


def _merge_key(field: str, *lists: Iterable[Any]) -> str | None:
    items = [item for items in lists for item in items if isinstance(item, dict)]
    for key in MERGE_KEYS.get(field, ()):
        if any(key in item for item in items):
            return key
    return None


def _union(original: list[Any], patch: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for value in (*original, *patch):
        if value not in merged:
            merged.append(copy.deepcopy(value))
    return merged


def _merge_by_key(original: list[Any], patch: list[Any], key: str, field: str) -> list[Any]:
    items = copy.deepcopy(original)
    updates: list[dict[str, Any]] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise StrategicMergeError(f"{field}: item {item!r} is not a map")
        if PATCH_DIRECTIVE not in item:
            updates.append(item)
        elif item[PATCH_DIRECTIVE] == "delete":
            doomed = _key_of(item, key)
            items = [kept for kept in items if not _has_key(kept, key, doomed)]
        elif item[PATCH_DIRECTIVE] == "replace":
            replace = True
        else:
            raise StrategicMergeError(f"unknown patch type: {item[PATCH_DIRECTIVE]} in map: {item}")
    if replace:
        return [_merge_map({}, update, parent=field) for update in updates]
    patched: list[Any] = []
    for update in updates:
        value = _key_of(update, key)
        index = next((n for n, item in enumerate(items) if _has_key(item, key, value)), None)
        patched.append(_merge_map({} if index is None else items.pop(index), update, field))
    return _interleaved(items, patched, [_identity(item, key) for item in original], key)


def _interleaved(
    server_only: list[Any], patched: list[Any], server_order: list[Any], key: str
) -> list[Any]:
    """apimachinery's normalizeElementOrder: two lists merged by their place in the original;
    an item the original lacks (a new one) goes before the server-only item it meets."""

    def place(item: Any) -> int:
        identity = _identity(item, key)
        return server_order.index(identity) if identity in server_order else -1

    merged: list[Any] = []
    left, right = list(server_only), list(patched)
    while left or right:
        if not right or (left and 0 <= place(left[0]) < place(right[0])):
            merged.append(left.pop(0))
        else:
            merged.append(right.pop(0))
    return merged


def _identity(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else item


def _key_of(item: Mapping[str, Any], key: str) -> Any:
    if key not in item:
        raise StrategicMergeError(f"map: {dict(item)} does not contain declared merge key: {key}")
    return item[key]


def _has_key(item: Any, key: str, value: Any) -> bool:
    return isinstance(item, dict) and key in item and item[key] == value


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """The items `order` names, in its order, then the others in their current order."""

    def identity(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [identity(entry) for entry in order]
    named = [item for item in items if identity(item) in wanted]
    named.sort(key=lambda item: wanted.index(identity(item)))
    return named + [item for item in items if identity(item) not in wanted]

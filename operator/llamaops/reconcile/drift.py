"""Whether a child object the cluster holds (the Service, the PodDisruptionBudget) differs
from what the spec renders, in the fields llamaops owns. Pure.

    drifted  <=>  some rendered label, or some rendered spec field, is missing from the
                  live object or has another value there

What the cluster adds is no difference: a Service's clusterIP, defaulted fields
(sessionAffinity, a port's protocol), labels others set. Maps compare key by key, lists
item by item (same length), anything else by equality. Only a difference is written, so
a world at rest gets no write.
"""

from typing import Any


def drifted(desired: dict[str, Any], live: dict[str, Any]) -> bool:
    labels = (desired.get("metadata") or {}).get("labels") or {}
    live_labels = (live.get("metadata") or {}).get("labels") or {}
    return not (holds(live_labels, labels) and holds(live.get("spec"), desired.get("spec")))


def holds(live: Any, wanted: Any) -> bool:
    """Whether `live` has everything `wanted` has, with the same values."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(
            key in live and holds(live[key], value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(holds(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return bool(live == wanted)

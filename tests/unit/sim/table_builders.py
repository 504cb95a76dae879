"""A fixed clock, timestamps relative to it, and a table's rows and cells, for the Table
tests (test_tables_*.py).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from llamaops.sim.apiserver.resources import BUILTINS, ResourceType
from llamaops.sim.apiserver.tables import table

Obj = dict[str, Any]
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
RESOURCES = {resource.kind: resource for resource in BUILTINS}


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def created(body: Obj, **delta: float) -> Obj:
    body.setdefault("metadata", {})["creationTimestamp"] = ago(**delta)
    return body


def rows(resource: ResourceType, *objects: Obj, include_object: str = "Metadata") -> list[Obj]:
    result: list[Obj] = table(resource, list(objects), "7", include_object=include_object, now=NOW)[
        "rows"
    ]
    return result


def cells(resource: ResourceType, body: Obj) -> list[Any]:
    (row,) = rows(resource, body)
    return list(row["cells"])

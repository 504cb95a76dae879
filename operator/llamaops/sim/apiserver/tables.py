"""Table responses: what kube-apiserver returns for `Accept: application/json;as=Table;...`.

kubectl asks for these to print `get` output. Custom resources get the CRD's
additionalPrinterColumns the way apiextensions-apiserver's tableconvertor evaluates them
(a JSONPath per column, missing values as null cells, `date` columns as ages); built-ins
get kubectl's usual columns from builtin_columns.py.
"""

import copy
import json
import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from llamaops.sim.apiserver.builtin_columns import printer_for
from llamaops.sim.apiserver.columns import CREATED_DOC, NAME, column, parse_timestamp, since
from llamaops.sim.apiserver.resources import ResourceType

Obj = dict[str, Any]
INCLUDE_OBJECT = ("None", "Metadata", "Object")
# A step of the JSONPath subset: .field (dots escaped as \.), ['field'], [index] or [*].
_STEP = re.compile(
    r"\.(?P<field>(?:\\.|[^.\[\\])+)"
    r"|\[\s*(?:'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<index>-?\d+)|(?P<all>\*))\s*\]"
)
_MISSING = object()


def table(
    resource: ResourceType,
    objects: list[Obj],
    resource_version: str,
    *,
    include_object: str = "Metadata",
    now: datetime,
) -> Obj:
    """A meta.k8s.io/v1 Table of `objects`, rows in the order given.

    `include_object` is the request's includeObject: "None", "Metadata" (the default, also
    for "") or "Object". Anything else is a ValueError, which the server answers with 400.
    """
    if include_object not in ("", *INCLUDE_OBJECT):
        raise ValueError(f'unrecognized includeObject value: "{include_object}"')
    if resource.builtin:
        printer = printer_for(resource.group, resource.kind)
        columns = list(printer.columns)
        cells = [printer.cells(obj, now) for obj in objects]
        conditions = [printer.conditions(obj) for obj in objects]
    else:
        columns, paths = custom_columns(resource.printer_columns)
        cells = [custom_cells(columns, paths, obj, now) for obj in objects]
        conditions = [[] for _ in objects]
    rows = [
        _row(row_cells, row_conditions, _included(resource, obj, include_object or "Metadata"))
        for row_cells, row_conditions, obj in zip(cells, conditions, objects, strict=True)
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version} if resource_version else {},
        "columnDefinitions": columns,
        "rows": rows,
    }


def _row(cells: list[Any], conditions: list[Obj], included: Obj | None) -> Obj:
    """A TableRow; `conditions` is omitted when empty, `object` is null for includeObject=None."""
    return {
        "cells": cells,
        **({"conditions": conditions} if conditions else {}),
        "object": included,
    }


def _included(resource: ResourceType, obj: Obj, include_object: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return {"apiVersion": resource.api_version, "kind": resource.kind, **copy.deepcopy(obj)}
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": copy.deepcopy(obj.get("metadata") or {}),
    }


# --- custom resources -------------------------------------------------------------------
def custom_columns(
    printer_columns: tuple[Obj, ...],
) -> tuple[list[Obj], list[list[tuple[str, Any]]]]:
    """Name, then the CRD's columns (Age alone if it has none), with each one's parsed path.

    As apiextensions-apiserver does, a column whose JSONPath does not parse ends the list.
    """
    if not printer_columns:
        printer_columns = (
            {
                "name": "Age",
                "type": "date",
                "description": CREATED_DOC,
                "jsonPath": ".metadata.creationTimestamp",
            },
        )
    columns, paths = [NAME], []
    for definition in printer_columns:
        try:
            paths.append(parse_path(definition.get("jsonPath", "")))
        except ValueError:
            break
        path = definition.get("jsonPath", "")
        columns.append(
            column(
                definition["name"],
                definition.get("description")
                or f"Custom resource definition column (in JSONPath format): {path}",
                type_=definition.get("type", "string"),
                priority=definition.get("priority", 0),
                format_=definition.get("format", ""),
            )
        )
    return columns, paths


def custom_cells(
    columns: list[Obj], paths: list[list[tuple[str, Any]]], obj: Obj, now: datetime
) -> list[Any]:
    cells: list[Any] = [(obj.get("metadata") or {}).get("name", "")]
    for definition, path in zip(columns[1:], paths, strict=True):
        value = first_match(obj, path)
        cells.append(None if value is _MISSING else cell(definition["type"], value, now))
    return cells


def cell(column_type: str, value: Any, now: datetime) -> Any:
    """tableconvertor's cellForJSONValue, and jsonpath's printing for `string` columns."""
    if column_type == "string":
        return go_text(value)
    if value is None:
        return None
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column_type == "integer" and is_number and math.isfinite(value):
        return int(value)
    if column_type == "number" and is_number:
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        if value in ("", "null"):
            return "<unknown>"
        return since(value, now) if parse_timestamp(value) else "<invalid>"
    return None


def go_text(value: Any) -> str:
    """How client-go's jsonpath prints one value: Go's fmt for scalars, JSON otherwise."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            text = text.replace(char, escaped)
        return text
    return str(value)


def _go_float(value: float) -> str:
    """fmt's %v of a float64 (strconv 'g', shortest): exponent form below 1e-4 and from 1e6."""
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)  # repr never gives NaN or infinity for JSON numbers
    power = len(digits) + exponent - 1
    if -4 <= power < 6:
        return format(Decimal(repr(value)).normalize(), "f")
    shown = "".join(map(str, digits))
    mantissa = shown[0] + ("." + shown[1:] if len(shown) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{power:+03d}"


# --- the JSONPath subset ----------------------------------------------------------------
def parse_path(path: str) -> list[tuple[str, Any]]:
    """Steps of a CRD column's jsonPath: `.a.b`, `.a\\.b`, `['a.b']`, `[0]`, `[-1]`, `[*]`."""
    text = path.strip().removeprefix("$")
    if text in ("", "."):
        return []
    steps: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise ValueError(f"unrecognized column definition {path!r}")
        position = match.end()
        if match["field"] is not None:
            steps.append(("field", match["field"].replace("\\.", ".")))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"])))
        elif match["all"] is not None:
            steps.append(("all", None))
        else:
            steps.append(
                ("field", match["single"] if match["single"] is not None else match["double"])
            )
    return steps


def first_match(obj: Any, steps: list[tuple[str, Any]]) -> Any:
    """The first value the path selects, or _MISSING (jsonpath with AllowMissingKeys)."""
    nodes = [obj]
    for kind, argument in steps:
        nodes = [found for node in nodes for found in _select(node, kind, argument)]
    return nodes[0] if nodes else _MISSING


def _select(node: Any, kind: str, argument: Any) -> list[Any]:
    if kind == "all":
        return list(node) if isinstance(node, list) else []
    if kind == "index":
        present = isinstance(node, list) and -len(node) <= argument < len(node)
    else:
        present = isinstance(node, dict) and argument in node
    return [node[argument]] if present else []

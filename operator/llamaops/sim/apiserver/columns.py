"""Table columns and the ages kube-apiserver prints in them, shared by every kind's printer.

The Printer type, the Name/Age/Created At columns and the `column` helper that builds the
others, and k8s.io/apimachinery/pkg/util/duration.HumanDuration for every age. Kinds
without a printer (and CustomResourceDefinitions) get the default convertor's Name and
Created At.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]
Cells = list[Any]

NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATED_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


# --- ages -------------------------------------------------------------------------------
def human_duration(elapsed: timedelta) -> str:
    """duration.HumanDuration: about two significant figures, "0s" for up to 2 s of skew."""
    seconds = int(elapsed.total_seconds())  # truncates toward zero, as Go's int() does
    if seconds < -1:
        return "<invalid>"
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 10:
        return _two_units(minutes, "m", seconds % 60, "s")
    if minutes < 60 * 3:
        return f"{minutes}m"
    if hours < 8:
        return _two_units(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return _two_units(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return _two_units(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _two_units(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}" if small == 0 else f"{big}{big_unit}{small}{small_unit}"


def parse_timestamp(text: Any) -> datetime | None:
    """An RFC 3339 time as Go's time.Parse(time.RFC3339) reads it; None if it isn't one."""
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        return None
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))


def since(timestamp: Any, now: datetime) -> str:
    """translateTimestampSince: the age of a timestamp, "<unknown>" when it is unset."""
    moment = parse_timestamp(timestamp)
    if moment is None:
        return "<unknown>"
    return human_duration(aware(now) - moment)


def aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


# --- column definitions -----------------------------------------------------------------
def column(
    name: str, description: str = "", *, type_: str = "string", priority: int = 0, format_: str = ""
) -> Obj:
    """A TableColumnDefinition. Descriptions are the first sentence of the field's doc,
    where the real server sends the whole doc; kubectl does not show them."""
    return {
        "name": name,
        "type": type_,
        "format": format_,
        "description": description,
        "priority": priority,
    }


WIDE = 1  # priority of the columns kubectl shows only with -o wide
NAME = column("Name", NAME_DOC, format_="name")
AGE = column("Age", CREATED_DOC)
CREATED_AT = column("Created At", CREATED_DOC, type_="date")


@dataclass(frozen=True)
class Printer:
    """One kind's columns, and how an object of that kind fills a row of them."""

    columns: tuple[Obj, ...]
    cells: Callable[[Obj, datetime], Cells]
    conditions: Callable[[Obj], list[Obj]] = lambda obj: []


def meta_of(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def name_and_age(obj: Obj, now: datetime) -> tuple[str, str]:
    meta = meta_of(obj)
    return meta.get("name", ""), since(meta.get("creationTimestamp"), now)


def default_cells(obj: Obj, now: datetime) -> Cells:
    """rest.defaultTableConvertor: the name and the creation time in RFC 3339, UTC."""
    created = parse_timestamp(meta_of(obj).get("creationTimestamp"))
    shown = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if created else None
    return [meta_of(obj).get("name", ""), shown or "0001-01-01T00:00:00Z"]


DEFAULT = Printer((NAME, CREATED_AT), default_cells)

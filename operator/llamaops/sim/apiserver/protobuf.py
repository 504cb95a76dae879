"""Reads Kubernetes protobuf request bodies into the JSON-shaped objects the API works on.

kubectl's typed commands (`create namespace`, `create configmap`, `create secret`,
`create service`, `create pdb`) send `application/vnd.kubernetes.protobuf`: the magic
`k8s\\x00`, then a runtime.Unknown {1: typeMeta {1: apiVersion, 2: kind}, 2: raw,
3: contentEncoding, 4: contentType} whose raw bytes are the object's own message. The
object is read with the field tables in protobuf_kinds; what a table leaves out is skipped
by wire type, as protobuf skips unknown fields.

Go's generated marshallers write every non-pointer field, zero or not, so zero values are
dropped unless the field keeps them in JSON (pointers, fields without `omitempty`): the
result is what the same client would have sent as JSON.
"""

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from llamaops.sim.apiserver.protobuf_access import ACCESS_KINDS
from llamaops.sim.apiserver.protobuf_kinds import (
    INT_OR_STRING_FIELDS,
    KINDS,
    QUANTITY_FIELDS,
    TIME_FIELDS,
    Count,
    Field,
    Message,
    Shape,
)

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

VARINT, I64, LEN, I32 = 0, 1, 2, 5
_WIRE_NAMES = {VARINT: "varint", I64: "fixed64", LEN: "length-delimited", I32: "fixed32"}
_VARINT_SHAPES = (Shape.INT, Shape.BOOL)


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf object this module can read."""


def decode(body: bytes) -> dict[str, Any]:
    """The object in a `k8s\\x00` + runtime.Unknown body, as the API would get it in JSON."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf magic k8s\\x00")
    api_version = kind = encoding = ""
    raw = b""
    for number, wire, value in _Reader(body[len(MAGIC) :], "runtime.Unknown").fields():
        if number == 1:
            type_meta = _message(_bytes(value, wire, "typeMeta"), _TYPE_META, "typeMeta")
            api_version = type_meta.get("apiVersion", "")
            kind = type_meta.get("kind", "")
        elif number == 2:
            raw = _bytes(value, wire, "raw")
        elif number == 3:
            encoding = _text(_bytes(value, wire, "contentEncoding"), "contentEncoding")
    if encoding:
        raise ProtobufError(f"content encoding {encoding!r} is not supported")
    table = READABLE.get((api_version, kind))
    if table is None:
        readable = ", ".join(sorted(name for _, name in READABLE))
        raise ProtobufError(
            f"kind {kind or '(none)'} of apiVersion {api_version or '(none)'} cannot be read "
            f"from protobuf (readable: {readable}); send it as JSON"
        )
    return {"apiVersion": api_version, "kind": kind, **_message(raw, table, kind)}


READABLE = {**KINDS, **ACCESS_KINDS}
_TYPE_META: Message = {
    1: Field("apiVersion", Shape.STRING),
    2: Field("kind", Shape.STRING),
}


class _Reader:
    """Walks the fields of one message; `where` names it in errors."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.where, self.pos = data, where, 0

    def fields(self) -> Iterator[tuple[int, int, int | bytes]]:
        """(field number, wire type, value): an int for varint and fixed, bytes for
        length-delimited. Every field is consumed, so unknown ones are skipped."""
        while self.pos < len(self.data):
            key = self._varint()
            number, wire = key >> 3, key & 7
            if number == 0:
                raise self._error("field number 0")
            if wire == VARINT:
                yield number, wire, self._varint()
            elif wire == LEN:
                yield number, wire, self._take(self._varint())
            elif wire in (I64, I32):
                size = 8 if wire == I64 else 4
                yield number, wire, int.from_bytes(self._take(size), "little")
            else:  # 3 and 4 are proto2 groups, which Kubernetes never writes
                raise self._error(f"unsupported wire type {wire} for field {number}")

    def _varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise self._error("truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift >= 70:
                raise self._error("varint longer than 10 bytes")

    def _take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            left = len(self.data) - self.pos
            raise self._error(f"truncated field: {size} bytes declared, {left} left")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def _error(self, problem: str) -> ProtobufError:
        return ProtobufError(f"{problem} in {self.where} at byte {self.pos}")


def _message(data: bytes, table: Message, where: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for number, wire, value in _Reader(data, where).fields():
        field = table.get(number)
        if field is None:
            continue
        path = f"{where}.{field.name}"
        if field.count is Count.MAP:
            key, item = _map_entry(field, _bytes(value, wire, path), path)
            found.setdefault(field.name, {})[key] = item
        elif field.count is Count.LIST:
            found.setdefault(field.name, []).append(_value(field, wire, value, path))
        else:  # a singular field seen twice: the last one wins
            found[field.name] = _value(field, wire, value, path)
    keep = {field.name for field in table.values() if field.keep_zero}
    return {
        name: value
        for name, value in found.items()
        if value is not None and (name in keep or not _is_zero(value))
    }


def _is_zero(value: Any) -> bool:
    """Go's empty scalars; objects (Go structs) show in JSON even when empty."""
    return isinstance(value, str | int) and not value


def _map_entry(field: Field, entry: bytes, where: str) -> tuple[str, Any]:
    """A map<string, shape> entry {1: key, 2: value}; either may be left out when empty."""
    key, item = "", _value(field, *_empty(field.shape), where)
    for number, wire, value in _Reader(entry, where).fields():
        if number == 1:
            key = _text(_bytes(value, wire, where), where)
        elif number == 2:
            item = _value(field, wire, value, f"{where}[{key}]")
    return key, item


def _empty(shape: Shape) -> tuple[int, int | bytes]:
    return (VARINT, 0) if shape in _VARINT_SHAPES else (LEN, b"")


def _value(field: Field, wire: int, value: int | bytes, where: str) -> Any:
    shape = field.shape
    if shape in _VARINT_SHAPES:
        if not isinstance(value, int) or wire != VARINT:
            raise _wire_mismatch(where, wire, VARINT)
        return value != 0 if shape is Shape.BOOL else _signed(value)
    data = _bytes(value, wire, where)
    if shape is Shape.STRING:
        return _text(data, where)
    if shape is Shape.BYTES:
        return base64.b64encode(data).decode("ascii")
    if shape is Shape.MESSAGE:
        return _message(data, field.message or {}, where)
    if shape is Shape.TIME:
        return _time(_message(data, TIME_FIELDS, where), where)
    if shape is Shape.QUANTITY:
        return _message(data, QUANTITY_FIELDS, where).get("string", "")
    parts = _message(data, INT_OR_STRING_FIELDS, where)  # Shape.INT_OR_STRING
    return parts.get("strVal", "") if parts.get("type") == 1 else parts.get("intVal", 0)


def _bytes(value: int | bytes, wire: int, where: str) -> bytes:
    if not isinstance(value, bytes) or wire != LEN:
        raise _wire_mismatch(where, wire, LEN)
    return value


def _wire_mismatch(where: str, wire: int, expected: int) -> ProtobufError:
    got = _WIRE_NAMES.get(wire, str(wire))
    return ProtobufError(f"{where} has wire type {got}, expected {_WIRE_NAMES[expected]}")


def _text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError(f"{where} is not valid UTF-8") from None


def _signed(value: int) -> int:
    """int32 and int64 varints carry negatives as 64-bit two's complement."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _time(parts: dict[str, Any], where: str) -> str | None:
    """meta/v1 Time as Go writes it in JSON: RFC 3339, whole seconds, UTC; zero is unset."""
    seconds = parts.get("seconds", 0)
    if not seconds and not parts.get("nanos"):
        return None
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ProtobufError(f"{where} holds an impossible time: {seconds} seconds") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

"""Object storage with one global resourceVersion, a change history, and watches.

Everything runs on the server's event loop, so a write is atomic: it gets the next
resourceVersion, is stored, recorded and handed to every matching watch before anything
else runs. Watches resume from history; a version older than the history is gone (410).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from llamaops.sim.apiserver.errors import gone
from llamaops.sim.apiserver.selectors import FieldSelector, LabelSelector

Key = tuple[str, str]  # (group, plural)
Obj = dict[str, Any]
Events = list[tuple[str, Obj]]  # names outside the class: `Store.list` shadows `list` inside


@dataclass(frozen=True)
class Change:
    """One write: its resourceVersion, what happened, and the object before and after."""

    rv: int
    key: Key
    type: str  # ADDED, MODIFIED, DELETED
    obj: Obj
    old: Obj | None


Watches = list["Watch"]


@dataclass(eq=False)
class Watch:
    """One open watch: what it selects, and the queue its events go to."""

    key: Key
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    queue: asyncio.Queue[tuple[str, Obj] | None] = field(default_factory=asyncio.Queue)

    def view(self, change: Change) -> tuple[str, Obj] | None:
        """What this watch sees of a change; a label change can move an object in or out."""
        if change.key != self.key or not self._in_namespace(change.obj):
            return None
        now_in = self._selects(change.obj)
        if change.type == "ADDED":
            return ("ADDED", change.obj) if now_in else None
        if change.type == "DELETED":
            return ("DELETED", change.obj) if now_in else None
        was_in = change.old is not None and self._selects(change.old)
        if now_in:
            return ("MODIFIED" if was_in else "ADDED", change.obj)
        return ("DELETED", change.obj) if was_in else None

    def _in_namespace(self, obj: Obj) -> bool:
        return self.namespace is None or obj["metadata"].get("namespace") == self.namespace

    def _selects(self, obj: Obj) -> bool:
        return self.labels.matches(obj) and self.fields.matches(obj)


class Store:
    """All objects, keyed by resource then (namespace, name)."""

    def __init__(self, history_size: int = 10000) -> None:
        self.revision = 0
        self._objects: dict[Key, dict[tuple[str, str], Obj]] = {}
        self._history: deque[Change] = deque(maxlen=history_size)
        self._compacted = 0  # changes at or below this version are gone from history
        self._watches: set[Watch] = set()

    # Reads return the stored objects: callers copy before they change anything.
    def get(self, key: Key, namespace: str, name: str) -> Obj | None:
        return self._objects.get(key, {}).get((namespace, name))

    def list(
        self,
        key: Key,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        at: int | None = None,
    ) -> list[Obj]:
        """Objects sorted by namespace and name; `at` reads them as they were at a version."""
        objects = self._objects.get(key, {})
        if at is not None and at < self.revision:
            objects = self._snapshot(key, at)
        found = [
            obj
            for (ns, _), obj in sorted(objects.items())
            if (namespace is None or ns == namespace)
            and (labels is None or labels.matches(obj))
            and (fields is None or fields.matches(obj))
        ]
        return found

    def _snapshot(self, key: Key, at: int) -> dict[tuple[str, str], Obj]:
        """The objects of `key` as they were at version `at`, undoing later changes."""
        if at < self._compacted:
            raise gone(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter."
            )
        snapshot = dict(self._objects.get(key, {}))
        for change in reversed(self._history):
            if change.rv <= at:
                break
            if change.key != key:
                continue
            meta = change.obj["metadata"]
            where = (meta.get("namespace", ""), meta["name"])
            if change.type == "ADDED":
                snapshot.pop(where, None)
            elif change.old is not None:
                snapshot[where] = change.old
        return snapshot

    def count(self) -> int:
        return sum(len(objects) for objects in self._objects.values())

    def write(self, key: Key, obj: Obj, old: Obj | None) -> Obj:
        """Store `obj` (created when `old` is None) under the next resourceVersion."""
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        meta = obj["metadata"]
        self._objects.setdefault(key, {})[(meta.get("namespace", ""), meta["name"])] = obj
        self._record(Change(self.revision, key, "ADDED" if old is None else "MODIFIED", obj, old))
        return obj

    def remove(self, key: Key, obj: Obj) -> Obj:
        """Delete `obj`; watchers get it with the deletion's resourceVersion."""
        meta = obj["metadata"]
        self._objects.get(key, {}).pop((meta.get("namespace", ""), meta["name"]), None)
        self.revision += 1
        gone_obj = {**obj, "metadata": {**meta, "resourceVersion": str(self.revision)}}
        self._record(Change(self.revision, key, "DELETED", gone_obj, obj))
        return gone_obj

    def drop_resource(self, key: Key) -> None:
        self._objects.pop(key, None)

    def open_watch(self, watch: Watch, since: int | None) -> Events:
        """Register a watch; return the history it must replay first (after `since`)."""
        if since is not None and since < self._compacted:
            raise gone(f"too old resource version: {since} ({self._compacted})")
        self._watches.add(watch)
        if since is None:
            return []
        replay = (watch.view(change) for change in self._history if change.rv > since)
        return [event for event in replay if event is not None]

    def close_watch(self, watch: Watch) -> None:
        self._watches.discard(watch)

    def watches(self) -> Watches:
        return [*self._watches]

    def compact(self) -> None:
        """Forget all history: every resume from an older version gets 410 Gone."""
        self._history.clear()
        self._compacted = self.revision

    def _record(self, change: Change) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted = self._history[0].rv
        self._history.append(change)
        for watch in self._watches:
            event = watch.view(change)
            if event is not None:
                watch.queue.put_nowait(event)

"""Watches: newline-delimited JSON events, resumable, with bookmarks and timeouts.

A watch without a resourceVersion (or "0") starts with ADDED events for what exists; one
with a version replays the history after it, and a version older than the history gets
an ERROR event with code 410, as kube-apiserver sends it. Bookmarks go out every
`bookmark_interval` wall seconds and just before `timeoutSeconds` ends the stream.
"""

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

from aiohttp import web

from llamaops.sim.apiserver.errors import ApiError
from llamaops.sim.apiserver.resources import ResourceType
from llamaops.sim.apiserver.store import Obj, Store, Watch

DEFAULT_TIMEOUT = 1800.0
Encoder = Callable[[Obj], Obj]


class WatchStream:
    """One client's watch, from the request's query parameters to the closed stream."""

    def __init__(
        self,
        store: Store,
        resource: ResourceType,
        watch: Watch,
        query: dict[str, str],
        *,
        encode: Encoder,
        bookmark_interval: float,
    ) -> None:
        self.store = store
        self.resource = resource
        self.watch = watch
        self.sent_rv = 0
        self.query = query
        self.encode = encode
        self.bookmark_interval = bookmark_interval
        self.bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        timeout = query.get("timeoutSeconds")
        self.timeout = float(timeout) if timeout else DEFAULT_TIMEOUT * (1 + random.random())

    async def serve(self, request: web.Request, content_type: str) -> web.StreamResponse:
        try:  # registered before the first await, so no write can fall between list and watch
            initial: list[tuple[str, Obj]] | ApiError = self._open()
        except ApiError as error:
            initial = error
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        if isinstance(initial, ApiError):
            await self._send(response, "ERROR", initial.status())
            return response
        try:
            for event_type, obj in initial:
                await self._event(response, event_type, obj)
            if self.query.get("sendInitialEvents") == "true":
                await self._bookmark(response, initial_end=True)
            await self._stream(response)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.close_watch(self.watch)
        return response

    def _open(self) -> list[tuple[str, Obj]]:
        version = self.query.get("resourceVersion") or ""
        initial_events = self.query.get("sendInitialEvents") == "true"
        self.sent_rv = self.store.revision
        if version in ("", "0") or initial_events:
            self.store.open_watch(self.watch, None)
            current = self.store.list(
                self.resource.key, self.watch.namespace, self.watch.labels, self.watch.fields
            )
            return [("ADDED", obj) for obj in current]
        try:
            since = int(version)
        except ValueError:
            raise ApiError(400, "BadRequest", f"invalid resource version: {version}") from None
        self.sent_rv = since
        return self.store.open_watch(self.watch, since)

    async def _stream(self, response: web.StreamResponse) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        next_bookmark = loop.time() + self.bookmark_interval
        while True:
            now = loop.time()
            if now >= deadline:
                await self._drain(response)
                if self.bookmarks:
                    await self._bookmark(response)
                return
            wait = min(deadline, next_bookmark) - now
            try:
                event = await asyncio.wait_for(self.watch.queue.get(), timeout=max(wait, 0.001))
            except TimeoutError:
                if self.bookmarks and loop.time() >= next_bookmark:
                    await self._bookmark(response)
                    next_bookmark = loop.time() + self.bookmark_interval
                continue
            if event is None:  # closed by the server (a fault, or shutdown)
                return
            event_type, obj = event
            if event_type == "ERROR":
                await self._send(response, "ERROR", obj)
                return
            await self._event(response, event_type, obj)

    async def _drain(self, response: web.StreamResponse) -> None:
        """Send what is queued, so that a closing bookmark runs ahead of nothing unsent."""
        while not self.watch.queue.empty():
            event = self.watch.queue.get_nowait()
            if event is None or event[0] == "ERROR":
                return
            await self._event(response, *event)

    async def _event(self, response: web.StreamResponse, event_type: str, obj: Obj) -> None:
        await self._send(response, event_type, self.encode(obj))
        self.sent_rv = max(self.sent_rv, int(obj["metadata"]["resourceVersion"]))

    async def _bookmark(self, response: web.StreamResponse, initial_end: bool = False) -> None:
        # A bookmark may claim the store's version only when nothing is waiting to be sent.
        version = self.store.revision if self.watch.queue.empty() else self.sent_rv
        metadata: dict[str, Any] = {"resourceVersion": str(version)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {
            "kind": self.resource.kind,
            "apiVersion": self.resource.api_version,
            "metadata": metadata,
        }
        await self._send(response, "BOOKMARK", obj)

    async def _send(self, response: web.StreamResponse, event_type: str, obj: Obj) -> None:
        line = json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n"
        await response.write(line.encode())

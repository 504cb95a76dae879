"""An informer: list a collection once, then watch it from the list's resourceVersion, and
hand every change to the event loop, as client-go's reflector does.

    list  -> relisted(items)              the whole collection, replacing what was known
    watch -> changed(type, object)        ADDED, MODIFIED, DELETED, in the server's order
    every object passes through trim(object) first, in the informer's thread: what the
    operator keeps of it (pods lose most of their fields), read off the event loop
    a watch the server ends (timeout, restart) resumes from the last version seen, bookmarks
    included; 410 Gone (history compacted) lists again; other errors wait (capped,
    jittered backoff) and resume.

The list and watch block, so each informer has its own thread (not the event loop's
executor, whose few workers the reconciles share); the callbacks run on the event loop,
so what they keep needs no lock, in the context the informer was made in (kopf's context
variables: a reconcile they start may post Events).
"""

import asyncio
import contextvars
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from llamaops.kube.client import Kube, describe
from llamaops.kube.watching import ExpiredError, WatchStream, list_collection

log = logging.getLogger("llamaops")
Obj = dict[str, Any]
WATCH_SECONDS = 300  # each watch request, as kopf's server_timeout here
MAX_BACKOFF = 30.0


class Informer:
    def __init__(
        self,
        kube: Kube,
        plural: str,
        loop: asyncio.AbstractEventLoop,
        relisted: Callable[[list[Obj]], None],
        changed: Callable[[str, Obj], None],
        *,
        trim: Callable[[Obj], Obj] = lambda obj: obj,
    ) -> None:
        self.kube, self.plural, self.loop = kube, plural, loop
        self.relisted, self.changed, self.trim = relisted, changed, trim
        self._context = contextvars.copy_context()
        self.lists = 0  # how often it listed (1 unless watches expired)
        self._stopped = threading.Event()
        self._stream: WatchStream | None = None
        self._thread = threading.Thread(target=self._run, name=f"informer-{plural}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            stream.stop()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        version: str | None = None
        failures = 0
        while not self._stopped.is_set():
            try:
                if version is None:
                    items, version = list_collection(self.kube, self.plural, self.trim)
                    self.lists += 1
                    self._hand(self.relisted, items)
                version = self._watch(version)
                failures = 0
            except ExpiredError as expired:
                log.info("Watch of %s expired (%s): listing again", self.plural, expired)
                version = None
            except Exception as error:  # the API is down or refuses: wait, then go on
                if self._stopped.is_set():
                    return
                failures += 1
                pause = min(MAX_BACKOFF, 0.5 * 2**failures) * random.uniform(0.5, 1.0)
                log.warning(
                    "Watch of %s failed (%s); again in %.1f s", self.plural, describe(error), pause
                )
                self._stopped.wait(pause)

    def _watch(self, version: str) -> str:
        """Follow one watch request; the last resourceVersion seen when it ends."""
        self._stream = WatchStream(self.kube, self.plural, version, WATCH_SECONDS)
        try:
            for event in self._stream:
                kind, obj = event.get("type", ""), event.get("object") or {}
                version = (obj.get("metadata") or {}).get("resourceVersion") or version
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._hand(self.changed, kind, self.trim(obj))
                if self._stopped.is_set():
                    break
        finally:
            self._stream = None
        return version

    def _hand(self, callback: Callable[..., None], *args: Any) -> None:
        if not self._stopped.is_set():
            self.loop.call_soon_threadsafe(callback, *args, context=self._context)

"""Lists and watches of whole collections (every pod of every namespace, every node) as the
API's JSON, for the operator's informers (informer.py).

The kubernetes client's `Watch.stream` turns each event into its model classes; this
reads the raw lines instead (10,000 pods are cheap as dicts, slow as models), and a watch
can be stopped from another thread: `stop()` shuts the socket down, which wakes the read.
"""

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from llamaops.kube.client import Kube

Obj = dict[str, Any]
PAGE = 500  # items per list page, as client-go's reflector asks


class ExpiredError(Exception):
    """The watch's resourceVersion is gone (410): list again."""


def _call(kube: Kube, plural: str) -> Callable[..., Any]:
    calls: dict[str, Callable[..., Any]] = {
        "pods": kube.core.list_pod_for_all_namespaces,
        "nodes": kube.core.list_node,
    }
    return calls[plural]


def list_collection(
    kube: Kube, plural: str, trim: Callable[[Obj], Obj] = lambda obj: obj
) -> tuple[list[Obj], str]:
    """Every object of `plural`, page by page, each passed through `trim` as its page
    arrives (so 10,000 whole pods are never held at once), and the list's resourceVersion."""
    items: list[Obj] = []
    token: str | None = None
    while True:
        response = _call(kube, plural)(limit=PAGE, _continue=token, _preload_content=False)
        page = json.loads(response.data)
        items.extend(trim(item) for item in page.get("items") or [])
        meta = page.get("metadata") or {}
        token = meta.get("continue")
        if not token:
            return items, str(meta.get("resourceVersion", ""))


class WatchStream:
    """One watch request from `resource_version`: iterate for its events (bookmarks
    included), which end when the server closes it after `timeout` seconds."""

    def __init__(self, kube: Kube, plural: str, resource_version: str, timeout: int) -> None:
        self._response: Any = _call(kube, plural)(
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=timeout,
            _preload_content=False,
            _request_timeout=(10, timeout + 30),
        )

    def __iter__(self) -> Iterator[Obj]:
        try:
            for line in iter_resp_lines(self._response):  # type: ignore[no-untyped-call]
                if not line:
                    continue
                event: Obj = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    if status.get("code") == 410:
                        raise ExpiredError(status.get("message", "resourceVersion expired"))
                    raise ApiException(status=status.get("code"), reason=status.get("message"))
                yield event
        finally:
            self._response.release_conn()

    def stop(self) -> None:
        """End the stream from another thread: its read returns at once."""
        with contextlib.suppress(OSError, AttributeError):
            self._response.shutdown()

"""The operator's informer on the local API server through the official client: a list,
then a watch that resumes where it ended when the server closes it, lists again on 410
Gone, rides out an API outage, and stops at once."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kubernetes.client import CoreV1Api

from llamaops.kube import watching
from llamaops.kube.client import operator_client
from llamaops.kube.informer import Informer
from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.waiting import wait_until

Obj = dict[str, Any]


class Seen:
    """What the informer told, kept on its loop as the operator's cache would."""

    def __init__(self) -> None:
        self.pods: dict[str, Obj] = {}
        self.relists = 0

    def relisted(self, items: list[Obj]) -> None:
        self.pods = {p["metadata"]["name"]: p for p in items}
        self.relists += 1

    def changed(self, kind: str, pod: Obj) -> None:
        if kind == "DELETED":
            self.pods.pop(pod["metadata"]["name"], None)
        else:
            self.pods[pod["metadata"]["name"]] = pod


@contextmanager
def informing(
    apiserver: BackgroundApiServer, trim: Callable[[Obj], Obj] = lambda obj: obj
) -> Iterator[tuple[Informer, Seen]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    seen = Seen()
    kube = operator_client(str(apiserver.kubeconfig))
    informer = Informer(kube, "pods", loop, seen.relisted, seen.changed, trim=trim)
    informer.start()
    try:
        yield informer, seen
    finally:
        informer.stop()
        kube.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def a_pod(name: str, namespace: str = "default") -> Obj:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }


def names(seen: Seen) -> set[str]:
    return set(seen.pods)


def test_it_lists_then_follows_every_namespace(
    apiserver: BackgroundApiServer, core: CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "team-b"}})
    core.create_namespaced_pod("default", a_pod("before"))
    with informing(apiserver) as (informer, seen):
        wait_until(lambda: names(seen) == {"before"}, 10, "the list")
        core.create_namespaced_pod("team-b", a_pod("after", "team-b"))
        core.patch_namespaced_pod("before", "default", {"metadata": {"labels": {"x": "1"}}})
        core.delete_namespaced_pod("before", "default", grace_period_seconds=0)

        wait_until(lambda: names(seen) == {"after"}, 10, "the watch's events")
        assert informer.lists == 1


def test_every_object_is_trimmed_once_as_it_arrives_listed_in_pages_or_watched(
    apiserver: BackgroundApiServer, core: CoreV1Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watching, "PAGE", 2)  # five pods: three pages
    for i in range(5):
        core.create_namespaced_pod("default", a_pod(f"listed-{i}"))
    trimmed: list[str] = []

    def trim(pod: Obj) -> Obj:
        trimmed.append(pod["metadata"]["name"])
        return {"metadata": {"name": pod["metadata"]["name"]}, "trimmed": True}

    with informing(apiserver, trim) as (_, seen):
        wait_until(lambda: len(seen.pods) == 5, 10, "the list")
        core.create_namespaced_pod("default", a_pod("watched"))
        wait_until(lambda: "watched" in names(seen), 10, "the watch's event")

    assert all(pod == {"metadata": {"name": n}, "trimmed": True} for n, pod in seen.pods.items())
    assert sorted(trimmed) == sorted(seen.pods), "each once"


def test_a_closed_watch_resumes_without_listing_and_410_lists_again(
    apiserver: BackgroundApiServer, core: CoreV1Api
) -> None:
    faults = apiserver.server.faults  # type: ignore[union-attr]
    with informing(apiserver) as (informer, seen):
        wait_until(lambda: informer.lists == 1, 10, "the list")
        time.sleep(0.3)  # the watch is open
        assert apiserver.run(lambda: faults.close_watches("pods")) == 1
        core.create_namespaced_pod("default", a_pod("while-closed"))
        wait_until(lambda: "while-closed" in names(seen), 10, "the event after the resume")
        assert informer.lists == 1, "a closed watch resumes from its version"

        apiserver.run(faults.expire_watches)
        core.create_namespaced_pod("default", a_pod("after-410"))
        wait_until(lambda: informer.lists == 2, 10, "a list after 410 Gone")
        wait_until(lambda: names(seen) == {"while-closed", "after-410"}, 10, "both pods")


def test_an_outage_is_ridden_out(apiserver: BackgroundApiServer, core: CoreV1Api) -> None:
    faults = apiserver.server.faults  # type: ignore[union-attr]
    apiserver.run(lambda: faults.inject("list", "pods", code=503, times=2))
    with informing(apiserver) as (informer, seen):
        wait_until(lambda: informer.lists == 1, 20, "the list, after two refusals")
        core.create_namespaced_pod("default", a_pod("later"))
        wait_until(lambda: names(seen) == {"later"}, 10, "the watch")


def test_it_stops_at_once_while_watching(apiserver: BackgroundApiServer) -> None:
    with informing(apiserver) as (informer, _):
        wait_until(lambda: informer.lists == 1, 10, "the list")
        time.sleep(0.3)
        started = time.monotonic()
        informer.stop()
        assert time.monotonic() - started < 2

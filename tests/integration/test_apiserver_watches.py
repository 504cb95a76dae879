"""What clients rely on from the API emulator: watches, their history and bookmarks.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives,
over plain HTTP (tests/integration/http_helpers.py). A failing test prints the
requests it made and the emulator's objects.
"""

import time
from pathlib import Path

import pytest

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.integration.http_helpers import CONFIGMAPS, Http, change, config_map, faults, versions

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- watches -------------------------------------------------------------------------------
def test_a_watch_without_a_version_starts_with_what_exists(api: Http) -> None:
    api.post(CONFIGMAPS, config_map("a"))
    api.post(CONFIGMAPS, config_map("b"))

    with api.watch(CONFIGMAPS) as events:
        initial = events.take(2)
        api.post(CONFIGMAPS, config_map("c"))
        live = events.next()

    assert sorted(change(event) for event in initial) == [("ADDED", "a"), ("ADDED", "b")]
    assert change(live) == ("ADDED", "c")


def test_a_watch_from_a_version_replays_what_happened_after_it_in_order(api: Http) -> None:
    since = api.post(CONFIGMAPS, config_map("a")).rv
    api.patch(f"{CONFIGMAPS}/a", {"data": {"model": "b"}})
    api.post(CONFIGMAPS, config_map("b"))
    api.delete(f"{CONFIGMAPS}/a")

    with api.watch(CONFIGMAPS, resourceVersion=since) as events:
        replayed = events.take(3)
        api.post(CONFIGMAPS, config_map("c"))
        api.patch(f"{CONFIGMAPS}/b", {"data": {"model": "c"}})
        live = events.take(2)

    assert [change(event) for event in replayed + live] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("DELETED", "a"),
        ("ADDED", "c"),
        ("MODIFIED", "b"),
    ]
    seen = versions(replayed + live)
    assert seen == sorted(set(seen)) and seen[0] > since, "events come in resourceVersion order"


def test_an_open_watch_gets_410_gone_when_history_expires(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    created = api.post(CONFIGMAPS, config_map("a"))
    latest = api.patch(f"{CONFIGMAPS}/a", {"data": {"model": "b"}})

    with api.watch(CONFIGMAPS, resourceVersion=latest.rv) as events:
        apiserver.run(faults(apiserver).expire_watches)
        error = events.next()
        assert events.next() is None, "the stream ends after the error"
    with api.watch(CONFIGMAPS, resourceVersion=created.rv) as events:
        too_old = events.next()

    for event in (error, too_old):
        assert event is not None and event["type"] == "ERROR"
        status = event["object"]
        assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")


def test_a_version_older_than_the_history_gets_410_gone(tmp_path: Path) -> None:
    with BackgroundApiServer(kubeconfig=tmp_path / "small", history_size=5) as small:
        api = Http(small.url)
        oldest = api.post(CONFIGMAPS, config_map("a")).rv
        for n in range(6):
            api.patch(f"{CONFIGMAPS}/a", {"data": {"model": f"m{n}"}})
        recent = api.get(CONFIGMAPS).rv - 2

        with api.watch(CONFIGMAPS, resourceVersion=oldest) as events:
            too_old = events.next()
        with api.watch(CONFIGMAPS, resourceVersion=recent) as events:
            replayed = events.take(2)

    assert too_old is not None and too_old["type"] == "ERROR"
    assert (too_old["object"]["code"], too_old["object"]["reason"]) == (410, "Expired")
    assert [change(event) for event in replayed] == [("MODIFIED", "a"), ("MODIFIED", "a")]


def test_an_idle_watch_that_allows_bookmarks_gets_them(api: Http) -> None:
    created = api.post(CONFIGMAPS, config_map("a"))

    with api.watch(CONFIGMAPS, resourceVersion=created.rv, allowWatchBookmarks="true") as events:
        bookmark = events.next()

    assert bookmark is not None and bookmark["type"] == "BOOKMARK"
    assert (bookmark["object"]["kind"], bookmark["object"]["apiVersion"]) == ("ConfigMap", "v1")
    assert (
        created.rv
        <= int(bookmark["object"]["metadata"]["resourceVersion"])
        <= api.get(CONFIGMAPS).rv
    )


def test_a_bookmark_comes_just_before_timeout_seconds_ends_the_stream(tmp_path: Path) -> None:
    # A server whose periodic bookmarks are far away, so the one seen is the closing one.
    with BackgroundApiServer(kubeconfig=tmp_path / "quiet", bookmark_interval=60.0) as quiet:
        api = Http(quiet.url)
        started = time.monotonic()
        with (
            api.watch(CONFIGMAPS, timeoutSeconds=1, allowWatchBookmarks="true") as bookmarked,
            api.watch(CONFIGMAPS, timeoutSeconds=1) as plain,
        ):
            with_bookmarks, without = bookmarked.rest(), plain.rest()
        elapsed = time.monotonic() - started

    assert [event["type"] for event in with_bookmarks] == ["BOOKMARK"]
    assert without == []
    assert 0.9 <= elapsed < 3


def write_while_too_busy_to_stream(apiserver: BackgroundApiServer, names: list[str]) -> None:
    """Create config maps, then hold the server's loop past a 1 s watch timeout, as a server
    busy with a long request does: the watch wakes up with events queued and time up."""
    server = apiserver.server
    assert server is not None
    config_maps = server.registry.find("", "v1", "configmaps")
    assert config_maps is not None
    for name in names:
        server.api.create(config_maps, "default", config_map(name))
    time.sleep(1.2)


def test_resuming_from_the_closing_bookmark_misses_no_event(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    """A client resumes from the last version it saw, bookmarks included."""
    since = api.post(CONFIGMAPS, config_map("first")).rv
    with api.watch(
        CONFIGMAPS, resourceVersion=since, timeoutSeconds=1, allowWatchBookmarks="true"
    ) as events:
        apiserver.run(lambda: write_while_too_busy_to_stream(apiserver, ["a", "b", "c"]))
        before_timeout = events.rest()
    last_seen = versions(before_timeout)[-1]
    api.post(CONFIGMAPS, config_map("sentinel"))
    with api.watch(CONFIGMAPS, resourceVersion=last_seen) as events:
        resumed = []
        while not resumed or change(resumed[-1]) != ("ADDED", "sentinel"):
            resumed += events.take(1)

    added = [change(e)[1] for e in before_timeout + resumed if e["type"] == "ADDED"]
    assert added == ["a", "b", "c", "sentinel"]


def test_a_label_change_moves_an_object_into_and_out_of_a_selector_watch(api: Http) -> None:
    created = api.post(CONFIGMAPS, config_map("engine-args", {"tier": "cpu"}))
    path = f"{CONFIGMAPS}/engine-args"

    with api.watch(CONFIGMAPS, resourceVersion=created.rv, labelSelector="tier=gpu") as gpu:
        moved_in = api.patch(path, {"metadata": {"labels": {"tier": "gpu"}}})
        changed = api.patch(path, {"data": {"model": "other"}})
        moved_out = api.patch(path, {"metadata": {"labels": {"tier": "cpu"}}})
        api.post(CONFIGMAPS, config_map("sentinel", {"tier": "gpu"}))
        events = gpu.take(4)

    assert [change(event) for event in events] == [
        ("ADDED", "engine-args"),
        ("MODIFIED", "engine-args"),
        ("DELETED", "engine-args"),
        ("ADDED", "sentinel"),
    ]
    assert versions(events)[:3] == [moved_in.rv, changed.rv, moved_out.rv]

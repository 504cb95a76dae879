"""An unmodified `kopf run` of a small operator against the API emulator.

kopf runs as a subprocess with KUBECONFIG pointing at the emulator, as it would against a
real cluster. The tests assert the end state of the world through the kubernetes client,
and that kopf's log shows every handler succeeding with no error, no traceback and no
inconsistent patch. The operator sets a 60 s consistency timeout: if a PATCH response's
resourceVersion never arrives in a watch event, the change handlers stall and the waits
here (a few seconds) fail.
"""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.integration import widget_kind as widgets
from tests.integration.kopf_harness import (
    MODES,
    NAMESPACE,
    Cluster,
    KopfRun,
    assert_clean_log,
)
from tests.integration.widget_kind import a_widget, widget_crd
from tests.waiting import wait_until

MERGE_PATCH = "application/merge-patch+json"


@pytest.fixture
def crd_declares_metadata() -> bool:
    return True


@pytest.fixture
def cluster(apiserver: BackgroundApiServer, crd_declares_metadata: bool) -> Iterator[Cluster]:
    """The emulator with the Widget CRD and the (empty) ledger ConfigMap."""
    with kubernetes.config.new_client_from_config(config_file=str(apiserver.kubeconfig)) as api:
        world = Cluster(api)
        world.extensions.create_custom_resource_definition(widget_crd(crd_declares_metadata))
        world.core.create_namespaced_config_map(
            NAMESPACE, {"metadata": {"name": widgets.LEDGER}, "data": {}}
        )
        yield world


@pytest.fixture
def start_kopf(
    apiserver: BackgroundApiServer, cluster: Cluster, tmp_path: Path
) -> Iterator[Callable[..., KopfRun]]:
    """Start kopf (in a mode of MODES); every run is stopped, and its log and the objects
    printed (pytest shows them when the test fails), at teardown."""
    runs: list[KopfRun] = []

    def start(mode: str = "namespaced") -> KopfRun:
        run = KopfRun(apiserver.kubeconfig, tmp_path / f"kopf-{len(runs)}.log", mode)
        runs.append(run)
        return run

    yield start
    exits: list[int | str] = []
    for index, run in enumerate(runs):
        try:
            exits.append(run.stop())
        except AssertionError as error:  # it never started, or hung and was killed
            exits.append(str(error))
        print(f"===== kopf run {index} (exit {run.exit_code}) =====\n{run.log()}")
    try:
        print(f"===== objects in {NAMESPACE} =====\n{cluster.dump()}")
    except Exception as error:  # evidence is best effort: never hide the test's own failure
        print(f"(could not read the objects: {error!r})")
    assert all(code == 0 for code in exits), f"kopf exited with {exits}"


def write_after_a_busy_spell(
    apiserver: BackgroundApiServer, seconds: float, name: str, patches: list[dict[str, Any]]
) -> None:
    """Hold the server's event loop for `seconds`, then merge-patch Widget `name` with each
    of `patches` at once, as the HTTP handlers would: a server slow to dispatch (a large
    deletecollection does the same) while watch requests reach their timeoutSeconds."""
    server = apiserver.server
    assert server is not None
    widget = server.registry.find(widgets.GROUP, widgets.VERSION, widgets.PLURAL)
    assert widget is not None

    def busy_then_write() -> None:
        time.sleep(seconds)
        for patch in patches:
            subresource = "status" if "status" in patch else None
            raw = json.dumps(patch).encode()
            server.api.patch(widget, NAMESPACE, name, MERGE_PATCH, raw, subresource=subresource)

    apiserver.run(busy_then_write)


@pytest.mark.parametrize("mode", list(MODES))
def test_kopf_runs_a_widget_through_its_whole_life(
    cluster: Cluster, start_kopf: Callable[..., KopfRun], mode: str
) -> None:
    kopf = start_kopf(mode)
    cluster.create_widget(a_widget("w1", size=1))

    # create: status by return value and by patch, an adopted child, an event
    status = wait_until(
        lambda: cluster.status("w1").get("phase") == "Created" and cluster.status("w1"),
        what="on.create wrote status.phase",
    )
    assert status["create_widget"] == {"child": "w1-child"}
    child = cluster.config_map("w1-child")
    assert child is not None, "on.create made no child ConfigMap"
    owner = child.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller) == ("Widget", "w1", True)
    assert owner.uid == cluster.meta("w1")["uid"]
    wait_until(
        lambda: cluster.events_for("w1", widgets.CREATED),
        what=f"a {widgets.CREATED} Event for w1 exists",
    )

    # timer and daemon keep writing status
    first = cluster.status("w1")
    wait_until(
        lambda: cluster.status("w1").get("ticks", 0) >= first.get("ticks", 0) + 2,
        what="the timer bumped status.ticks twice more",
    )
    wait_until(
        lambda: cluster.status("w1").get("heartbeats", 0) >= first.get("heartbeats", 0) + 3,
        what="the daemon bumped status.heartbeats three times more",
    )

    # update: the new size lands in status, while the timer and daemon keep patching
    cluster.patch_widget("w1", {"spec": {"size": 5}})
    wait_until(
        lambda: cluster.status("w1").get("observedSize") == 5,
        what="on.update recorded spec.size=5 in status.observedSize",
    )
    assert cluster.status("w1")["resize_widget/spec.size"] == {"size": 5}

    # delete: on.delete runs while kopf's finalizer holds the Widget, then kopf lets go
    assert widgets.FINALIZER in cluster.meta("w1")["finalizers"]
    cluster.delete_widget("w1")
    wait_until(lambda: cluster.widget("w1") is None, what="the Widget w1 is gone")
    ledger = cluster.config_map(widgets.LEDGER)
    assert (ledger.metadata.annotations or {}).get(widgets.deletion_key("Widget", "w1")), (
        "on.delete did not record the deletion on the ledger"
    )
    wait_until(
        lambda: cluster.config_map("w1-child") is None,
        what="the child ConfigMap w1-child is garbage-collected",
    )

    assert kopf.stop() == 0
    assert_clean_log(
        kopf.log(),
        [
            "Handler 'create_widget'",
            "Handler 'resize_widget/spec.size'",
            "Handler 'record_deletion'",
            "Timer 'tick'",
            "Daemon 'heartbeat'",
        ],
    )


def test_a_restarted_kopf_resumes_without_handling_creation_again(
    cluster: Cluster, start_kopf: Callable[..., KopfRun]
) -> None:
    cluster.create_widget(a_widget("w2"))
    first = start_kopf()
    wait_until(lambda: cluster.status("w2").get("phase") == "Created", what="w2 was created")
    assert first.stop() == 0

    ticks = cluster.status("w2").get("ticks", 0)
    second = start_kopf()
    wait_until(
        lambda: cluster.status("w2").get("ticks", 0) >= ticks + 2,
        what="the second kopf's timer ticks on w2",
    )
    cluster.patch_widget("w2", {"spec": {"size": 7}})
    wait_until(
        lambda: cluster.status("w2").get("observedSize") == 7,
        what="the second kopf handled the update of w2",
    )
    assert second.stop() == 0

    assert len(cluster.events_for("w2", widgets.CREATED)) == 1
    assert "Handler 'create_widget'" not in second.log()
    assert_clean_log(first.log(), ["Handler 'create_widget'", "Timer 'tick'"])
    assert_clean_log(second.log(), ["Handler 'resize_widget/spec.size'", "Timer 'tick'"])


def test_kopf_resumes_and_relists_when_its_watches_end(
    apiserver: BackgroundApiServer, cluster: Cluster, start_kopf: Callable[..., KopfRun]
) -> None:
    kopf = start_kopf()
    cluster.create_widget(a_widget("w3"))
    wait_until(lambda: cluster.status("w3").get("phase") == "Created", what="w3 was created")
    assert apiserver.server is not None
    faults = apiserver.server.faults

    apiserver.run(faults.close_watches)  # kopf resumes from its last resourceVersion
    cluster.patch_widget("w3", {"spec": {"size": 2}})
    wait_until(
        lambda: cluster.status("w3").get("observedSize") == 2,
        what="kopf handled an update after its watches were closed",
    )

    apiserver.run(faults.expire_watches)  # 410 Gone: kopf lists again
    cluster.patch_widget("w3", {"spec": {"size": 3}})
    wait_until(
        lambda: cluster.status("w3").get("observedSize") == 3,
        what="kopf handled an update after its watches expired",
    )
    cluster.delete_widget("w3")
    wait_until(lambda: cluster.widget("w3") is None, what="the Widget w3 is gone")

    assert kopf.stop() == 0
    assert "Restarting the watch-stream" in kopf.log(), "kopf never saw the 410"
    assert_clean_log(kopf.log(), ["Handler 'resize_widget/spec.size'", "Handler 'record_deletion'"])


def test_kopf_holds_a_labelled_config_map_until_its_delete_handler_ran(
    cluster: Cluster, start_kopf: Callable[..., KopfRun]
) -> None:
    kopf = start_kopf()
    cluster.core.create_namespaced_config_map(
        NAMESPACE, {"metadata": {"name": "watched", "labels": widgets.WATCHED}}
    )
    wait_until(
        lambda: widgets.FINALIZER in (cluster.config_map("watched").metadata.finalizers or []),
        what="kopf put its finalizer on the ConfigMap watched",
    )
    wait_until(
        lambda: cluster.events_for("watched", widgets.SEEN),
        what=f"a {widgets.SEEN} Event for the ConfigMap watched exists",
    )
    cluster.core.delete_namespaced_config_map("watched", NAMESPACE)
    wait_until(lambda: cluster.config_map("watched") is None, what="the ConfigMap is gone")

    ledger = cluster.config_map(widgets.LEDGER)
    assert (ledger.metadata.annotations or {}).get(widgets.deletion_key("ConfigMap", "watched"))
    assert not ledger.metadata.finalizers, "kopf handled an unlabelled ConfigMap"
    assert kopf.stop() == 0
    assert_clean_log(
        kopf.log(), ["Handler 'greet_config_map'", "Handler 'record_config_map_deletion'"]
    )


# Like the CronTab example of the Kubernetes docs: the schema declares spec, not metadata.
@pytest.mark.parametrize("crd_declares_metadata", [False])
def test_kopf_handles_widgets_whose_crd_schema_leaves_metadata_undeclared(
    cluster: Cluster, start_kopf: Callable[..., KopfRun]
) -> None:
    kopf = start_kopf()
    cluster.create_widget(a_widget("w4"))
    wait_until(lambda: cluster.status("w4").get("phase") == "Created", what="w4 was created")
    assert cluster.meta("w4")["name"] == "w4"
    assert kopf.stop() == 0
    assert_clean_log(kopf.log(), ["Handler 'create_widget'"])


def test_kopf_sees_every_change_made_while_the_server_was_busy(
    apiserver: BackgroundApiServer, cluster: Cluster, start_kopf: Callable[..., KopfRun]
) -> None:
    kopf = start_kopf()
    cluster.create_widget(a_widget("w5", quiet=True))
    wait_until(lambda: cluster.status("w5").get("phase") == "Created", what="w5 was created")

    # kopf's watch requests last 1 s, so the one open now ends during the busy spell, with
    # both changes queued for it: it must deliver them before it ends (or its last bookmark
    # must not claim them), or kopf resumes past the new size and never handles it.
    write_after_a_busy_spell(
        apiserver, 1.2, "w5", [{"status": {"note": "busy"}}, {"spec": {"size": 9}}]
    )
    wait_until(
        lambda: cluster.status("w5").get("observedSize") == 9,
        what="kopf handled the update of w5 made at the end of the busy spell",
    )
    assert kopf.stop() == 0
    assert_clean_log(kopf.log(), ["Handler 'resize_widget/spec.size'"])


def test_kopf_sees_a_change_made_between_the_pages_of_its_list(
    apiserver: BackgroundApiServer, cluster: Cluster, start_kopf: Callable[..., KopfRun]
) -> None:
    cluster.create_widget(a_widget("p1", quiet=True))
    cluster.create_widget(a_widget("p2", quiet=True))
    first = start_kopf()
    for name in ("p1", "p2"):
        wait_until(lambda n=name: cluster.status(n).get("phase") == "Created", what=f"{name} made")
    assert first.stop() == 0

    # The next kopf lists Widgets a page of one at a time; both pages wait a second.
    assert apiserver.server is not None
    slow_lists = apiserver.server.faults.inject(
        "list", widgets.PLURAL, code=None, delay=1.0, times=2
    )
    second = start_kopf("chunked-lists")
    wait_until(lambda: slow_lists.hits == 2, timeout=10, what="kopf asked for the second page")
    cluster.patch_widget("p1", {"spec": {"size": 9}})  # p1 was on the first page

    # A real API server serves every page from the first page's snapshot and reports its
    # resourceVersion, so the watch that follows delivers the change.
    wait_until(
        lambda: cluster.status("p1").get("observedSize") == 9,
        what="kopf handled the update of p1 made while it was listing",
    )
    assert second.stop() == 0
    assert_clean_log(second.log(), ["Handler 'resize_widget/spec.size'"])

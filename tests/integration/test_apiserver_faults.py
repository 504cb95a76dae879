"""What the API emulator's faults do: injected errors and delays, pauses, closed watches.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives,
over plain HTTP (tests/integration/http_helpers.py). A failing test prints the
requests it made and the emulator's objects.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.integration.http_helpers import (
    CONFIGMAPS,
    PODS,
    Answer,
    Http,
    change,
    config_map,
    faults,
    pod,
    refused,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- faults --------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (429, "TooManyRequests")])
def test_an_injected_error_is_answered_once_then_service_resumes(
    api: Http, apiserver: BackgroundApiServer, code: int, reason: str
) -> None:
    api.post(CONFIGMAPS, config_map("a"))
    apiserver.run(lambda: faults(apiserver).inject("get", "configmaps", code=code))

    listed = api.get(CONFIGMAPS)
    faulted = api.get(f"{CONFIGMAPS}/a")
    recovered = api.get(f"{CONFIGMAPS}/a")

    assert listed.code == 200, "other verbs are unaffected"
    refused(faulted, code, reason)
    assert recovered.code == 200


def timed(action: Callable[[], Answer]) -> float:
    started = time.monotonic()
    assert action().code == 200
    return time.monotonic() - started


def test_an_injected_delay_slows_the_matching_request(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    apiserver.run(lambda: faults(apiserver).inject("list", "configmaps", code=None, delay=0.3))

    slow = timed(lambda: api.get(CONFIGMAPS))
    fast = timed(lambda: api.get(CONFIGMAPS))

    assert slow >= 0.3 > fast


def test_a_paused_server_holds_requests_until_it_resumes(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    apiserver.run(faults(apiserver).pause)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(api.get, CONFIGMAPS)
        time.sleep(0.2)
        held = not pending.done()
        apiserver.run(faults(apiserver).resume)
        answer = pending.result(timeout=3)

    assert held, "the request waited while the server was paused"
    assert answer.code == 200


def test_closing_watches_ends_their_streams(api: Http, apiserver: BackgroundApiServer) -> None:
    api.post(CONFIGMAPS, config_map("a"))
    since = api.post(PODS, pod("engine-0")).rv

    with api.watch(CONFIGMAPS) as config_maps, api.watch(PODS, resourceVersion=since) as pods:
        assert change(config_maps.next()) == ("ADDED", "a")  # the watch is open
        closed = apiserver.run(lambda: faults(apiserver).close_watches("configmaps"))
        ended = config_maps.next()
        api.post(PODS, pod("engine-1"))
        still_open = pods.next()

    assert closed == 1
    assert ended is None
    assert change(still_open) == ("ADDED", "engine-1")

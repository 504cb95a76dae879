"""Which differences between a rendered child and the cluster's copy are worth a write."""

import copy
from typing import Any

import pytest

from llamaops.reconcile.drift import drifted

RENDERED: dict[str, Any] = {
    "kind": "Service",
    "metadata": {"name": "m", "labels": {"app.kubernetes.io/name": "vllm"}},
    "spec": {
        "type": "ClusterIP",
        "selector": {"serving.llamaops.io/serving": "true"},
        "ports": [{"name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"}],
    },
}


def held(**changes: Any) -> dict[str, Any]:
    """The cluster's copy: as rendered plus what the API server adds, then `changes`
    (dotted paths; None deletes)."""
    live = copy.deepcopy(RENDERED)
    live["metadata"].update(uid="u", resourceVersion="9", creationTimestamp="2026-12-07T00:00:00Z")
    live["spec"].update(clusterIP="10.96.0.12", sessionAffinity="None")
    live["spec"]["ports"][0]["appProtocol"] = "http"
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = live
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return live


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        pytest.param(held(), False, id="as rendered, with the cluster's additions"),
        pytest.param(
            held(metadata__labels={"team": "a", **RENDERED["metadata"]["labels"]}),
            False,
            id="a label someone added",
        ),
        pytest.param(held(metadata__labels={}), True, id="a rendered label gone"),
        pytest.param(held(spec__type="NodePort"), True, id="another type"),
        pytest.param(held(spec__selector={}), True, id="the serving selector gone"),
        pytest.param(held(spec__ports__0__port=80), True, id="another port"),
        pytest.param(held(spec__ports=[]), True, id="no port"),
        pytest.param(
            held(spec__ports=[*held()["spec"]["ports"], {"name": "x", "port": 1}]),
            True,
            id="a port more",
        ),
        pytest.param(held(spec=None), True, id="no spec at all"),
    ],
)
def test_drift(live: dict[str, Any], expected: bool) -> None:
    assert drifted(RENDERED, live) is expected

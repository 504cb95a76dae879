"""Traffic through a Service's proxy, and what the pods and engines did meanwhile, for
test_cluster_*.py.

The load generator (llamaops.sim.traffic) is a client: it runs on wall time, in a thread
of its own here, and records every request with the pod that served it (X-Served-By).
`PodTimeline` records, from a watch of the official client, when each pod was Ready and
not terminating, so a test can check that no request reached a pod that was not.
"""

import asyncio
import threading
import time
import urllib.request
from collections.abc import Sequence
from typing import Self

import kubernetes
from kubernetes.client import CoreV1Api
from prometheus_client.parser import text_string_to_metric_families

from llamaops.sim.traffic.client import Record
from llamaops.sim.traffic.lengths import Fixed
from llamaops.sim.traffic.plan import PlannedRequest, plan_requests
from llamaops.sim.traffic.run import run_traffic
from llamaops.sim.traffic.shapes import burst, constant
from llamaops.sim.traffic.summary import format_summary, summarize
from tests.integration.cluster_helpers import NS, SERVED_NAME, is_ready, is_terminating

PROMPT = Fixed(16)


# --- when each pod could serve -----------------------------------------------------------
class PodTimeline:
    """When each pod was Ready and not terminating, in wall time, as a watch of the
    official client saw it. The watch sees a change some milliseconds after it is made,
    and the endpoints and the proxy follow as quickly; `slack` allows for that (a tenth
    of a wall second is two cluster seconds at speed 20, far less than a model load)."""

    def __init__(self, core: CoreV1Api, slack: float = 0.1) -> None:
        self.core, self.slack = core, slack
        self.changes: dict[str, list[tuple[float, bool]]] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="pod-timeline", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def serving_at(self, pod: str, moment: float) -> bool:
        """Whether `pod` could take a request sent at `moment` (time.monotonic())."""
        return self._state(pod, moment) or self._state(pod, moment + self.slack)

    def first_serving(self, pod: str) -> float | None:
        return next((t for t, serving in self.changes.get(pod, []) if serving), None)

    def stopped_serving(self, pod: str) -> float | None:
        seen = self.changes.get(pod, [])
        return next((t for t, serving in reversed(seen) if not serving), None)

    def _state(self, pod: str, moment: float) -> bool:
        state = False
        for at, serving in self.changes.get(pod, []):
            if at > moment:
                break
            state = serving
        return state

    def _follow(self) -> None:
        while not self._stopped.is_set():
            watch = kubernetes.watch.Watch()
            for event in watch.stream(self.core.list_namespaced_pod, NS, timeout_seconds=1):
                pod = event["raw_object"]
                serving = is_ready(pod) and not is_terminating(pod) and event["type"] != "DELETED"
                history = self.changes.setdefault(pod["metadata"]["name"], [])
                if not history or history[-1][1] != serving:
                    history.append((time.monotonic(), serving))
                if self._stopped.is_set():
                    watch.stop()


def requests_to_pods_not_serving(
    records: Sequence[Record], run_start: float, timeline: PodTimeline
) -> list[str]:
    """Requests that reached a pod while it was not Ready or was terminating."""
    return [
        f"request at +{record.start:.3f}s served by {record.pod} (status {record.status})"
        for record in records
        if record.pod and not timeline.serving_at(record.pod, run_start + record.start)
    ]


# --- traffic through a Service -----------------------------------------------------------
class Traffic:
    """A planned run of requests against `url`, sent from a thread of its own."""

    def __init__(self, url: str, plan: Sequence[PlannedRequest], timeout: float = 10.0) -> None:
        self.url, self.plan, self.timeout = url, list(plan), timeout
        self.started = 0.0
        self._records: list[Record] = []
        self._thread = threading.Thread(target=self._send, name="traffic", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join(timeout=60)

    def running(self) -> bool:
        return self._thread.is_alive()

    def records(self) -> list[Record]:
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the traffic run did not finish in 60 s"
        return self._records

    def ended_after(self, record: Record, moment: float) -> bool:
        return self.ended_at(record) > moment

    def ended_at(self, record: Record) -> float:
        return self.started + record.start + (record.latency or 0.0)

    def began_before(self, record: Record, moment: float) -> bool:
        return self.started + record.start < moment

    def _send(self) -> None:
        self.started = time.monotonic()
        self._records = asyncio.run(
            run_traffic(self.url, self.plan, model=SERVED_NAME, timeout=self.timeout)
        )


def steady(rate: float, seconds: float, output_tokens: int) -> list[PlannedRequest]:
    """`rate` requests per wall second for `seconds`, each asking for `output_tokens`."""
    return plan_requests(constant(rate, seconds), PROMPT, Fixed(output_tokens))


def at_once(count: int, output_tokens: int) -> list[PlannedRequest]:
    return plan_requests(burst(count), PROMPT, Fixed(output_tokens))


def failed(records: Sequence[Record]) -> list[Record]:
    return [record for record in records if not record.ok]


def summary(records: Sequence[Record]) -> str:
    return format_summary(summarize(records))


# --- engine metrics through a Service ----------------------------------------------------
def engine_gauges(url: str) -> dict[str, float]:
    """The vLLM gauges /metrics reports, parsed with prometheus_client's parser."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        if family.type == "gauge"
        for sample in family.samples
    }

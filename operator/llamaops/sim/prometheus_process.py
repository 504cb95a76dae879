"""A real Prometheus (Debian's `/usr/bin/prometheus`) as a local process, beside a local run.

    with running_prometheus(folder, prometheus_config(...)) as prometheus:
        prometheus.query('up{job="llamaops"}')            # the result list of /api/v1/query
        prometheus.query_range("up", start, end, step=1)  # of /api/v1/query_range

Its configuration, storage and log live in `folder`; it listens on a free port of
127.0.0.1 and is killed at the end. `Prometheus.start` only spawns it (for an event loop
that must not block); `wait_ready` then waits for `/-/ready`.
"""

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

PROMETHEUS = Path("/usr/bin/prometheus")
Obj = dict[str, Any]


class QueryError(Exception):
    """Prometheus refused a query (bad PromQL, or a query it cannot run)."""


class NotReadyError(Exception):
    """Prometheus exited or did not become ready in time; the message ends with its log."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Prometheus:
    """A Prometheus process and its HTTP API at `url`."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], folder: Path) -> None:
        self.url, self.process, self.folder = url, process, folder
        self.log = folder / "prometheus.log"
        self.started = time.monotonic()

    @classmethod
    def start(cls, folder: Path, config: Obj, binary: Path = PROMETHEUS) -> "Prometheus":
        """Write `config` into `folder` (created) and spawn Prometheus; returns at once."""
        folder.mkdir(parents=True, exist_ok=True)
        config_file = folder / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        with (folder / "prometheus.log").open("wb") as output:
            process = subprocess.Popen(
                [
                    str(binary),
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own session: a terminal's Ctrl-C reaches the caller, which still
                # queries it before stopping it.
                start_new_session=True,
            )
        return cls(f"http://127.0.0.1:{port}", process, folder)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise NotReadyError(f"Prometheus is not ready at {self.url}:\n{self.log_text()}")
            time.sleep(0.1)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def query(self, expr: str) -> list[Obj]:
        """The result of an instant query now: one entry per series (or a scalar's one)."""
        return self._api("query", {"query": expr})

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Obj]:
        """A range query (Unix times, step in seconds): one entry per series, each with its
        `metric` labels and `values`, a list of [time, "value"] pairs."""
        return self._api("query_range", {"query": expr, "start": start, "end": end, "step": step})

    def values(self, expr: str, label: str) -> dict[str, float]:
        """`label` -> value of each series the instant query returns."""
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.query(expr)}

    def log_text(self) -> str:
        return self.log.read_text()[-8000:] if self.log.exists() else ""

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def _api(self, endpoint: str, params: dict[str, Any]) -> list[Obj]:
        url = f"{self.url}/api/v1/{endpoint}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
        if body.get("status") != "success":
            raise QueryError(f"{body.get('errorType')}: {body.get('error')}")
        result = body["data"]["result"]
        return result if isinstance(result, list) else [result]


@contextmanager
def running_prometheus(folder: Path, config: Obj, timeout: float = 30.0) -> Iterator[Prometheus]:
    """Prometheus, ready, for the block; killed after it, whatever happens."""
    prometheus = Prometheus.start(folder, config)
    try:
        prometheus.wait_ready(timeout)
        yield prometheus
    finally:
        prometheus.stop()

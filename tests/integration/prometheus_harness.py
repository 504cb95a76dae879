"""A real Prometheus (Debian's `/usr/bin/prometheus`) scraping a local run, for tests.

    config = prometheus_config(monitors, world.cluster.cluster.discovery.url, ...)
    with running_prometheus(tmp_path, config) as prometheus:
        prometheus.query('up{job="llamaops"}')   # the result list of /api/v1/query

Its storage is a temporary folder, it listens on a free port of 127.0.0.1, and it is
killed at the end; a failure inside the block prints its log.
"""

import json
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

from tests.integration.test_operator_endpoints import free_port
from tests.waiting import wait_until

PROMETHEUS = Path("/usr/bin/prometheus")
Obj = dict[str, Any]


class QueryError(Exception):
    """Prometheus refused a query (bad PromQL, or a query it cannot run)."""


class RunningPrometheus:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.process, self.log = url, process, log
        self.started = time.monotonic()

    def query(self, expr: str) -> list[Obj]:
        """The result of an instant query now: one entry per series (or a scalar's one)."""
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
        if body.get("status") != "success":
            raise QueryError(f"{body.get('errorType')}: {body.get('error')}")
        result = body["data"]["result"]
        return result if isinstance(result, list) else [result]

    def values(self, expr: str, label: str) -> dict[str, float]:
        """`label` -> value of each series the query returns."""
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.query(expr)}

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def log_text(self) -> str:
        return self.log.read_text()[-8000:] if self.log.exists() else ""


@contextmanager
def running_prometheus(tmp_path: Path, config: Obj) -> Iterator[RunningPrometheus]:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    config_file = folder / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    port, log = free_port(), folder / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config_file}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    prometheus = RunningPrometheus(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until(prometheus.ready, 30, "Prometheus is ready", evidence=prometheus.log_text)
        yield prometheus
    except BaseException:
        print(f"=== Prometheus' log\n{prometheus.log_text()}")
        print(f"=== its configuration\n{config_file.read_text()}")
        raise
    finally:
        process.kill()
        process.wait(timeout=10)

"""A real Prometheus (Debian's `/usr/bin/prometheus`) scraping a local run, for tests.

    config = prometheus_config(monitors, world.cluster.cluster.discovery.url, ...)
    with running_prometheus(tmp_path, config) as prometheus:
        prometheus.query('up{job="llamaops"}')   # the result list of /api/v1/query

The process is the package's (`llamaops.sim.prometheus_process`); here a failure inside
the block also prints Prometheus' log and its configuration.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from llamaops.sim import prometheus_process
from llamaops.sim.prometheus_process import PROMETHEUS, QueryError

RunningPrometheus = prometheus_process.Prometheus
__all__ = ["PROMETHEUS", "QueryError", "RunningPrometheus", "running_prometheus"]


@contextmanager
def running_prometheus(tmp_path: Path, config: dict[str, Any]) -> Iterator[RunningPrometheus]:
    folder = tmp_path / "prometheus"
    with prometheus_process.running_prometheus(folder, config) as prometheus:
        try:
            yield prometheus
        except BaseException:
            print(f"=== Prometheus' log\n{prometheus.log_text()}")
            print(f"=== its configuration\n{(folder / 'prometheus.yml').read_text()}")
            raise

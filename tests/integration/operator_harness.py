"""The real operator process (`llamaops run`) against the local cluster, for tests.

with operator_world(tmp_path) as world:
    world.kubectl("apply", "-f", "manifests/llama3-70b.yaml")
    world.wait_until(lambda: world.ready_replicas("llama3-70b") == 2, 30, "2 replicas ready")
"""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from llamaops.sim.cluster.config import ClusterFile
from tests.integration.cluster_fixture import REPO, RunningCluster, running_cluster

LLAMAOPS = Path(sys.executable).parent / "llamaops"


class OperatorWorld:
    """A local cluster with the CRD installed and `llamaops run` watching it."""

    def __init__(self, cluster: RunningCluster, log: Path) -> None:
        self.cluster, self.log = cluster, log
        self.process: subprocess.Popen[str] | None = None
        self.metrics_port = 0  # 0: any free port; set one to scrape the operator's metrics
        self.flags: tuple[str, ...] = ()  # more flags for `llamaops run`
        self._output: Any = None

    def start_operator(
        self, command: list[str] | None = None, env: dict[str, str] | None = None
    ) -> None:
        """`llamaops run` as the admin; or `command` (another kubeconfig, other flags) with
        `env` (default: this process's, never in-cluster)."""
        if env is None:
            env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        self._output = self.log.open("a")
        self.process = subprocess.Popen(
            command
            or [
                str(LLAMAOPS),
                "run",
                "--kubeconfig",
                str(self.cluster.kubeconfig),
                "--metrics-port",
                str(self.metrics_port),
                "--health-port",
                "0",
                "--verbose",
                *self.flags,
            ],
            stdout=self._output,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )

    def kill_operator(self) -> None:
        """SIGKILL: no clean-up, as a crashed or evicted operator."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        self._close_output()

    def stop_operator(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
            self.process = None
        self._close_output()

    def _close_output(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.cluster.kubectl(*args, check=check)

    def llama(self, name: str) -> dict[str, Any] | None:
        found = self.kubectl("get", "llama", name, "-o", "json", check=False)
        return json.loads(found.stdout) if found.returncode == 0 else None

    def condition(self, name: str, kind: str) -> dict[str, Any] | None:
        status = (self.llama(name) or {}).get("status") or {}
        return next((c for c in status.get("conditions") or [] if c["type"] == kind), None)

    def replica_pods(self, name: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.cluster.pods()
            if (p["metadata"].get("labels") or {}).get("serving.llamaops.io/deployment") == name
        ]

    def ready_replicas(self, name: str) -> int:
        return int(((self.llama(name) or {}).get("status") or {}).get("readyReplicas") or 0)

    def wait_until(self, predicate: Any, timeout: float = 30.0, what: str = "") -> Any:
        return self.cluster.wait_until(predicate, timeout, f"{what}\n{self.operator_log()}")

    def operator_log(self) -> str:
        return "--- operator log ---\n" + (
            self.log.read_text()[-6000:] if self.log.exists() else ""
        )


@contextmanager
def operator_world(
    tmp_path: Path,
    cluster_file: str | ClusterFile = "e2e/clusters/h100-2x8.yaml",
    speed: float = 20.0,
    *,
    authorize: bool = False,
    start: bool = True,
    address: tuple[str, int] = ("127.0.0.1", 0),
    flags: tuple[str, ...] = (),
) -> Iterator[OperatorWorld]:
    """`start=False`: the test starts the operator itself (world.start_operator); `flags`:
    more flags for `llamaops run`."""
    with running_cluster(
        tmp_path, cluster_file, speed, authorize=authorize, address=address
    ) as cluster:
        cluster.kubectl("apply", "-f", str(REPO / "crds"))
        cluster.kubectl("create", "secret", "generic", "hf-token", "--from-literal=token=t")
        world = OperatorWorld(cluster, tmp_path / "operator.log")
        world.flags = flags
        if start:
            world.start_operator()
        try:
            yield world
        finally:
            world.stop_operator()

"""The local cluster in this process, for tests: API emulator, nodes, scheduler, kubelets.

with running_cluster(tmp_path, "e2e/clusters/h100-2x8.yaml", speed=20) as cluster:
    cluster.kubectl("apply", "-f", ...)
    cluster.wait_until(lambda: ..., timeout=30)
"""

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.clock import Clock
from llamaops.sim.cluster.cluster import LocalCluster
from llamaops.sim.cluster.config import ClusterFile, load_cluster_file
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
T = TypeVar("T")


class RunningCluster:
    """A started local cluster and the ways a test talks to it."""

    def __init__(self, api: BackgroundApiServer, cluster: LocalCluster, kubeconfig: Path) -> None:
        self.api, self.cluster, self.kubeconfig = api, cluster, kubeconfig

    def run(self, action: Callable[[], Any]) -> Any:
        """Run `action` on the cluster's event loop (awaited if it is a coroutine)."""
        return self.api.run(action)

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def pods(self, namespace: str = "default") -> list[dict[str, Any]]:
        return [dict(p) for p in self.run(lambda: self.cluster.api.list("pods", namespace))]

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.run(lambda: self.cluster.api.get(plural, namespace, name))  # type: ignore[no-any-return]

    def wait_until(self, predicate: Callable[[], T], timeout: float = 30.0, message: str = "") -> T:
        """Poll `predicate` until it returns something truthy; fail with evidence if not."""
        return wait_until(predicate, timeout, message, evidence=self.evidence)

    def evidence(self) -> str:
        got = self.kubectl("get", "nodes,pods,services,endpoints", "-A", "-o", "wide", check=False)
        events = self.kubectl("get", "events", "-A", check=False)
        return f"{got.stdout}{got.stderr}\n--- events ---\n{events.stdout}"


@contextmanager
def running_cluster(
    tmp_path: Path,
    cluster_file: str | ClusterFile,
    speed: float = 20.0,
    *,
    authorize: bool = False,
    address: tuple[str, int] = ("127.0.0.1", 0),
) -> Iterator[RunningCluster]:
    """`authorize`: the API server checks tokens and RBAC (over https); the kubeconfig is
    the admin's. `address`: where the API server listens (port 0: a free one)."""
    config = (
        cluster_file
        if isinstance(cluster_file, ClusterFile)
        else load_cluster_file(REPO / cluster_file)
    )
    kubeconfig = tmp_path / "kubeconfig"
    with BackgroundApiServer(
        kubeconfig=kubeconfig,
        host=address[0],
        port=address[1],
        clock=Clock(speed),
        bookmark_interval=1.0,
        authorize=authorize,
    ) as api:
        assert api.server is not None
        cluster = LocalCluster(config, api.server)
        api.run(cluster.start)
        try:
            yield RunningCluster(api, cluster, kubeconfig)
        finally:
            api.run(cluster.stop)

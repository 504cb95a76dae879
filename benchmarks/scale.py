"""Benchmark: the operator at fleet scale, this code against the code before its informers
(`--baseline`, default the last commit before them), in one run on the same cluster.

The local cluster runs in this process at wall-clock speed with engine mode "idle": each
replica pod runs nothing and passes its probes, so 10,000 pods cost the machine little and
what is measured is the control plane. Nothing answers on the pods' addresses: the
operator's /metrics reads fail at once (connection refused) and cost it little; with real
engines each read is one small GET per replica per interval, the same in both versions.

For each version, as the same `llamaops run` process a user starts (the baseline from a
git worktree of its commit):
  - at rest (every deployment ready, nothing changing, one minute): the API requests it
    makes per second, by kind: writes, cluster-wide lists, other reads; its RSS and CPU;
  - change -> first write: a spec change (rollout.maxUnavailable, which changes the
    PodDisruptionBudget) of one deployment every 0.5 s, and the time until the operator's
    first write for that deployment (status or budget), p50 and p99;
  - restart: SIGKILL, start again, and the time until it has reconciled every deployment
    once (its llamaops_reconciles_total), with the requests it made meanwhile.

    .venv/bin/python benchmarks/scale.py [--deployments 1000] [--replicas 10]
"""

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes
from results_table import markdown, publish

from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.apiserver.request_log import Request, RequestLog
from llamaops.sim.clock import Clock
from llamaops.sim.cluster.cluster import LocalCluster
from llamaops.sim.cluster.config import ClusterFile

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks/results/scale.md"
LLAMAOPS = Path(sys.executable).parent / "llamaops"
BASELINE = "e45a1d0"  # the last commit before the informers (issue 12)
GROUP, VERSION, PLURAL = "serving.llamaops.io", "v1alpha1", "llamadeployments"
NAMESPACE = "fleet"
AT_REST_SECONDS = 60.0
CHANGES = 60
CHANGE_EVERY = 0.5
# Nodes of 64 GPUs: 157 kubelets rather than 1,250 for the local cluster to run in one
# process (each pod event goes to every kubelet's watch). The operator before lists the
# nodes at every reconcile: fewer of them only favours it.
GPUS_PER_NODE = 64
RESTART_LIMIT = 900.0  # seconds; a version slower than that is reported as such
ANSWER_WAIT = 30.0  # seconds a spec change may wait for its first write


@dataclass
class Figures:
    version: str
    ready_seconds: float = math.nan
    rest: dict[str, float] = field(default_factory=dict)
    rss_mib: float = math.nan
    cpu_share: float = math.nan
    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    restart_seconds: float = math.nan
    restart_requests: dict[str, float] = field(default_factory=dict)


# --- the cluster ------------------------------------------------------------------------
def cluster_file(pods: int) -> ClusterFile:
    """One-GPU replicas fill nodes of H100 (pools of at most 1,000 nodes, the file's cap)."""
    nodes = math.ceil(pods / GPUS_PER_NODE)
    gpu = {"product": "NVIDIA-H100-80GB-HBM3", "count": GPUS_PER_NODE, "memoryMiB": 81559}
    pools = [
        {"pool": f"h100-{first // 1000}", "count": min(1000, nodes - first), "gpu": gpu}
        for first in range(0, nodes, 1000)
    ]
    return ClusterFile.model_validate({"nodes": pools, "engine": {"mode": "idle"}})


def deployment(index: int, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "LlamaDeployment",
        "metadata": {"name": f"llama-{index:04d}", "namespace": NAMESPACE},
        "spec": {
            "model": {"name": "llama3.1-8b-instruct", "maxModelLen": 8192},
            "replicas": replicas,
            "rollout": {"maxUnavailable": 1},
        },
    }


# --- the operator process --------------------------------------------------------------
class Operator:
    """`llamaops run` of one version: this checkout's, or a worktree's (PYTHONPATH)."""

    def __init__(self, kubeconfig: Path, source: Path | None, log: Path) -> None:
        self.kubeconfig, self.source, self.log = kubeconfig, source, log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        if self.source is not None:
            env["PYTHONPATH"] = str(self.source / "operator")
        command = [str(LLAMAOPS), "run", "--kubeconfig", str(self.kubeconfig)]
        command += ["--metrics-port", str(self.port), "--health-port", "0"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=env
            )

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def reconciles(self) -> float:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return 0.0
        for line in text.splitlines():
            if line.startswith('llamaops_reconciles_total{result="ok"}'):
                return float(line.split()[-1])
        return 0.0

    def rss_mib(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return math.nan

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- measuring ---------------------------------------------------------------------------
def by_operator(requests: list[Request]) -> list[Request]:
    """The operator's requests: everything but this benchmark's own client."""
    return [r for r in requests if not r.agent.startswith("scale-benchmark")]


def kinds(requests: list[Request], seconds: float) -> dict[str, float]:
    """Requests per second: writes, cluster-wide lists, other reads, watches opened."""
    mine = by_operator(requests)
    return {
        "writes": sum(r.write for r in mine) / seconds,
        "cluster-wide lists": sum(r.verb == "list" and r.namespace is None for r in mine) / seconds,
        "other reads": sum(r.verb in ("get", "list") and r.namespace is not None for r in mine)
        / seconds,
        "watches opened": sum(r.verb == "watch" for r in mine) / seconds,
        "all": len(mine) / seconds,
    }


def wait_for(what: str, check: Callable[[], bool], timeout: float, give_up: bool = False) -> float:
    """Seconds until `check()`; past `timeout`, NaN if `give_up` (reported), else an exit."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            if give_up:
                return math.nan
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(1.0)
    return time.monotonic() - started


def quiet(log: RequestLog, seconds: float) -> bool:
    """No write by the operator for `seconds`."""
    start = log.mark()
    time.sleep(seconds)
    return not any(r.write for r in by_operator(log.since(start)))


@dataclass
class Fleet:
    """The cluster as the benchmark drives it: its request log, a client, the names."""

    log: RequestLog
    custom: Any
    names: list[str]
    all_ready: Callable[[], bool]


def measure(version: str, operator: Operator, fleet: Fleet) -> Figures:
    figures = Figures(version)
    log, custom, names, all_ready = fleet.log, fleet.custom, fleet.names, fleet.all_ready
    print(f"[{version}] starting the operator", flush=True)
    operator.start()
    figures.ready_seconds = wait_for("every replica ready", all_ready, 3600)
    # The code before never stops writing (it writes at every resync): 2 minutes at most.
    wait_for("the operator to stop writing", lambda: quiet(log, 10.0), 120, give_up=True)

    print(f"[{version}] at rest for {AT_REST_SECONDS:.0f} s", flush=True)
    start, cpu = log.mark(), operator.cpu_seconds()
    time.sleep(AT_REST_SECONDS)
    figures.rest = kinds(log.since(start), AT_REST_SECONDS)
    figures.cpu_share = (operator.cpu_seconds() - cpu) / AT_REST_SECONDS
    figures.rss_mib = operator.rss_mib()

    print(f"[{version}] {CHANGES} spec changes, one every {CHANGE_EVERY} s", flush=True)
    figures.latencies, figures.missed = change_to_write(log, custom, names)

    print(f"[{version}] restart", flush=True)
    wait_for("the operator to stop writing", lambda: quiet(log, 5.0), 60, give_up=True)
    operator.kill()
    start = log.mark()
    began = time.monotonic()
    operator.start()
    figures.restart_seconds = wait_for(
        "every deployment reconciled",
        lambda: operator.reconciles() >= len(names),
        RESTART_LIMIT,
        give_up=True,
    )
    figures.restart_requests = {
        k: v * (time.monotonic() - began)
        for k, v in kinds(log.since(start), time.monotonic() - began).items()
    }
    operator.kill()
    print(f"[{version}] {figures}", flush=True)
    return figures


def change_to_write(log: RequestLog, custom: Any, names: list[str]) -> tuple[list[float], int]:
    """Latency from each spec change to the operator's first write for that deployment."""
    changes: list[tuple[str, float]] = []
    made: dict[str, int] = {}
    for index in range(CHANGES):
        name = names[(index * 7919) % len(names)]  # spread over the fleet
        made[name] = made.get(name, 0) + 1
        allowed = 1 + made[name] % 2 + 1  # 3, 2, 3...: a change every time (it starts at 1)
        sent = time.monotonic()
        custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            NAMESPACE,
            PLURAL,
            name,
            {"spec": {"rollout": {"maxUnavailable": allowed}}},
        )
        changes.append((name, sent))
        time.sleep(CHANGE_EVERY)
    time.sleep(ANSWER_WAIT)  # the slowest answers
    writes = [r for r in by_operator(log.requests) if r.write and not r.agent.startswith("kopf/")]
    latencies, missed = [], 0
    for name, sent in changes:
        first = next((r.at for r in writes if r.at >= sent and r.name == name), None)
        if first is None:
            missed += 1
        else:
            latencies.append(first - sent)
    return latencies, missed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# --- the run -----------------------------------------------------------------------------
def worktree(revision: str, folder: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(folder), revision],
        check=True,
        capture_output=True,
    )
    return folder


def run(deployments: int, replicas: int, baseline: str) -> tuple[Figures, Figures]:
    with tempfile.TemporaryDirectory() as scratch_text:
        scratch = Path(scratch_text)
        old_source = worktree(baseline, scratch / "baseline")
        try:
            return run_in(scratch, old_source, deployments, replicas, baseline)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(old_source)],
                check=False,
                capture_output=True,
            )


def run_in(
    scratch: Path, old_source: Path, deployments: int, replicas: int, baseline: str
) -> tuple[Figures, Figures]:
    kubeconfig = scratch / "kubeconfig"
    with BackgroundApiServer(kubeconfig=kubeconfig, clock=Clock(1.0), history_size=200000) as api:
        assert api.server is not None
        cluster = LocalCluster(cluster_file(deployments * replicas), api.server)
        api.run(cluster.start)
        subprocess.run(
            [
                str(Path(sys.executable).parent / "kubectl"),
                "--kubeconfig",
                str(kubeconfig),
                "apply",
                "-f",
                str(REPO / "crds"),
            ],
            check=True,
            capture_output=True,
        )
        client = kubernetes.config.new_client_from_config(str(kubeconfig))
        client.user_agent = "scale-benchmark"
        core = kubernetes.client.CoreV1Api(client)
        custom = kubernetes.client.CustomObjectsApi(client)
        core.create_namespace({"metadata": {"name": NAMESPACE}})
        names = []
        for index in range(deployments):
            body = deployment(index, replicas)
            custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, body)
            names.append(body["metadata"]["name"])
        print(f"{deployments} LlamaDeployments of {replicas} replicas created", flush=True)

        def all_ready() -> bool:
            listed = custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
            ready = [
                (item.get("status") or {}).get("readyReplicas") == replicas
                for item in listed["items"]
            ]
            return len(ready) == deployments and all(ready)

        fleet = Fleet(api.server.requests, custom, names, all_ready)
        new = measure("this code", Operator(kubeconfig, None, scratch / "new.log"), fleet)
        before = Operator(kubeconfig, old_source, scratch / "old.log")
        old = measure(f"before ({baseline})", before, fleet)
        client.close()
        api.run(cluster.stop)
    return new, old


def report(new: Figures, old: Figures, deployments: int, replicas: int) -> str:
    def ratio(a: float, b: float) -> str:
        if math.isnan(a) or math.isnan(b):
            return "n/a"
        if a == 0:
            return "∞ (none now)" if b > 0 else "same (none)"
        return f"{b / a:.1f} × fewer" if b >= a else f"{a / b:.1f} × more"

    rows = []
    for kind in ("all", "writes", "cluster-wide lists", "other reads"):
        a, b = new.rest.get(kind, math.nan), old.rest.get(kind, math.nan)
        rows.append((f"at rest: {kind} per second", f"{a:.2f} (before: {b:.2f})", ratio(a, b)))
    rows += [
        (
            "at rest: RSS",
            f"{new.rss_mib:.0f} MiB (before: {old.rss_mib:.0f} MiB)",
            "goal ≤ 300 MiB",
        ),
        (
            "at rest: CPU",
            f"{new.cpu_share * 100:.1f} % of a core (before: {old.cpu_share * 100:.1f} %)",
            "scrapes of 0 engines included",
        ),
    ]
    for q in (0.5, 0.99):
        a, b = (_seconds(percentile(f.latencies, q)) for f in (new, old))
        rows.append(
            (
                f"change -> first write, p{q * 100:.0f}",
                f"{a} (before: {b})",
                f"{CHANGES} changes, {new.missed} / {old.missed} without a write in "
                f"{ANSWER_WAIT:.0f} s; "
                "goal p99 ≤ 1 s",
            )
        )

    def took(seconds: float) -> str:
        return f"> {RESTART_LIMIT:.0f} s" if math.isnan(seconds) else f"{seconds:.0f} s"

    rows.append(
        (
            "restart: every deployment reconciled after",
            f"{took(new.restart_seconds)} (before: {took(old.restart_seconds)})",
            f"requests meanwhile: {new.restart_requests.get('all', 0):.0f} "
            f"(before: {old.restart_requests.get('all', 0):.0f}); writes "
            f"{new.restart_requests.get('writes', 0):.0f} "
            f"(before: {old.restart_requests.get('writes', 0):.0f})",
        )
    )
    rows.append(
        (
            "first start: every replica ready after",
            f"{new.ready_seconds:.0f} s",
            "created by this code; the baseline took over a ready fleet",
        )
    )
    how = (
        f"`python benchmarks/scale.py --deployments {deployments} --replicas {replicas}`: "
        f"{deployments} LlamaDeployments × {replicas} one-GPU replicas = "
        f"{deployments * replicas} pods on {math.ceil(deployments * replicas / GPUS_PER_NODE)} "
        f"nodes of {GPUS_PER_NODE} H100, local cluster in the benchmark's process, engine mode "
        "idle (no engine runs: the control plane alone), 2 cores; this code against the "
        "operator before the informers, on the same cluster in the same run."
    )
    return markdown("Operator at fleet scale", how, rows)


def _seconds(latency: float) -> str:
    """A latency; none at all (every change went unanswered) is more than the wait."""
    return f"> {ANSWER_WAIT:.0f} s" if math.isnan(latency) else f"{latency:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=10)
    parser.add_argument("--baseline", default=BASELINE, help="git revision before the informers")
    args = parser.parse_args()
    new, old = run(args.deployments, args.replicas, args.baseline)
    publish(RESULTS, report(new, old, args.deployments, args.replicas))
    print(json.dumps({"new": new.__dict__, "old": old.__dict__}, default=str)[:4000])


if __name__ == "__main__":
    main()

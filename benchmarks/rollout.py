"""Rollout benchmark: 4 replicas of Llama-3.1-70B at about 60 % load roll to a new revision.

Everything runs as a user runs it, each in its own process: `llamaops sim up` (the local
cluster of e2e/clusters/h100-3x8-rollout.yaml, room for one surge replica), `llamaops run`
(the operator), `kubectl apply` and `kubectl patch`, and `llamaops sim traffic` through
the Service the whole time. The rollout's time is compared with the least a one-at-a-time
rollout can take, N × (load + drain): load is the mean time from a new replica's creation
to Ready, drain the mean from DrainStarted to the old replica's deletion, both read from
the cluster. Goal: a ratio of at most 1.1, and no failed request. Writes
benchmarks/results/rollout.md.

    .venv/bin/python benchmarks/rollout.py [--speed 2] [--replicas 4]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from results_table import Row, markdown, publish

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results" / "rollout.md"
CLUSTER = ROOT / "e2e" / "clusters" / "h100-3x8-rollout.yaml"
NAME = "llama3-70b"
TEMPLATE = "serving.llamaops.io/template-hash"
PER_REPLICA_RATE = 8.9  # requests/s one 70B replica carries within the SLO (sim autoscale)


class Bench:
    def __init__(self, work: Path, speed: float) -> None:
        self.work, self.speed = work, speed
        self.kubeconfig = work / "kubeconfig"
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *command: str, log: str) -> subprocess.Popen[str]:
        out = (self.work / log).open("w")
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        self.processes.append(process)
        return process

    def kubectl(self, *args: str) -> str:
        command = [str(BIN / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def wait(self, check: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = check()
            except subprocess.CalledProcessError:
                found = None
            if found:
                return found
            time.sleep(0.2)
        raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")

    def close(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def pods(bench: Bench) -> list[dict[str, Any]]:
    selector = f"serving.llamaops.io/deployment={NAME}"
    return list(bench.get("pods", "-l", selector)["items"])


def ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def all_on_one_template(bench: Bench, replicas: int, not_on: str | None = None) -> bool:
    live = [p for p in pods(bench) if not p["metadata"].get("deletionTimestamp")]
    templates = {p["metadata"]["labels"][TEMPLATE] for p in live}
    return (
        len(live) == replicas
        and all(ready(p) for p in live)
        and len(templates) == 1
        and not_on not in templates
    )


def seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def load_times(bench: Bench, template: str) -> list[float]:
    """Creation to Ready of each replica on `template`, in wall seconds (the cluster
    stamps pods in its own time, `speed` times the wall's)."""
    times = []
    for pod in pods(bench):
        if pod["metadata"]["labels"][TEMPLATE] != template:
            continue
        conditions = {c["type"]: c for c in pod["status"].get("conditions") or []}
        became = conditions.get("Ready", {}).get("lastTransitionTime")
        if became:
            cluster = seconds(became) - seconds(pod["metadata"]["creationTimestamp"])
            times.append(cluster / bench.speed)
    return times


def drain_times(bench: Bench) -> list[float]:
    """DrainStarted to Drained (the old replica deleted), per pod, from the operator's
    events (stamped by the operator: wall seconds)."""
    events = bench.get("events")["items"]
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    for event in events:
        message, when = event.get("message", ""), event.get("lastTimestamp") or ""
        if not when or "Pod " not in message:
            continue
        pod = message.split("Pod ", 1)[1].split()[0].rstrip(":")
        if event.get("reason") == "DrainStarted":
            started[pod] = seconds(when)
        elif event.get("reason") in ("Drained", "DrainTimedOut"):
            ended[pod] = seconds(when)
    return [ended[p] - started[p] for p in started if p in ended]


def run(speed: float, replicas: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder), speed)
        try:
            return measure(bench, speed, replicas)
        finally:
            bench.close()


def measure(bench: Bench, speed: float, replicas: int) -> dict[str, float]:
    kubeconfig = str(bench.kubeconfig)
    llamaops = str(BIN / "llamaops")
    bench.start(
        llamaops, "sim", "up", "--cluster", str(CLUSTER), "--kubeconfig", kubeconfig,
        "--speed", f"{speed:g}", log="cluster.log",
    )  # fmt: skip
    bench.wait(bench.kubeconfig.exists, 30, "the cluster's kubeconfig")
    bench.wait(lambda: bench.kubectl("get", "nodes"), 30, "the API server")
    bench.kubectl("apply", "-f", str(ROOT / "crds"))
    bench.kubectl("create", "secret", "generic", "hf-token", "--from-literal=token=t")
    bench.start(llamaops, "run", "--kubeconfig", kubeconfig, "--metrics-port", "0",
                "--health-port", "0", log="operator.log")  # fmt: skip
    manifest = yaml.safe_load((ROOT / "manifests" / "llama3-70b.yaml").read_text())
    manifest["spec"]["replicas"] = replicas
    revision = {"uri": "hf://meta-llama/Llama-3.1-70B-Instruct", "revision": "a1"}
    manifest["spec"]["model"]["checkpoint"] = revision
    path = bench.work / "llama.json"
    path.write_text(json.dumps(manifest))
    bench.kubectl("apply", "-f", str(path))
    bench.wait(lambda: all_on_one_template(bench, replicas), 600, f"{replicas} ready replicas")
    (before,) = {p["metadata"]["labels"][TEMPLATE] for p in pods(bench)}
    service = bench.get("service", NAME)
    url = service["metadata"]["annotations"]["sim.llamaops.io/proxy-url"]
    rate = 0.6 * replicas * PER_REPLICA_RATE / speed  # wall requests/s: 60 % of capacity
    budget = 120 + replicas * 120 / speed
    records = bench.work / "requests.jsonl"
    traffic = subprocess.Popen(
        [llamaops, "sim", "traffic", "--target", url, "--rate", f"{rate:.2f}",
         "--duration", f"{budget + 60:.0f}", "--out", str(records), "--output-tokens", "64",
         "--timeout", "120"],
        stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    time.sleep(5)
    started = time.monotonic()
    patch = {"spec": {"model": {"checkpoint": {"revision": "b2"}}}}
    bench.kubectl("patch", "llama", NAME, "--type=merge", "-p", json.dumps(patch))
    bench.wait(lambda: all_on_one_template(bench, replicas, not_on=before), budget, "the rollout")
    took = time.monotonic() - started
    time.sleep(5)
    traffic.terminate()  # requests still in flight now are cut and not counted
    traffic.wait(timeout=30)
    live = [p for p in pods(bench) if not p["metadata"].get("deletionTimestamp")]
    (after,) = {p["metadata"]["labels"][TEMPLATE] for p in live}
    loads, drains = load_times(bench, after), drain_times(bench)
    sent = [json.loads(line) for line in records.read_text().splitlines() if line.strip()]
    failed = [r for r in sent if not (isinstance(r["status"], int) and 200 <= r["status"] < 300)]
    load = sum(loads) / len(loads)
    drain = sum(drains) / len(drains) if drains else 0.0
    ideal = replicas * (load + drain)
    return {
        "rollout": took,
        "load": load,
        "drain": drain,
        "ideal": ideal,
        "ratio": took / ideal,
        "sent": float(len(sent)),
        "failed": float(len(failed)),
        "rate": rate,
    }


def report(figures: dict[str, float], speed: float, replicas: int) -> str:
    ratio_note = "goal ≤ 1.1: " + ("met" if figures["ratio"] <= 1.1 else "MISSED")
    failed_note = "goal 0: " + ("met" if figures["failed"] == 0 else "MISSED")
    rows: list[Row] = [
        ("rollout: the patch to every replica ready on b2", f"{figures['rollout']:.1f} s", ""),
        ("load: new replica created to Ready (mean)", f"{figures['load']:.1f} s", ""),
        ("drain: DrainStarted to old replica deleted (mean)", f"{figures['drain']:.1f} s", ""),
        (f"N × (load + drain), N = {replicas}", f"{figures['ideal']:.1f} s", "one at a time"),
        ("rollout / (N × (load + drain))", f"{figures['ratio']:.2f}", ratio_note),
        ("requests sent / failed", f"{figures['sent']:.0f} / {figures['failed']:.0f}", failed_note),
    ]  # fmt: skip
    how = (
        f"{replicas} replicas of Llama-3.1-70B (TP 4 on H100) roll from revision a1 to b2 "
        f"with maxSurge 1, maxUnavailable 0 and a warm-up completion per new replica, "
        f"while `llamaops sim traffic` sends {figures['rate']:.1f} requests/s (60 % of "
        f"what {replicas} replicas carry within the SLO); the local cluster runs at speed "
        f"{speed:g}, and times are wall seconds (`.venv/bin/python benchmarks/rollout.py`)."
    )
    return markdown("Rollout", how, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--speed", type=float, default=2.0)
    parser.add_argument("--replicas", type=int, default=4)
    args = parser.parse_args()
    figures = run(args.speed, args.replicas)
    publish(RESULTS, report(figures, args.speed, args.replicas))
    return 0 if figures["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

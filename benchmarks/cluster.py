"""Benchmark of the local cluster: 64 nodes × 8 GPUs running 500 simulated vLLM pods.

Runs the cluster in this process (as `llamaops sim up` does) at wall-clock speed, creates
500 one-GPU engine pods and a Service over them, waits until all are Ready, then measures
the CPU and memory each idle engine pod costs, and the request rate the cluster sustains
through the Service's proxy with `llamaops sim traffic` running as its own process.
Writes the figures to benchmarks/results/cluster.md.

    .venv/bin/python benchmarks/cluster.py [--pods 500] [--nodes 64]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results_table import markdown, publish

from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.clock import Clock
from llamaops.sim.cluster.cluster import LocalCluster
from llamaops.sim.cluster.config import ClusterFile

RESULTS = Path(__file__).parent / "results" / "cluster.md"
LLAMAOPS = Path(sys.executable).parent / "llamaops"


def config(nodes: int) -> ClusterFile:
    return ClusterFile.model_validate(
        {
            "nodes": [
                {
                    "pool": "h100",
                    "count": nodes,
                    "gpu": {"product": "NVIDIA-H100-80GB-HBM3", "count": 8, "memoryMiB": 81559},
                }
            ],
            "engine": {"mode": "simulated", "startupSeconds": 2},
        }
    )


def engine_pod(index: int) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 10}
    return {
        "metadata": {"name": f"engine-{index:03d}", "labels": {"app": "bench"}},
        "spec": {
            "containers": [
                {
                    "name": "vllm",
                    "image": "vllm/vllm-openai:v0.11.0",
                    "command": [
                        "vllm",
                        "serve",
                        "meta-llama/Llama-3.1-8B-Instruct",
                        "--served-model-name",
                        "llama",
                        "--max-model-len",
                        "8192",
                        "--shutdown-timeout",
                        "30",
                    ],
                    "ports": [{"containerPort": 8000}],
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                    "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
                    "readinessProbe": probe,
                    "livenessProbe": {**probe, "periodSeconds": 30},
                }
            ]
        },
    }


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ready_count(api: BackgroundApiServer, cluster: LocalCluster) -> int:
    def count() -> int:
        return sum(
            1
            for pod in cluster.api.list("pods", "default")
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (pod.get("status") or {}).get("conditions") or []
            )
        )

    return int(api.run(count))


def traffic(url: str, rate: float, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            str(LLAMAOPS),
            "sim",
            "traffic",
            "--target",
            url,
            "--model",
            "llama",
            "--rate",
            str(rate),
            "--duration",
            str(seconds),
            "--output-tokens",
            "16",
            "--prompt-tokens",
            "64",
            "--concurrency",
            "256",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    summary: dict[str, Any] = json.loads(out.stdout)
    return summary


def measure(pods: int, nodes: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory() as scratch,
        BackgroundApiServer(kubeconfig=Path(scratch) / "kubeconfig", clock=Clock(1.0)) as api,
    ):
        assert api.server is not None
        cluster = LocalCluster(config(nodes), api.server)
        api.run(cluster.start)
        time.sleep(1)
        figures["rss_nodes_mib"] = rss_mib()
        start = time.monotonic()
        for index in range(pods):
            api.run(lambda i=index: cluster.api.create("pods", "default", engine_pod(i)))
        api.run(
            lambda: cluster.api.create(
                "services",
                "default",
                {
                    "metadata": {"name": "bench"},
                    "spec": {"selector": {"app": "bench"}, "ports": [{"port": 8000}]},
                },
            )
        )
        while ready_count(api, cluster) < pods:
            if time.monotonic() - start > 600:
                raise SystemExit(f"only {ready_count(api, cluster)} of {pods} pods became Ready")
            time.sleep(1)
        figures["all_ready_s"] = time.monotonic() - start
        time.sleep(5)  # let the start-up burst of probes and writes settle
        figures["rss_pods_mib"] = rss_mib()
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        time.sleep(30)
        figures["idle_cpu_share"] = (cpu_seconds() - cpu0) / (time.monotonic() - wall0)
        url = api.run(lambda: cluster.service_url("default", "bench"))
        for rate in (50, 100, 200, 400):
            summary = traffic(url, rate, 15)
            figures[f"rate_{rate}_ok_per_s"] = (
                summary["requests_per_second"] if summary["failed"] == 0 else 0.0
            )
            figures[f"rate_{rate}_failed"] = summary["failed"] + summary.get("dropped", 0)
            figures[f"rate_{rate}_p99_latency"] = (summary.get("latency") or {}).get("p99") or 0
        api.run(cluster.stop)
    return figures


def report(figures: dict[str, float], pods: int, nodes: int) -> str:
    per_pod_kib = (figures["rss_pods_mib"] - figures["rss_nodes_mib"]) * 1024 / pods
    rows = [
        ("pods Ready after", f"{figures['all_ready_s']:.0f} s", f"{pods} pods created at once"),
        (
            "memory per engine pod",
            f"{per_pod_kib:.0f} KiB",
            f"{figures['rss_nodes_mib']:.0f} -> {figures['rss_pods_mib']:.0f} MiB resident",
        ),
        (
            "CPU per idle engine pod",
            f"{figures['idle_cpu_share'] * 1000 / pods:.2f} ms/s",
            f"{figures['idle_cpu_share'] * 100:.1f}% of one core for all {pods} (probes, leases)",
        ),
    ]
    for rate in (50, 100, 200, 400):
        failed = int(figures[f"rate_{rate}_failed"])
        rows.append(
            (
                f"traffic offered at {rate}/s",
                f"{figures[f'rate_{rate}_ok_per_s']:.0f} ok/s"
                if not failed
                else f"{failed} failed or dropped",
                f"p99 latency {figures[f'rate_{rate}_p99_latency']:.2f} s, 16 output tokens",
            )
        )
    how = (
        f"`python benchmarks/cluster.py --pods {pods} --nodes {nodes}` on "
        f"{nodes} nodes × 8 H100-80GB, {pods} one-GPU simulated vLLM pods behind one "
        "Service, on a 2-core machine, at wall-clock speed; the traffic generator runs "
        "as its own process."
    )
    return markdown("Local cluster benchmark", how, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=500)
    parser.add_argument("--nodes", type=int, default=64)
    args = parser.parse_args()
    figures = measure(args.pods, args.nodes)
    text = report(figures, args.pods, args.nodes)
    publish(RESULTS, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of the local cluster's API emulator: 1,000 pods and 10 watchers.

Starts `llamaops sim api` as its own process, drives it over HTTP like any client, and
prints the rates of creates, patches and lists, the latency from a write to its event
at 10 watchers, and the emulator's memory (resident set) before and after. Writes the
figures to benchmarks/results/apiserver.md.

    .venv/bin/python benchmarks/apiserver.py [--pods 1000] [--watchers 10]
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from results_table import markdown, publish

RESULTS = Path(__file__).parent / "results" / "apiserver.md"
PODS = "/api/v1/namespaces/default/pods"


def pod(index: int) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"bench-{index:05d}", "labels": {"app": "bench", "n": str(index)}},
        "spec": {
            "containers": [
                {
                    "name": "vllm",
                    "image": "vllm/vllm-openai:v0.11.0",
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                }
            ]
        },
    }


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def timed_batch(
    session: aiohttp.ClientSession, requests: list[tuple[str, str, object]], concurrency: int = 16
) -> float:
    """Requests per second for the batch, `concurrency` in flight."""
    queue: asyncio.Queue[tuple[str, str, object]] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)

    async def worker() -> None:
        while not queue.empty():
            method, url, body = queue.get_nowait()
            headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
            async with session.request(method, url, json=body, headers=headers) as response:
                await response.read()
                if response.status >= 300:
                    raise RuntimeError(f"{method} {url}: {response.status}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(requests) / (time.perf_counter() - start)


async def watch_latency(
    session: aiohttp.ClientSession, base: str, pods: int, watchers: int, writes: int
) -> list[float]:
    """Seconds from each write's response to its MODIFIED event, at every watcher."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    ready = asyncio.Event()
    opened = 0

    async def watcher() -> None:
        nonlocal opened
        async with session.get(f"{base}{PODS}?watch=true&resourceVersion=0") as response:
            added = seen = 0
            async for line in response.content:
                event = json.loads(line)
                if event["type"] == "ADDED":
                    added += 1
                    if added == pods:
                        opened += 1
                        if opened == watchers:
                            ready.set()
                    continue
                marker = event["object"]["metadata"].get("annotations", {}).get("bench")
                if marker in sent:
                    latencies.append(time.perf_counter() - sent[marker])
                    seen += 1
                    if seen == writes:
                        return

    tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
    await ready.wait()
    for index in range(writes):
        marker = f"w{index}"
        body = {"metadata": {"annotations": {"bench": marker}}}
        url = f"{base}{PODS}/bench-{index % pods:05d}"
        sent[marker] = time.perf_counter()
        async with session.patch(
            url, json=body, headers={"Content-Type": "application/merge-patch+json"}
        ) as r:
            await r.read()
        await asyncio.sleep(0.005)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return latencies


async def measure(base: str, pid: int, pods: int, watchers: int) -> dict[str, float]:
    figures: dict[str, float] = {"memory_empty_mib": resident_mib(pid)}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        creates = [("POST", f"{base}{PODS}", pod(i)) for i in range(pods)]
        figures["create_per_s"] = await timed_batch(session, creates)
        patches = [
            ("PATCH", f"{base}{PODS}/bench-{i:05d}", {"metadata": {"labels": {"patched": "yes"}}})
            for i in range(pods)
        ]
        figures["patch_per_s"] = await timed_batch(session, patches)
        lists = [("GET", f"{base}{PODS}", None)] * 20
        figures["list_1000_per_s"] = await timed_batch(session, lists, concurrency=2)
        figures["memory_loaded_mib"] = resident_mib(pid)
        latencies = await watch_latency(session, base, pods, watchers, writes=100)
        figures["watch_p50_ms"] = statistics.median(latencies) * 1000
        figures["watch_p99_ms"] = sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000
        figures["memory_watching_mib"] = resident_mib(pid)
    return figures


def report(figures: dict[str, float], pods: int, watchers: int) -> str:
    per_pod_kib = (figures["memory_loaded_mib"] - figures["memory_empty_mib"]) * 1024 / pods
    rows = [
        ("creates", f"{figures['create_per_s']:.0f} /s", f"{pods} pods, 16 in flight"),
        ("merge patches", f"{figures['patch_per_s']:.0f} /s", f"{pods} pods, 16 in flight"),
        ("lists of all pods", f"{figures['list_1000_per_s']:.1f} /s", f"{pods} items each"),
        (
            "watch fan-out p50",
            f"{figures['watch_p50_ms']:.1f} ms",
            f"write -> event, {watchers} watchers",
        ),
        (
            "watch fan-out p99",
            f"{figures['watch_p99_ms']:.1f} ms",
            f"write -> event, {watchers} watchers",
        ),
        ("memory, empty", f"{figures['memory_empty_mib']:.0f} MiB", "resident set"),
        (
            "memory, loaded",
            f"{figures['memory_loaded_mib']:.0f} MiB",
            f"{per_pod_kib:.1f} KiB per pod",
        ),
        (
            "memory, watching",
            f"{figures['memory_watching_mib']:.0f} MiB",
            f"{watchers} watches open",
        ),
    ]
    how = (
        f"`python benchmarks/apiserver.py --pods {pods} --watchers {watchers}` on "
        "a 2-core machine; client and server in separate processes."
    )
    return markdown("API emulator benchmark", how, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        kubeconfig = Path(scratch) / "kubeconfig"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "llamaops"),
                "sim",
                "api",
                "--kubeconfig",
                str(kubeconfig),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            first = server.stdout.readline()
            if " at http" not in first:
                raise SystemExit(f"llamaops sim api did not start: {first!r}")
            base = first.split(" at ")[-1].strip()
            figures = asyncio.run(measure(base, server.pid, args.pods, args.watchers))
        finally:
            server.terminate()
            server.wait(timeout=10)
    text = report(figures, args.pods, args.watchers)
    publish(RESULTS, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

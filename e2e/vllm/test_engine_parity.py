"""The simulated engine against the real one, on the scenarios where they should agree.

Each scenario is one async function over an engine (anything with the container shape:
`start()`, `exited`, `terminate()`, `kill()`) and its URL; it runs once on the real vLLM
(CPU build, the tiny Llama, the flags the operator renders plus the manifest's extraArgs)
and once on the simulated engine (`llamaops.sim.engine`, clock at wall speed), and the two
outcomes must match:
- readiness after load: nothing answers while the model loads (connection refused), then
  `/health` is 200; and then
- drain on SIGTERM with `--shutdown-timeout`: queued and running requests all complete,
  `/health` stays 200, a new request gets 500 "cannot schedule new futures after
  shutdown", and the process exits 0;
- the drain timeout passing: what is unfinished is never completed and the server stops
  listening. Here they differ on purpose: the simulated engine leaves the unfinished
  requests unanswered and lingers until SIGKILL, the real one leaves them unanswered and
  exits once their clients give up (or, in some runs, answers them 500 and exits at once);
  the kubelet's SIGKILL at the end of the grace period ends both.
It also checks that every metric family the simulated engine emits exists in the real
exposition with the same type and labels, and that the real exposition kept as the parsers'
unit-test fixture still matches the pinned vLLM.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from e2e.vllm.cpu_world import (
    CHECKPOINTS,
    CLUSTER_FILE,
    FIGURES,
    require_vllm_env,
    tiny_manifest,
)
from e2e.vllm.engine_client import Answer, complete_async, families
from llamaops.sim.clock import Clock
from llamaops.sim.cluster.config import load_cluster_file
from llamaops.sim.cluster.containers import Container, ProcessContainer
from llamaops.sim.engine import EngineProfile, SimulatedEngine, parse_command_line

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests/unit/fixtures/vllm-0.32.0-cpu-metrics.txt"
MODEL = "tiny-llama"
SHUTDOWN_MESSAGE = "cannot schedule new futures after shutdown"
# The simulated engine loads in 3 s; the real one in 20-30 s on these cores.
SIM_PROFILE = EngineProfile(startup_seconds=3.0, load_bandwidth_gbps=100.0)
LOAD_TIMEOUT = 150.0
CLIENT_TIMEOUT = 30.0
EXIT_WAIT = 12.0  # after the burst's answers: how long the process may take to exit
TIMES = ("load seconds", "exit seconds")
TIMES_AND_TEXT = (*TIMES, "exposition")


def serve_flags(shutdown_timeout: int) -> list[str]:
    """What the operator renders for the tiny Llama (TP 1), with the manifest's extraArgs."""
    manifest = tiny_manifest()
    extra = manifest["spec"]["engine"]["extraArgs"]
    return [
        *("--served-model-name", MODEL, "--tensor-parallel-size", "1"),
        *("--max-model-len", "512", "--gpu-memory-utilization", "0.9", "--dtype", "bfloat16"),
        *("--port", "8000", "--shutdown-timeout", str(shutdown_timeout), *extra),
    ]


@dataclass
class Running:
    engine: Container
    url: str
    started: float


Scenario = Callable[[Running, aiohttp.ClientSession], Awaitable[dict[str, object]]]


def run_on_both(
    scenario: Scenario,
    shutdown_timeout: int,
    folder: Path,
    ip_suffix: int,
    client_timeout: float = CLIENT_TIMEOUT,
) -> dict[str, dict[str, object]]:
    """The scenario's outcome on the real engine and on the simulated one."""

    async def on(kind: str) -> dict[str, object]:
        ip = f"127.0.{ip_suffix}.{1 if kind == 'real' else 2}"
        engine = (
            _real(ip, shutdown_timeout, folder) if kind == "real" else _sim(ip, shutdown_timeout)
        )
        running = Running(engine, f"http://{ip}:8000", time.monotonic())
        timeout = aiohttp.ClientTimeout(total=client_timeout)
        try:
            await engine.start()
            async with aiohttp.ClientSession(timeout=timeout) as session:
                return await scenario(running, session)
        finally:
            engine.kill()
            await asyncio.wait([engine.exited], timeout=10)

    return {kind: asyncio.run(on(kind)) for kind in ("real", "sim")}


def _real(ip: str, shutdown_timeout: int, folder: Path) -> Container:
    cluster = load_cluster_file(CLUSTER_FILE).engine
    argv = [str(REPO / ".venv-vllm/bin/vllm"), "serve", str(CHECKPOINTS / "tiny-a")]
    argv += [*serve_flags(shutdown_timeout), "--host", ip]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
    log = folder / f"vllm-{ip}.log"
    return ProcessContainer(
        ["nice", "-n", str(cluster.niceness), *argv], env, log, cluster.niceness
    )


def _sim(ip: str, shutdown_timeout: int) -> Container:
    args = parse_command_line(["vllm", "serve", "/models/tiny-a", *serve_flags(shutdown_timeout)])
    return SimulatedEngine(args, host=ip, pod_name="tiny", clock=Clock(1.0), profile=SIM_PROFILE)


# --- the scenarios -----------------------------------------------------------------------
async def health(session: aiohttp.ClientSession, url: str) -> int | None:
    try:
        async with session.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
            return r.status
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None


async def wait_ready(running: Running, session: aiohttp.ClientSession) -> list[int | None]:
    """Poll /health until 200; every answer seen before it."""
    seen: list[int | None] = []
    deadline = time.monotonic() + LOAD_TIMEOUT
    while time.monotonic() < deadline and not running.engine.exited.done():
        status = await health(session, running.url)
        if status == 200:
            return seen
        seen.append(status)
        await asyncio.sleep(0.2)
    raise AssertionError(f"{running.url} was not ready in {LOAD_TIMEOUT} s; it answered {seen}")


async def waiting(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("vllm:num_requests_waiting{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def drained_on_sigterm(
    running: Running, session: aiohttp.ClientSession, max_tokens: int
) -> dict[str, object]:
    """What answered while it loaded; then a burst until a queue forms, SIGTERM, a new
    request and a health check during the drain; each burst request's status and how the
    process ended."""
    before = await wait_ready(running, session)
    loaded = time.monotonic() - running.started
    url = running.url
    burst = [
        asyncio.ensure_future(complete_async(session, url, MODEL, max_tokens)) for _ in range(8)
    ]
    while await waiting(session, url) == 0:
        await asyncio.sleep(0.05)
    exposition = await (await session.get(f"{url}/metrics")).text()
    exited_at: list[float] = []
    running.engine.exited.add_done_callback(lambda _: exited_at.append(time.monotonic()))
    await running.engine.terminate()
    terminated = time.monotonic()
    await asyncio.sleep(0.3)
    new: Answer = await complete_async(session, url, MODEL, max_tokens=4)
    during = await health(session, url)
    answers: list[Answer] = list(await asyncio.gather(*burst))
    done, _ = await asyncio.wait([running.engine.exited], timeout=EXIT_WAIT)
    code = running.engine.exited.result() if done else None
    return {
        "answers while loading": sorted(set(before), key=str),
        "new request": (new.status, SHUTDOWN_MESSAGE in new.error),
        "health while draining": during,
        "burst": sorted({a.status for a in answers}, key=str),
        "exit code": code,
        "exit seconds": round(exited_at[0] - terminated, 1) if exited_at else None,
        "exposition": exposition,
        "load seconds": round(loaded),
    }


# --- the tests ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_vllm_env()
    return tmp_path_factory.mktemp("parity")


def test_both_load_then_drain_on_sigterm_and_refuse_new_requests(folder: Path) -> None:
    async def scenario(running: Running, session: aiohttp.ClientSession) -> dict[str, object]:
        return await drained_on_sigterm(running, session, max_tokens=300)

    outcome = run_on_both(scenario, 30, folder, 232)
    real, sim = (
        {k: v for k, v in outcome[kind].items() if k not in TIMES_AND_TEXT}
        for kind in ("real", "sim")
    )
    times = {kind: {k: outcome[kind][k] for k in TIMES} for kind in outcome}
    print(f"  load and drain: real {real}, sim {sim}; seconds {times}")
    FIGURES.append(
        f"vllm serve alone: listening {times['real']['load seconds']} s after start; exit "
        f"{times['real']['exit seconds']} s after SIGTERM with 8 requests to drain "
        f"(simulated: {times['sim']['load seconds']} s, {times['sim']['exit seconds']} s)"
    )
    assert real == {
        "answers while loading": [None],
        "new request": (500, True),
        "health while draining": 200,
        "burst": [200],
        "exit code": 0,
    }
    assert sim == real
    _expect_families_match(str(outcome["real"]["exposition"]), str(outcome["sim"]["exposition"]))


def test_neither_completes_what_is_unfinished_when_the_drain_times_out(folder: Path) -> None:
    async def scenario(running: Running, session: aiohttp.ClientSession) -> dict[str, object]:
        outcome = await drained_on_sigterm(running, session, max_tokens=480)
        outcome["health after the timeout"] = await health(session, running.url)
        outcome["exited on its own"] = running.engine.exited.done()
        return outcome

    outcome = run_on_both(scenario, 2, folder, 233, client_timeout=10.0)
    shown = {k: {f: v for f, v in o.items() if f != "exposition"} for k, o in outcome.items()}
    print(f"  drain timeout: {shown}")
    for kind in ("real", "sim"):
        burst = outcome[kind]["burst"]
        assert burst in ([200, 500], [200, None], [200, 500, None]), f"{kind}: {shown}"
        assert outcome[kind]["health after the timeout"] is None, f"{kind}: {shown}"
    assert outcome["sim"]["burst"] == [200, None], "the simulated engine answers nothing"
    assert outcome["sim"]["exited on its own"] is False, "the simulated engine lingers"
    assert outcome["real"]["exited on its own"] is True, shown
    assert outcome["real"]["exit code"] == 0, shown


def _expect_families_match(real_text: str, sim_text: str) -> None:
    real, sim = families(real_text), families(sim_text)
    missing = {name: kind for name, kind in sim.items() if name not in real}
    assert missing == {}, f"the simulated engine emits families the real one does not: {missing}"
    differ = {name: (sim[name], real[name]) for name in sim if sim[name] != real[name]}
    assert differ == {}, f"(simulated, real) type and labels differ: {differ}"
    kept = families(FIXTURE.read_text())
    assert kept == real, (
        f"{FIXTURE.name} no longer matches the real exposition: update it from the real "
        "engine (this test prints one)"
    )

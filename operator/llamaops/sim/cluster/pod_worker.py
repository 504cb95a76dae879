"""One pod on one node, from ContainerCreating to gone: what a kubelet does for it.

Containers start after a short creation delay; probes decide readiness and liveness;
a container whose Secret is missing waits in CreateContainerConfigError until it
exists; a container that exits (or fails its liveness probe) restarts after a doubling
back-off (10 s up to 5 min, CrashLoopBackOff meanwhile); deletion sends SIGTERM, waits the grace
period, then SIGKILL, and finally removes the pod.
"""

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from llamaops.sim.clock import timestamp
from llamaops.sim.cluster import pod_status
from llamaops.sim.cluster.container_config import REASON as CONFIG_ERROR
from llamaops.sim.cluster.container_config import config_error
from llamaops.sim.cluster.containers import Container
from llamaops.sim.cluster.probes import ProbeSpec, check, until_started, watch_probe

if TYPE_CHECKING:
    from llamaops.sim.cluster.kubelet import Kubelet

Obj = dict[str, Any]
CREATE_SECONDS = 1.0
BACKOFF_START, BACKOFF_MAX = 10.0, 300.0
CONFIG_RETRY_SECONDS = 2.0  # the kubelet's next sync of a pod it could not start


class PodWorker:
    """Runs a pod's containers and keeps its status."""

    def __init__(self, kubelet: "Kubelet", pod: Obj) -> None:
        self.kubelet, self.api, self.clock = kubelet, kubelet.api, kubelet.api.clock
        self.pod = pod
        meta = pod["metadata"]
        self.uid, self.namespace, self.name = meta["uid"], meta["namespace"], meta["name"]
        self.specs: list[Obj] = pod["spec"].get("containers") or []
        self.deleting = asyncio.Event()
        self.ip = ""
        self.started_at = ""
        self.states: dict[str, Obj] = {
            c["name"]: pod_status.waiting("ContainerCreating") for c in self.specs
        }
        self.last: dict[str, Obj] = {}
        self.ready: dict[str, bool] = {c["name"]: False for c in self.specs}
        self.started: dict[str, bool] = {c["name"]: False for c in self.specs}
        self.restarts: dict[str, int] = {c["name"]: 0 for c in self.specs}
        self.finished: str | None = None  # Succeeded or Failed, for pods that do not restart
        self.containers: dict[str, Container] = {}

    async def run(self) -> None:
        self.ip = self.kubelet.addresses.take(self.uid)
        self.started_at = timestamp(self.clock.now())
        self.publish()
        await self._wait_or_deleted(CREATE_SECONDS)
        if not self.deleting.is_set():
            await asyncio.gather(*(self._run_container(spec) for spec in self.specs))
        if self.deleting.is_set():
            self.api.delete("pods", self.namespace, self.name, grace=0)

    def stop_abruptly(self) -> None:
        """The node is gone: containers die with it and nothing is reported."""
        for container in self.containers.values():
            container.kill()

    # --- one container ---------------------------------------------------------------
    async def _run_container(self, spec: Obj) -> None:
        name = spec["name"]
        while not self.deleting.is_set():
            if await self._misconfigured(spec):
                continue
            container = self.kubelet.container_for(self.pod, spec, self.ip)
            self.containers[name] = container
            await container.start()
            self.states[name] = pod_status.running(timestamp(self.clock.now()))
            probed = getattr(container, "probed", True)  # a stand-in passes them all
            probes_free = not spec.get("readinessProbe") and not spec.get("startupProbe")
            self.started[name] = not spec.get("startupProbe") or not probed
            self.ready[name] = probes_free or not probed
            self.publish()
            self.api.event(self.pod, "Started", f"Started container {name}")
            unhealthy = asyncio.Event()
            probing = asyncio.create_task(
                self._probe(spec, unhealthy) if probed else asyncio.Event().wait()
            )
            try:
                await _first(container.exited, self.deleting.wait(), unhealthy.wait())
            finally:  # also when the node dies and this worker is cancelled
                probing.cancel()
            if self.deleting.is_set():
                await self._stop(name, container)
                return
            if not container.exited.done():  # liveness or startup failed: restart it
                self.api.event(
                    self.pod,
                    "Killing",
                    f"Container {name} failed liveness probe, will be restarted",
                )
                await self._stop(name, container)
            if not await self._after_exit(spec, container.exited.result()):
                return

    async def _misconfigured(self, spec: Obj) -> bool:
        """A Secret the container needs is missing: wait in CreateContainerConfigError
        (a Warning Event when the problem is new) and let the caller try again."""
        name = spec["name"]
        problem = config_error(self.pod, spec, lambda ns, n: self.api.get("secrets", ns, n))
        if problem is None:
            return False
        if self.states[name] != pod_status.waiting(CONFIG_ERROR, problem):
            self.states[name] = pod_status.waiting(CONFIG_ERROR, problem)
            self.publish()
            self.api.event(self.pod, "Failed", f"Error: {problem}", kind="Warning")
        await self._wait_or_deleted(CONFIG_RETRY_SECONDS)
        return True

    async def _after_exit(self, spec: Obj, code: int) -> bool:
        """Record the exit; back off and return True to restart, False to stay down."""
        name = spec["name"]
        now = timestamp(self.clock.now())
        started = self.states[name].get("running", {}).get("startedAt")
        self.last[name] = pod_status.terminated(code, started, now)
        self.ready[name] = False
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and code == 0):
            self.states[name] = self.last.pop(name)
            self.finished = "Succeeded" if code == 0 else "Failed"
            self.publish()
            return False
        self.restarts[name] += 1
        backoff = min(BACKOFF_START * 2 ** (self.restarts[name] - 1), BACKOFF_MAX)
        message = f"back-off {backoff:.0f}s restarting failed container={name} pod={self.name}"
        self.states[name] = pod_status.waiting("CrashLoopBackOff", message)
        self.publish()
        self.api.event(
            self.pod, "BackOff", f"Back-off restarting failed container {name}", kind="Warning"
        )
        await self._wait_or_deleted(backoff)
        return not self.deleting.is_set()

    async def _probe(self, spec: Obj, unhealthy: asyncio.Event) -> None:
        name = spec["name"]
        ports = {p["name"]: p["containerPort"] for p in spec.get("ports") or [] if "name" in p}
        session = self.kubelet.session
        assert session is not None, "the kubelet runs pods only while started"

        def attempt(probe: ProbeSpec) -> Any:
            return lambda: check(probe, self.ip, ports, self.clock, session)

        startup = ProbeSpec.of(spec.get("startupProbe"))
        if startup is not None:
            if not await until_started(startup, attempt(startup), self.clock):
                unhealthy.set()
                return
            self.started[name] = True
            self.publish()
        readiness = ProbeSpec.of(spec.get("readinessProbe"))
        liveness = ProbeSpec.of(spec.get("livenessProbe"))
        loops = []
        if readiness is not None:
            loops.append(
                watch_probe(
                    readiness, attempt(readiness), self.clock, lambda ok: self._set_ready(name, ok)
                )
            )
        elif startup is not None:
            self._set_ready(name, True)
        if liveness is not None:
            loops.append(
                watch_probe(
                    liveness,
                    attempt(liveness),
                    self.clock,
                    lambda ok: None if ok else unhealthy.set(),
                )
            )
        await asyncio.gather(*loops)

    def _set_ready(self, name: str, ready: bool) -> None:
        if self.ready[name] != ready:
            self.ready[name] = ready
            self.publish()

    async def _stop(self, name: str, container: Container) -> None:
        """The preStop hook, SIGTERM, the rest of the grace period, then SIGKILL."""
        current = self.api.get("pods", self.namespace, self.name) or self.pod
        grace = current["metadata"].get("deletionGracePeriodSeconds")
        if grace is None:
            grace = current["spec"].get("terminationGracePeriodSeconds", 30)
        deadline = self.clock.monotonic() + float(grace)
        self.ready[name] = False
        spec = next((c for c in self.specs if c["name"] == name), {})
        hook = (spec.get("lifecycle") or {}).get("preStop")
        if hook and not container.exited.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pre_stop(hook), self.clock.wall_seconds(float(grace)))
        await container.terminate()
        left = max(0.0, deadline - self.clock.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(container.exited), self.clock.wall_seconds(left))
        if not container.exited.done():
            container.kill()
            await container.exited

    async def _pre_stop(self, hook: Obj) -> None:
        """Run a preStop hook: `sleep` (and `exec` of a sleep) wait, `httpGet` is sent."""
        seconds = pre_stop_sleep(hook)
        if seconds:
            await self.clock.sleep(seconds)
        elif "httpGet" in hook and self.kubelet.session is not None:
            probe = ProbeSpec(handler={"httpGet": hook["httpGet"]}, timeout=30.0)
            await check(probe, self.ip, {}, self.clock, self.kubelet.session)

    async def _wait_or_deleted(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.deleting.wait(), self.clock.wall_seconds(seconds))

    # --- status ----------------------------------------------------------------------
    def publish(self) -> None:
        now = timestamp(self.clock.now())
        specs = {c["name"]: c for c in self.specs}
        running = any("running" in state for state in self.states.values())
        ready = bool(self.specs) and all(self.ready.values()) and running

        def write(pod: Obj) -> None:
            status = pod.setdefault("status", {})
            status["phase"] = self.finished or (
                "Running" if running or self.restarts_any() else "Pending"
            )
            status["conditions"] = pod_status.conditions(
                now, True, True, ready, status.get("conditions") or []
            )
            status["hostIP"] = self.kubelet.node_ip
            status["hostIPs"] = [{"ip": self.kubelet.node_ip}]
            status["podIP"] = self.ip
            status["podIPs"] = [{"ip": self.ip}]
            status["startTime"] = self.started_at
            status["containerStatuses"] = [
                pod_status.container_status(
                    specs[name],
                    self.states[name],
                    ready=self.ready[name],
                    restarts=self.restarts[name],
                    last_state=self.last.get(name),
                    started=self.started[name],
                )
                for name in specs
            ]

        self.api.update("pods", self.pod, write, status=True)

    def restarts_any(self) -> bool:
        return any(self.restarts.values())


async def _first(exited: "asyncio.Future[int]", *waits: Any) -> None:
    """Until the container exits or one of the events is set; the exit future is kept."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait([exited, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def pre_stop_sleep(hook: Obj) -> float:
    """Seconds a preStop hook sleeps: the `sleep` action, or `exec` of `sleep N`
    (directly or through `sh -c`); exec hooks that do anything else cannot run here."""
    if "sleep" in hook:
        return float(hook["sleep"].get("seconds", 0))
    words = [str(w) for w in (hook.get("exec") or {}).get("command") or []]
    if len(words) == 3 and words[0].endswith("sh") and words[1] == "-c":
        words = words[2].split()
    if len(words) == 2 and words[0].endswith("sleep"):
        try:
            return float(words[1])
        except ValueError:
            return 0.0
    return 0.0

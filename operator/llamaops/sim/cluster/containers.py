"""What runs in a pod's container: a simulated vLLM engine, the pod's own command as a
local process, or (for anything that is not `vllm serve`) an idle container.

All three share one shape: `start()`, an `exited` future with the exit code,
`terminate()` (SIGTERM: the container decides how to stop) and `kill()` (SIGKILL).
"""

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any, Protocol

Obj = dict[str, Any]
KILLED = 137  # 128 + SIGKILL
TERMINATED = 143  # 128 + SIGTERM


class Container(Protocol):
    exited: "asyncio.Future[int]"

    async def start(self) -> None: ...

    async def terminate(self) -> None: ...

    def kill(self) -> None: ...


class IdleContainer:
    """A container that runs and does nothing until it is stopped."""

    def __init__(self) -> None:
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        return None

    async def terminate(self) -> None:
        self._exit(TERMINATED)

    def kill(self) -> None:
        self._exit(KILLED)

    def _exit(self, code: int) -> None:
        if not self.exited.done():
            self.exited.set_result(code)


class StandInContainer(IdleContainer):
    """Engine mode "idle": a container that runs nothing and passes its probes at once, so
    that thousands of replica pods cost the cluster nothing (benchmarks/scale.py measures
    the control plane alone; nothing answers on the pod's address)."""

    probed = False


class ProcessContainer:
    """The pod's own command as a local process (process_command.py says how it is mapped),
    in a process group of its own: SIGTERM goes to the main process, as a container
    runtime sends it to PID 1; SIGKILL to the whole group, as a container's cgroup dies
    whole (vLLM's engine-core and worker processes with it). Output goes to `log`, if
    given. A new session is also a new scheduling autogroup on Linux, which shares the CPU
    equally with every other session whatever the processes' nice values: `niceness` is
    set on the group too (process_command.py says why)."""

    def __init__(
        self, argv: list[str], env: dict[str, str], log: Path | None = None, niceness: int = 0
    ) -> None:
        self.argv, self.env, self.log, self.niceness = argv, env, log, niceness
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        output = self.log.open("ab") if self.log is not None else asyncio.subprocess.DEVNULL
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:  # no such program: the container fails, as runc would
            if not isinstance(output, int):
                output.write(f"exec {self.argv[0]}: {error.strerror}\n".encode())
            self.exited.set_result(127 if isinstance(error, FileNotFoundError) else 126)
            return
        finally:
            if not isinstance(output, int):
                output.close()
        if self.niceness:  # no autogroups (or no /proc): the nice value alone does it
            with contextlib.suppress(OSError):
                Path(f"/proc/{self._process.pid}/autogroup").write_text(f"{self.niceness}\n")
        asyncio.get_running_loop().create_task(self._wait())

    async def _wait(self) -> None:
        assert self._process is not None
        code = await self._process.wait()
        if not self.exited.done():
            self.exited.set_result(128 - code if code < 0 else code)

    async def terminate(self) -> None:
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the group, even after the main process exited: a child it left
        behind still belongs to the container."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)

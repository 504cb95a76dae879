"""What runs in a pod's container: a simulated vLLM engine, the pod's own command as a
local process, or (for anything that is not `vllm serve`) an idle container.

All three share one shape: `start()`, an `exited` future with the exit code,
`terminate()` (SIGTERM: the container decides how to stop) and `kill()` (SIGKILL).
"""

import asyncio
import contextlib
import os
import signal
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


class ProcessContainer:
    """The pod's own command as a local process, told its address by POD_IP and PORT."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.env = argv, env
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self.argv,
            env={**os.environ, **self.env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        asyncio.get_running_loop().create_task(self._wait())

    async def _wait(self) -> None:
        assert self._process is not None
        code = await self._process.wait()
        if not self.exited.done():
            self.exited.set_result(128 - code if code < 0 else code)

    async def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, which: signal.Signals) -> None:
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(which)

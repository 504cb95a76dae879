"""The API emulator on an event loop of its own thread, for synchronous callers: tests
that use kubectl or the official client, and commands that run other things beside it."""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from llamaops.sim.apiserver.server import ApiServer
from llamaops.sim.kubeconfig import write_kubeconfig

T = TypeVar("T")


class BackgroundApiServer:
    """`with BackgroundApiServer(kubeconfig=path) as api: ...` serves until the block ends."""

    def __init__(
        self,
        kubeconfig: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **server_options: Any,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.host, self.port = host, port
        self._options = server_options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="apiserver", daemon=True
        )
        self.server: ApiServer | None = None
        self.url = ""

    def start(self) -> "BackgroundApiServer":
        self._thread.start()
        self.server = self.run(self._make_server)
        self.url = self.run(lambda: self.server.start(self.host, self.port))  # type: ignore[union-attr]
        if self.kubeconfig is not None:
            served = self.server.certificate
            write_kubeconfig(self.kubeconfig, self.url, served.cert_pem if served else None)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.run(self.server.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def run(self, action: Callable[[], Any]) -> Any:
        """Run `action` on the server's loop (awaiting it if it returns a coroutine)."""

        async def call() -> Any:
            result = action()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        future: Future[Any] = asyncio.run_coroutine_threadsafe(call(), self._loop)
        return future.result(timeout=30)

    async def _make_server(self) -> ApiServer:
        return ApiServer(**self._options)

    def __enter__(self) -> "BackgroundApiServer":
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

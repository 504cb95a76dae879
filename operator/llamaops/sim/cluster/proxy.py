"""kube-proxy, for HTTP: each Service gets a port on 127.0.0.1 that spreads requests over
its ready endpoints, round robin, streaming responses through as they come.

The address is recorded on the Service as the annotation `sim.llamaops.io/proxy-url`.
Only ready, non-terminating endpoints receive requests (the Endpoints object's
`addresses`); with none, the proxy answers 503 as a Service without endpoints refuses.
"""

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from llamaops.sim.cluster.access import ClusterApi

Obj = dict[str, Any]
PROXY_URL = "sim.llamaops.io/proxy-url"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
    "host",
}


class ServiceProxy:
    """The proxy of one Service port."""

    def __init__(self, api: ClusterApi, namespace: str, name: str, port: Obj) -> None:
        self.api, self.namespace, self.name, self.port = api, namespace, name, port
        self.url = ""
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self.url

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _backends(self) -> list[str]:
        endpoints = self.api.get("endpoints", self.namespace, self.name) or {}
        found = []
        for subset in endpoints.get("subsets") or []:
            ports = subset.get("ports") or []
            port = next(
                (p["port"] for p in ports if p.get("name", "") == self.port.get("name", "")),
                ports[0]["port"] if ports else None,
            )
            found += [f"{a['ip']}:{port}" for a in subset.get("addresses") or [] if port]
        return found

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        backends = self._backends()
        if not backends:
            return web.Response(
                status=503,
                text=f'no endpoints available for service "{self.namespace}/{self.name}"\n',
            )
        backend = backends[next(self._turn) % len(backends)]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        assert self._session is not None
        response: web.StreamResponse | None = None
        try:
            async with self._session.request(
                request.method, f"http://{backend}{request.path_qs}", headers=headers, data=body
            ) as answer:
                response = web.StreamResponse(status=answer.status, reason=answer.reason)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        response.headers[key] = value
                await response.prepare(request)
                async for chunk in answer.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as error:
            if response is not None and response.prepared:
                # The backend went away mid-answer: the client's connection drops too, as a
                # TCP connection through kube-proxy would.
                if request.transport is not None:
                    request.transport.close()
                return response
            return web.Response(status=502, text=f"upstream {backend}: {error}\n")


class Proxies:
    """A proxy for every Service port, opened and closed as Services come and go."""

    def __init__(self, api: ClusterApi) -> None:
        self.api = api
        self.announce: Callable[[str], None] | None = None  # told of each new proxy
        self._proxies: dict[tuple[str, str], ServiceProxy] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="proxies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for proxy in self._proxies.values():
            await proxy.stop()
        self._proxies.clear()

    def url_of(self, namespace: str, name: str) -> str | None:
        proxy = self._proxies.get((namespace, name))
        return proxy.url if proxy is not None else None

    async def _watch(self) -> None:
        while True:
            async for kind, service in self.api.watch("services"):
                await self._see(kind, service)
            await asyncio.sleep(0.05)

    async def _see(self, kind: str, service: Obj) -> None:
        meta = service["metadata"]
        key = (meta["namespace"], meta["name"])
        if kind == "DELETED":
            proxy = self._proxies.pop(key, None)
            if proxy is not None:
                await proxy.stop()
            return
        ports = (service.get("spec") or {}).get("ports") or []
        if key in self._proxies or not ports:
            return
        proxy = ServiceProxy(self.api, meta["namespace"], meta["name"], ports[0])
        self._proxies[key] = proxy
        url = await proxy.start()
        if self.announce is not None:
            self.announce(f"Service {meta['namespace']}/{meta['name']} at {url}")
        self.api.update(
            "services",
            service,
            lambda obj: obj["metadata"].setdefault("annotations", {}).update({PROXY_URL: url}),
        )

"""The HTTP server Prometheus' `http_sd_configs` poll for the local cluster's targets:

    GET {url}/pod[?namespace=N&namespace=M]        role pod
    GET {url}/endpoints[?namespace=N]              role endpoints

Each answer is computed from the API objects at the time of the request
(`prometheus_sd.discover`), so Prometheus sees pods come and go at its `refresh_interval`.
"""

import json

from aiohttp import web

from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.prometheus_sd import ROLES, discover


class PrometheusDiscovery:
    """`start()` returns the base URL; `{url}/pod` and `{url}/endpoints` list targets."""

    def __init__(self, api: ClusterApi) -> None:
        self.api = api
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/{role}", self._answer)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _answer(self, request: web.Request) -> web.Response:
        role = request.match_info["role"]
        if role not in ROLES:
            return web.Response(status=404, text=f"unknown role {role!r}; known: {ROLES}\n")
        namespaces = request.query.getall("namespace", [])
        groups = discover(role, self.api.list, namespaces)
        return web.Response(text=json.dumps(groups), content_type="application/json")

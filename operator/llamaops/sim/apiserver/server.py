"""The aiohttp application: routing, content negotiation, Status errors and the verbs.

`ApiServer` owns the store, registry, object semantics, lifecycle and faults; `start()`
serves them on a port of 127.0.0.1 (0 picks a free one) and returns the URL.
"""

import logging
from typing import Any

from aiohttp import web

from llamaops.sim.apiserver import discovery, openapi_docs, subresources, wire
from llamaops.sim.apiserver.auth import (
    ADMIN,
    PUBLIC_PATHS,
    REVIEWS,
    Auth,
    policy_of,
    self_review,
)
from llamaops.sim.apiserver.errors import (
    ApiError,
    bad_request,
    method_not_allowed,
    unauthorized,
)
from llamaops.sim.apiserver.faults import Faults
from llamaops.sim.apiserver.lifecycle import Lifecycle
from llamaops.sim.apiserver.objects import Objects
from llamaops.sim.apiserver.paths import Target, parse
from llamaops.sim.apiserver.registry import Registry
from llamaops.sim.apiserver.request_log import Request, RequestLog
from llamaops.sim.apiserver.selectors import parse_field_selector, parse_label_selector
from llamaops.sim.apiserver.store import Obj, Store, Watch
from llamaops.sim.apiserver.tables import table
from llamaops.sim.apiserver.tls import ServingCertificate, self_signed
from llamaops.sim.apiserver.watch import WatchStream
from llamaops.sim.clock import Clock

log = logging.getLogger("llamaops.sim.apiserver")
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Built-in kinds whose immediate DELETE answers with the deleted object (others: a Status).
RETURNS_DELETED_OBJECT = {"Pod", "Service"}


class ApiServer:
    """A Kubernetes API emulator served over HTTP."""

    def __init__(
        self,
        clock: Clock | None = None,
        bookmark_interval: float = 10.0,
        history_size: int = 10000,
        authorize: bool = False,
    ) -> None:
        self.clock = clock or Clock()
        self.auth = Auth(enforce=authorize)
        # Tokens need TLS (client-go sends none over plain HTTP): then https, self-signed.
        self.certificate: ServingCertificate | None = None  # made by start(), for its host
        self.store = Store(history_size)
        self.registry = Registry()
        self.api = Objects(self.store, self.registry, self.clock)
        self.lifecycle = Lifecycle(self.api)
        self.faults = Faults(self.store)
        self.requests = RequestLog()
        self.bookmark_interval = bookmark_interval
        self.url = ""
        self._runner: web.AppRunner | None = None
        for name in DEFAULT_NAMESPACES:
            namespaces = self.registry.find("", "v1", "namespaces")
            assert namespaces is not None
            self.api.create(namespaces, "", {"metadata": {"name": name}})

    # --- serving -----------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._errors, self._authenticate], client_max_size=64 * 1024**2
        )
        app.router.add_get("/version", self._version)
        app.router.add_get("/healthz", self._ok)
        app.router.add_get("/livez", self._ok)
        app.router.add_get("/readyz", self._ok)
        app.router.add_get("/api", self._api)
        app.router.add_get("/apis", self._apis)
        app.router.add_get("/openapi/v3", self._openapi_root)
        app.router.add_get("/openapi/v3/{path:.*}", self._openapi_doc)
        app.router.add_route("*", "/api/v1", self._group_version)
        app.router.add_route("*", "/api/v1/{path:.*}", self._resource)
        app.router.add_get("/apis/{group}", self._group)
        app.router.add_get("/apis/{group}/{version}", self._group_version)
        app.router.add_route("*", "/apis/{group}/{version}/{path:.*}", self._resource)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        if self.auth.enforce:
            self.certificate = self_signed(host)
        tls = self.certificate.context if self.certificate is not None else None
        site = web.TCPSite(self._runner, host, port, ssl_context=tls)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"{'https' if tls else 'http'}://{host}:{bound[1]}"
        return self.url

    async def stop(self) -> None:
        self.faults.resume()
        self.faults.close_watches()
        if self._runner is not None:
            # A TLS close waits for the client's close_notify, which an idle client never
            # sends: abort the connections still open, or their sockets outlive the loop.
            served = self._runner.server
            open_transports = [c.transport for c in served.connections] if served else []
            await self._runner.cleanup()
            self._runner = None
            for transport in open_transports:
                if transport is not None:
                    transport.abort()

    # --- middleware --------------------------------------------------------------------
    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except ApiError as error:
            return web.json_response(error.status(), status=error.code)
        except web.HTTPException:
            raise
        except Exception as error:  # a bug in the emulator: answer as the API would, and log it
            log.exception("internal error on %s %s", request.method, request.path)
            failure = ApiError(500, "InternalError", f"Internal error occurred: {error}")
            return web.json_response(failure.status(), status=500)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        public = request.path in PUBLIC_PATHS
        if (
            self.auth.enforce
            and not public
            and not self.auth.user(request.headers.get("Authorization"))
        ):
            raise unauthorized()
        response: web.StreamResponse = await handler(request)
        return response

    # --- discovery ---------------------------------------------------------------------
    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.SERVER_VERSION)

    async def _api(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.api_versions())

    async def _apis(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.api_group_list(self.registry))

    async def _group(self, request: web.Request) -> web.Response:
        found = discovery.api_group(self.registry, request.match_info["group"])
        return wire.found_or_404(found)

    async def _group_version(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            raise method_not_allowed()
        group = request.match_info.get("group", "")
        version = request.match_info.get("version", "v1")
        return wire.found_or_404(discovery.resource_list(self.registry, group, version))

    async def _openapi_root(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_docs.root(self.registry))

    async def _openapi_doc(self, request: web.Request) -> web.Response:
        found = openapi_docs.group_version_document(self.registry, request.match_info["path"])
        return wire.found_or_404(found)

    # --- resources ---------------------------------------------------------------------
    async def _resource(self, request: web.Request) -> web.StreamResponse:
        target = parse(request.path, self.registry)
        query = dict(request.query)
        verb = wire.verb(request.method, target, query)
        agent = request.headers.get("User-Agent", "")
        self.requests.record(Request.to(target, verb, agent))
        policy = policy_of(self.registry, self.store) if self.auth.enforce else None
        if policy is not None:
            self.auth.authorize(request.headers.get("Authorization"), target, verb, policy)
        await self.faults.before(verb, target.resource.plural, agent)
        if verb == "watch":
            return await self._watch(request, target, query)
        handler = getattr(self, f"_{verb}", None)
        if handler is None:
            raise method_not_allowed()
        result: web.StreamResponse = await handler(request, target, query)
        return result

    async def _list(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        resource = target.resource
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), resource.field_labels)
        token = wire.continue_token(query)
        at = token[0] if token is not None else self.store.revision
        items = self.store.list(resource.key, target.namespace, labels, fields, at=at)
        items, meta = wire.paginate(items, query, token, at)
        if wire.wants_table(request):
            printed = table(
                resource,
                items,
                meta["resourceVersion"],
                include_object=query.get("includeObject", "Metadata"),
                now=self.clock.now(),
            )
            # kubectl get asks 500 rows at a time and follows the continue token.
            page = {k: meta[k] for k in ("continue", "remainingItemCount") if k in meta}
            printed["metadata"] = {**printed["metadata"], **page}
            return wire.respond(printed)
        body = {
            "kind": resource.list_kind_name,
            "apiVersion": resource.api_version,
            "metadata": meta,
            "items": [wire.typed(resource, obj) for obj in items],
        }
        return wire.respond(body)

    async def _get(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        assert target.name is not None
        obj = self.api.get(target.resource, target.namespace or "", target.name)
        if target.subresource == "scale":
            return wire.respond(subresources.scale_of(target.resource, obj))
        if wire.wants_table(request):
            return wire.respond(
                table(
                    target.resource,
                    [obj],
                    obj["metadata"]["resourceVersion"],
                    include_object=query.get("includeObject", "Metadata"),
                    now=self.clock.now(),
                )
            )
        return wire.respond(wire.typed(target.resource, obj))

    async def _watch(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.StreamResponse:
        resource = target.resource
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), resource.field_labels)
        if target.name is not None:
            fields = parse_field_selector(f"metadata.name={target.name}")
        as_table = wire.wants_table(request)
        include = query.get("includeObject", "Metadata")

        def encode(obj: Obj) -> Obj:
            if as_table:
                return table(
                    resource,
                    [obj],
                    obj["metadata"]["resourceVersion"],
                    include_object=include,
                    now=self.clock.now(),
                )
            return wire.typed(resource, obj)

        watch = Watch(resource.key, target.namespace, labels, fields)
        stream = WatchStream(
            self.store,
            resource,
            watch,
            query,
            encode=encode,
            bookmark_interval=self.bookmark_interval,
        )
        return await stream.serve(request, wire.JSON)

    async def _create(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        resource = target.resource
        if target.subresource == "token":
            assert target.name is not None
            account = self.api.get(resource, target.namespace or "", target.name)
            body = await wire.body(request)
            token = self.auth.issue(target.namespace or "", target.name)
            answer = subresources.token_request(self.api, account, body, token)
            return wire.respond(answer, status=201)
        if target.subresource in ("binding", "eviction"):
            assert target.name is not None
            pod = self.api.get(resource, target.namespace or "", target.name)
            body = subresources.load_json(await request.read())
            if target.subresource == "binding":
                return wire.respond(subresources.bind(self.api, resource, pod, body), status=201)
            return wire.respond(
                subresources.evict(self.api, self.lifecycle, resource, pod, body), status=201
            )
        if target.name is not None:
            raise method_not_allowed()
        if resource.group == REVIEWS:
            user = self.auth.user(request.headers.get("Authorization")) or ADMIN
            policy = policy_of(self.registry, self.store)
            return wire.respond(self_review(user, await wire.body(request), policy), 201)
        if resource.namespaced and target.namespace is None:
            raise bad_request("the namespace of the object must be given in the URL")
        body = await wire.body(request)
        options = wire.write_options(query)
        created = self.api.create(resource, target.namespace or "", body, options)
        return wire.respond(wire.typed(resource, created), 201, options.warnings)

    async def _update(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        resource, name = target.resource, target.name
        assert name is not None
        body = await wire.body(request)
        if target.subresource == "scale":
            obj = self.api.get(resource, target.namespace or "", name)
            return wire.respond(subresources.write_scale(self.api, resource, obj, body))
        options = wire.write_options(query)
        updated = self.api.replace(
            resource,
            target.namespace or "",
            name,
            body,
            subresource=target.subresource,
            options=options,
        )
        return wire.respond(wire.typed(resource, updated), 200, options.warnings)

    async def _patch(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        resource, name = target.resource, target.name
        assert name is not None
        content_type = request.headers.get("Content-Type", "application/merge-patch+json")
        if content_type.startswith("application/apply-patch") and not query.get("fieldManager"):
            raise bad_request("PATCH with apply requires a fieldManager query parameter")
        raw = await request.read()
        if target.subresource == "scale":
            obj = self.api.get(resource, target.namespace or "", name)
            return wire.respond(
                subresources.patch_scale(self.api, resource, obj, content_type, raw)
            )
        options = wire.write_options(query)
        patched = self.api.patch(
            resource,
            target.namespace or "",
            name,
            content_type,
            raw,
            subresource=target.subresource,
            options=options,
        )
        return wire.respond(wire.typed(resource, patched), 200, options.warnings)

    async def _delete(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        resource, name = target.resource, target.name
        assert name is not None
        options = await wire.delete_options(request, query)
        obj, removed = self.lifecycle.delete(resource, target.namespace or "", name, options)
        if removed and not (resource.builtin and resource.kind in RETURNS_DELETED_OBJECT):
            return wire.respond(subresources.success(resource, obj))
        return wire.respond(wire.typed(resource, obj))

    async def _deletecollection(
        self, request: web.Request, target: Target, query: dict[str, str]
    ) -> web.Response:
        resource = target.resource
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), resource.field_labels)
        items = self.store.list(resource.key, target.namespace, labels, fields)
        self.lifecycle.delete_collection(resource, items, await wire.delete_options(request, query))
        return wire.respond(
            {
                "kind": resource.list_kind_name,
                "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": str(self.store.revision)},
                "items": [wire.typed(resource, obj) for obj in items],
            }
        )

"""How requests and responses look on the wire: verbs from methods, bodies, options,
content negotiation (JSON or Table), paging, and JSON responses."""

import base64
import json
from typing import Any

import yaml
from aiohttp import web

from llamaops.sim.apiserver.errors import ApiError, bad_request, method_not_allowed
from llamaops.sim.apiserver.paths import Target
from llamaops.sim.apiserver.store import Obj

JSON = "application/json"


def verb(method: str, target: Target, query: dict[str, str]) -> str:
    collection = target.name is None
    if method == "GET":
        if query.get("watch") in ("true", "1"):
            return "watch"
        return "list" if collection else "get"
    verbs = {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "deletecollection" if collection else "delete",
    }
    if method not in verbs:
        raise method_not_allowed()
    return verbs[method]


async def body(request: web.Request) -> Any:
    raw = await request.read()
    content_type = request.headers.get("Content-Type", JSON)
    try:
        if "yaml" in content_type:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise bad_request(f"the request body could not be decoded: {error}") from None


async def delete_options(request: web.Request, query: dict[str, str]) -> dict[str, Any]:
    raw = await request.read()
    options: dict[str, Any] = json.loads(raw) if raw.strip() else {}
    if "propagationPolicy" in query:
        options["propagationPolicy"] = query["propagationPolicy"]
    if "gracePeriodSeconds" in query:
        options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
    if options.get("orphanDependents") is True and "propagationPolicy" not in options:
        options["propagationPolicy"] = "Orphan"
    return options


def strict(query: dict[str, str]) -> bool:
    return query.get("fieldValidation") == "Strict"


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first


def paginate(
    items: list[Obj], query: dict[str, str], revision: int
) -> tuple[list[Obj], dict[str, Any]]:
    start = 0
    if query.get("continue"):
        try:
            start = int(json.loads(base64.urlsafe_b64decode(query["continue"]))["start"])
        except (ValueError, KeyError, TypeError):
            raise bad_request("invalid continue token") from None
    limit = int(query.get("limit") or 0)
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if limit <= 0 or start + limit >= len(items):
        return items[start:], meta
    token = json.dumps({"start": start + limit, "rv": revision}).encode()
    meta["continue"] = base64.urlsafe_b64encode(token).decode()
    meta["remainingItemCount"] = len(items) - start - limit
    return items[start : start + limit], meta


def typed(resource: Any, obj: Obj) -> Obj:
    return {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
    }


def respond(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, separators=(",", ":")), status=status, content_type=JSON
    )


def found_or_404(found: Any) -> web.Response:
    if found is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return respond(found)

"""How requests and responses look on the wire: verbs from methods, bodies, options,
content negotiation (JSON or Table), paging, and JSON responses."""

import base64
import json
from typing import Any

import yaml
from aiohttp import web

from llamaops.sim.apiserver import protobuf
from llamaops.sim.apiserver.errors import ApiError, bad_request, method_not_allowed
from llamaops.sim.apiserver.options import FIELD_VALIDATIONS, WriteOptions
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
        if content_type.split(";")[0].strip() == protobuf.CONTENT_TYPE:
            return protobuf.decode(raw)  # its ProtobufError is a ValueError
        if "yaml" in content_type:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise bad_request(f"the request body could not be decoded: {error}") from None


async def delete_options(request: web.Request, query: dict[str, str]) -> dict[str, Any]:
    raw = await request.read()
    try:
        options: dict[str, Any] = json.loads(raw) if raw.strip() else {}
    except ValueError as error:
        raise bad_request(f"the DeleteOptions body could not be decoded: {error}") from None
    if not isinstance(options, dict):
        raise bad_request("the DeleteOptions body must be a JSON object")
    if "propagationPolicy" in query:
        options["propagationPolicy"] = query["propagationPolicy"]
    if "gracePeriodSeconds" in query:
        options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
    if options.get("orphanDependents") is True and "propagationPolicy" not in options:
        options["propagationPolicy"] = "Orphan"
    if query.get("dryRun") == "All":
        options["dryRun"] = ["All"]
    return options


def write_options(query: dict[str, str]) -> WriteOptions:
    validation = query.get("fieldValidation") or "Warn"
    if validation not in FIELD_VALIDATIONS:
        raise bad_request(
            f"invalid fieldValidation {validation!r}: must be one of {', '.join(FIELD_VALIDATIONS)}"
        )
    dry_run = query.get("dryRun")
    if dry_run not in (None, "", "All"):
        raise bad_request(f'unsupported dryRun "{dry_run}": only "All" is supported')
    return WriteOptions(dry_run=dry_run == "All", field_validation=validation)


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first


def continue_token(query: dict[str, str]) -> tuple[int, str] | None:
    """(resourceVersion of the first page, key of the last object sent) from `continue`."""
    if not query.get("continue"):
        return None
    try:
        token = json.loads(base64.urlsafe_b64decode(query["continue"]))
        return int(token["rv"]), str(token["after"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("invalid continue token") from None


def paginate(
    items: list[Obj], query: dict[str, str], token: tuple[int, str] | None, revision: int
) -> tuple[list[Obj], dict[str, Any]]:
    """One page of `items` (a list read at `revision`), after the token's key."""
    if token is not None:
        items = [obj for obj in items if _key(obj) > token[1]]
    limit = int(query.get("limit") or 0)
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if limit <= 0 or limit >= len(items):
        return items, meta
    page = items[:limit]
    after = json.dumps({"rv": revision, "after": _key(page[-1])}).encode()
    meta["continue"] = base64.urlsafe_b64encode(after).decode()
    meta["remainingItemCount"] = len(items) - limit
    return page, meta


def _key(obj: Obj) -> str:
    return f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"


def typed(resource: Any, obj: Obj) -> Obj:
    return {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
    }


def respond(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    response = web.Response(
        text=json.dumps(body, separators=(",", ":")), status=status, content_type=JSON
    )
    for warning in warnings or []:  # RFC 7234 warn-code 299, as kube-apiserver sends them
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def found_or_404(found: Any) -> web.Response:
    if found is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return respond(found)

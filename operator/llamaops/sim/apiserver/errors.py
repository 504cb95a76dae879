"""API errors as Kubernetes `Status` objects, with the codes and reasons clients act on."""

from typing import Any

from llamaops.sim.apiserver.resources import ResourceType


class ApiError(Exception):
    """An error response: HTTP code, Status reason, message and optional details."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def qualified(resource: ResourceType) -> str:
    """`pods` for core kinds, `llamadeployments.serving.llamaops.io` for others."""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def _details(resource: ResourceType, name: str, **extra: Any) -> dict[str, Any]:
    details = {"name": name, "kind": resource.plural, **extra}
    if resource.group:
        details["group"] = resource.group
    return details


def not_found(resource: ResourceType, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{qualified(resource)} "{name}" not found', _details(resource, name)
    )


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'namespaces "{namespace}" not found',
        {"name": namespace, "kind": "namespaces"},
    )


def already_exists(resource: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(resource)} "{name}" already exists',
        _details(resource, name),
    )


def conflict(resource: ResourceType, name: str, why: str | None = None) -> ApiError:
    reason = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    message = f'Operation cannot be fulfilled on {qualified(resource)} "{name}": {reason}'
    return ApiError(409, "Conflict", message, _details(resource, name))


def invalid(resource: ResourceType, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 with one cause per failing field: (field, message)."""
    kind = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    joined = ", ".join(f"{field}: {message}" for field, message in causes)
    shown = f"[{joined}]" if len(causes) > 1 else joined
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {shown}',
        _details(
            resource,
            name,
            kind=resource.kind,
            causes=[
                {"reason": _cause_reason(message), "message": message, "field": field}
                for field, message in causes
            ],
        ),
    )


def _cause_reason(message: str) -> str:
    if message.startswith("Required value"):
        return "FieldValueRequired"
    if message.startswith("Unsupported value"):
        return "FieldValueNotSupported"
    if message.startswith("Forbidden"):
        return "FieldValueForbidden"
    return "FieldValueInvalid"


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str, details: dict[str, Any] | None = None) -> ApiError:
    return ApiError(403, "Forbidden", message, details)


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_many_requests(message: str) -> ApiError:
    return ApiError(429, "TooManyRequests", message)


def page_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")

"""The OpenAI-compatible request and response shapes vLLM serves, as plain dicts.

Requests are validated as vLLM validates them (unknown model 404, context overflow
400); responses carry the fields clients read: ids, `choices`, `finish_reason`,
`usage`. Without `max_tokens` a completion stops at 16 tokens (OpenAI's legacy default)
and a chat reply ends on its own after `NATURAL_REPLY_TOKENS`, with reason "stop".
"""

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from llamaops.sim.engine.tokens import chat_tokens, prompt_tokens

Kind = Literal["completion", "chat"]
Json = dict[str, Any]
COMPLETION_DEFAULT_MAX_TOKENS = 16
NATURAL_REPLY_TOKENS = 64


class ApiError(Exception):
    """An error response in vLLM's shape."""

    def __init__(self, status: int, message: str, kind: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param

    def body(self) -> Json:
        return error_body(self.status, self.message, self.kind, self.param)


def error_body(status: int, message: str, kind: str, param: str | None = None) -> Json:
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}


@dataclass(frozen=True)
class GenerationRequest:
    """A validated completion or chat request, in tokens."""

    kind: Kind
    model: str
    prompt_tokens: int
    max_tokens: int
    finish_reason: str  # when it runs to the end: "length", or "stop" if it ends on its own
    stream: bool
    include_usage: bool
    request_id: str


def parse_request(
    kind: Kind, body: Any, served: tuple[str, ...], max_model_len: int
) -> GenerationRequest:
    """Validate a request body against the engine's names and context length."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", "BadRequestError")
    model = body.get("model") or served[0]
    if model not in served:
        raise ApiError(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
    prompt = _prompt_tokens(kind, body)
    limit = (
        body.get("max_completion_tokens", body.get("max_tokens"))
        if kind == "chat"
        else body.get("max_tokens")
    )
    max_tokens, reason = _max_tokens(kind, limit, max_model_len - prompt)
    if prompt + max_tokens > max_model_len:
        raise ApiError(
            400,
            f"This model's maximum context length is {max_model_len} tokens. However, you "
            f"requested {prompt + max_tokens} tokens ({prompt} in the messages, {max_tokens} "
            "in the completion). Please reduce the length of the messages or completion.",
            "BadRequestError",
        )
    options = body.get("stream_options") or {}
    prefix = "cmpl" if kind == "completion" else "chatcmpl"
    return GenerationRequest(
        kind=kind,
        model=model,
        prompt_tokens=prompt,
        max_tokens=max_tokens,
        finish_reason=reason,
        stream=bool(body.get("stream")),
        include_usage=bool(isinstance(options, dict) and options.get("include_usage")),
        request_id=f"{prefix}-{uuid.uuid4().hex}",
    )


def _prompt_tokens(kind: Kind, body: Json) -> int:
    if kind == "completion":
        if "prompt" not in body:
            raise ApiError(400, "Field required: prompt", "BadRequestError", "prompt")
        return prompt_tokens(body["prompt"])
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "Field required: messages", "BadRequestError", "messages")
    return chat_tokens(messages)


def _max_tokens(kind: Kind, limit: Any, room: int) -> tuple[int, str]:
    """The tokens to generate and the finish reason when they are all generated."""
    if limit is None:
        if kind == "completion":
            return COMPLETION_DEFAULT_MAX_TOKENS, "length"
        natural = min(NATURAL_REPLY_TOKENS, max(1, room))
        return natural, "stop" if natural == NATURAL_REPLY_TOKENS else "length"
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ApiError(
            400,
            "max_tokens must be at least 1, got " + repr(limit),
            "BadRequestError",
            "max_tokens",
        )
    return limit, "length"


def usage(request: GenerationRequest, completion_tokens: int) -> Json:
    return {
        "prompt_tokens": request.prompt_tokens,
        "total_tokens": request.prompt_tokens + completion_tokens,
        "completion_tokens": completion_tokens,
    }


def response(request: GenerationRequest, created: int, text: str, completion_tokens: int) -> Json:
    """The whole answer of a non-streaming request."""
    if request.kind == "completion":
        choice: Json = {"index": 0, "text": text, "logprobs": None}
        obj = "text_completion"
    else:
        message = {"role": "assistant", "content": text, "tool_calls": []}
        choice = {"index": 0, "message": message, "logprobs": None}
        obj = "chat.completion"
    choice.update(finish_reason=request.finish_reason, stop_reason=None)
    return {
        **_header(request, created, obj),
        "choices": [choice],
        "usage": usage(request, completion_tokens),
    }


def chunk(request: GenerationRequest, created: int, text: str, finish_reason: str | None) -> Json:
    """One server-sent event of a streaming answer."""
    if request.kind == "completion":
        choice: Json = {"index": 0, "text": text, "logprobs": None}
        obj = "text_completion"
    else:
        choice = {"index": 0, "delta": {"content": text}, "logprobs": None}
        obj = "chat.completion.chunk"
    choice.update(finish_reason=finish_reason, stop_reason=None)
    return {**_header(request, created, obj), "choices": [choice]}


def role_chunk(request: GenerationRequest, created: int) -> Json:
    """A chat stream opens with the assistant's role and empty content."""
    delta = {"role": "assistant", "content": ""}
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
    return {**_header(request, created, "chat.completion.chunk"), "choices": [choice]}


def usage_chunk(request: GenerationRequest, created: int, completion_tokens: int) -> Json:
    """The last event when `stream_options.include_usage` is set."""
    obj = "text_completion" if request.kind == "completion" else "chat.completion.chunk"
    return {
        **_header(request, created, obj),
        "choices": [],
        "usage": usage(request, completion_tokens),
    }


def models(names: tuple[str, ...], root: str, max_model_len: int, created: int) -> Json:
    """`/v1/models`: every served name, each a model card."""
    cards = [
        {
            "id": name,
            "object": "model",
            "created": created,
            "owned_by": "vllm",
            "root": root,
            "parent": None,
            "max_model_len": max_model_len,
        }
        for name in names
    ]
    return {"object": "list", "data": cards}


def _header(request: GenerationRequest, created: int, obj: str) -> Json:
    return {"id": request.request_id, "object": obj, "created": created, "model": request.model}

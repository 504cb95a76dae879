"""One request to an OpenAI-compatible server, and its `Record`.

Streaming by default: time to first token is the time to the first SSE chunk that
carries a choice. Output tokens come from the `usage` the server reports (asked for with
`stream_options.include_usage`), else from the chunks that carried text. The prompt is
the word "hello" repeated, about one token each for Llama tokenizers; `ignore_eos` (a
vLLM extension) makes the output as long as asked. The serving pod is the
`X-Served-By` response header.

A connection error, a timeout or a stream cut short is not raised: it becomes the
record's status, "error: <kind>".
"""

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

from llamaops.sim.traffic.plan import PlannedRequest

SERVED_BY = "X-Served-By"
DROPPED = "dropped"


@dataclass(frozen=True)
class Record:
    """What one request did. `start` is seconds from the run's start; `ttft` is None
    when nothing streamed; `latency` is None only for a request that was never sent."""

    start: float
    status: int | str
    ttft: float | None
    latency: float | None
    prompt_tokens: int
    output_tokens: int
    pod: str | None

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        fields = asdict(self)
        for name in ("start", "ttft", "latency"):
            if fields[name] is not None:
                fields[name] = round(fields[name], 6)
        return fields


@dataclass(frozen=True)
class Endpoint:
    """Where and how to send: the completions URL, the model, streaming, the timeout."""

    url: str
    model: str
    chat: bool = False
    stream: bool = True
    timeout: float = 30.0


def base_url(target: str) -> str:
    """`http://host:port`, `http://host:port/` and `http://host:port/v1` all mean the server."""
    url = target.rstrip("/")
    return url.removesuffix("/v1")


def completions_url(target: str, *, chat: bool) -> str:
    path = "/v1/chat/completions" if chat else "/v1/completions"
    return base_url(target) + path


def request_body(endpoint: Endpoint, planned: PlannedRequest) -> dict[str, Any]:
    prompt = " ".join(["hello"] * planned.prompt_tokens)
    body: dict[str, Any] = {
        "model": endpoint.model,
        "max_tokens": planned.output_tokens,
        "ignore_eos": True,
        "stream": endpoint.stream,
    }
    if endpoint.chat:
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if endpoint.stream:
        body["stream_options"] = {"include_usage": True}
    return body


def dropped(planned: PlannedRequest, start: float) -> Record:
    """A request the run could not send: every concurrency slot was busy."""
    return Record(start, DROPPED, None, None, planned.prompt_tokens, 0, None)


async def discover_model(session: aiohttp.ClientSession, target: str, timeout: float) -> str | None:
    """The first model the server lists at /v1/models, or None if it cannot say."""
    try:
        async with (
            asyncio.timeout(timeout),
            session.get(base_url(target) + "/v1/models") as response,
        ):
            listing = await response.json(content_type=None)
        return str(listing["data"][0]["id"])
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError, LookupError, TypeError):
        return None


class _Progress:
    """What is known so far; a request that fails midway keeps its pod and first token."""

    def __init__(self) -> None:
        self.status: int | str = "error: incomplete"
        self.first_chunk: float | None = None
        self.text_chunks = 0
        self.usage_tokens: int | None = None
        self.pod: str | None = None


async def send(
    session: aiohttp.ClientSession, endpoint: Endpoint, planned: PlannedRequest, run_start: float
) -> Record:
    """Send one request; `run_start` is the `time.monotonic()` the run started at."""
    began = time.monotonic()
    progress = _Progress()
    try:
        async with asyncio.timeout(endpoint.timeout):
            await _exchange(session, endpoint, planned, progress)
    except Exception as error:
        kind = _error_kind(error)
        if kind is None:
            raise
        progress.status = f"error: {kind}"
    ended = time.monotonic()
    return Record(
        start=began - run_start,
        status=progress.status,
        ttft=None if progress.first_chunk is None else progress.first_chunk - began,
        latency=ended - began,
        prompt_tokens=planned.prompt_tokens,
        output_tokens=progress.usage_tokens
        if progress.usage_tokens is not None
        else progress.text_chunks,
        pod=progress.pod,
    )


async def _exchange(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    planned: PlannedRequest,
    progress: _Progress,
) -> None:
    async with session.post(endpoint.url, json=request_body(endpoint, planned)) as response:
        progress.pod = response.headers.get(SERVED_BY)
        if not 200 <= response.status < 300:
            await response.read()
            progress.status = response.status
        elif endpoint.stream:
            if await _read_stream(response, progress):
                progress.status = response.status
        else:
            with _parsing():
                usage = (await response.json(content_type=None)).get("usage") or {}
                progress.usage_tokens = int(usage.get("completion_tokens", 0))
            progress.status = response.status


async def _read_stream(response: aiohttp.ClientResponse, progress: _Progress) -> bool:
    """Read SSE chunks until `data: [DONE]`; False if the stream ended without it."""
    async for raw in response.content:
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        data = line.removeprefix(b"data:").strip()
        if data == b"[DONE]":
            return True
        with _parsing():
            chunk = json.loads(data)
            if "error" in chunk:
                raise _StreamError(str(chunk["error"]))
            _take_chunk(chunk, progress)
    return False


def _take_chunk(chunk: dict[str, Any], progress: _Progress) -> None:
    choices = chunk.get("choices") or []
    if choices:
        if progress.first_chunk is None:
            progress.first_chunk = time.monotonic()
        choice = choices[0]
        if choice.get("text") or (choice.get("delta") or {}).get("content"):
            progress.text_chunks += 1
    usage = chunk.get("usage")
    if usage and usage.get("completion_tokens") is not None:
        progress.usage_tokens = int(usage["completion_tokens"])


class _StreamError(Exception):
    """The server reported an error inside the stream, after answering 200."""


class _BadResponseError(Exception):
    """A body or chunk that is not the JSON an OpenAI server sends."""


@contextmanager
def _parsing() -> Iterator[None]:
    """Turn the ways a malformed body breaks parsing into `_BadResponseError`."""
    try:
        yield
    except (ValueError, LookupError, TypeError, AttributeError) as error:
        raise _BadResponseError(repr(error)) from error


def _error_kind(error: Exception) -> str | None:
    """The short name a record carries for a failure; None for a bug of ours."""
    match error:
        case TimeoutError():
            return "timeout"
        case aiohttp.ClientConnectorError():
            return "connect"
        case aiohttp.ServerDisconnectedError():
            return "disconnected"
        case aiohttp.ClientPayloadError():
            return "incomplete"
        case aiohttp.ClientError() | OSError():
            return "connection"
        case _StreamError():
            return "stream"
        case _BadResponseError():
            return "bad-response"
    return None

"""A rollout replica's warm-up: one completion, sent straight to the pod (not through the
Service), that must come back 200 with non-empty text from the served model name before
the replica joins the Service. A replica vLLM calls Ready can still fail here: the model
loaded, yet does not answer (vllm#15313)."""

from typing import Any

import aiohttp

from llamaops.reconcile import names
from llamaops.reconcile.plan_types import WarmUp

WARMUP_TIMEOUT_SECONDS = 60.0


async def warm_up(session: aiohttp.ClientSession, action: WarmUp) -> str | None:
    """None when the replica answered; else what went wrong, in a line."""
    url = f"http://{action.ip}:{names.ENGINE_PORT}/v1/completions"
    body = {"model": action.model, "prompt": action.prompt, "max_tokens": action.max_tokens}
    try:
        async with session.post(
            url, json=body, timeout=aiohttp.ClientTimeout(total=WARMUP_TIMEOUT_SECONDS)
        ) as answer:
            if answer.status != 200:
                return f"HTTP {answer.status}: {(await answer.text())[:200]}"
            reply: Any = await answer.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
        return f"no answer: {type(error).__name__} {error}".strip()[:300]
    choices = reply.get("choices") if isinstance(reply, dict) else None
    text = choices[0].get("text") if isinstance(choices, list) and choices else None
    if not isinstance(text, str) or not text.strip():
        return "the completion came back without text"
    return None

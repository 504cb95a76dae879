"""A tokenizer cheap enough for hundreds of engines: one token per word.

Token counts drive everything the simulation measures (prefill time, KV use, usage in
responses), so they only need to be stable and proportional to the text. Generated
text is filler, one word per token, so a client can count what it received.
"""

from collections.abc import Iterable
from typing import Any

FILLER = ("the", "engine", "counts", "every", "word", "it", "makes", "up", "as", "a", "token")
CHAT_TOKENS_PER_MESSAGE = 4  # role markers and separators of a chat template


def count_tokens(text: str) -> int:
    """Words in the text; an empty prompt still costs one token (the start of sequence)."""
    return max(1, len(text.split()))


def prompt_tokens(prompt: Any) -> int:
    """A completions prompt: text, a list of texts, or token ids."""
    if isinstance(prompt, str):
        return count_tokens(prompt)
    if isinstance(prompt, list) and prompt and all(isinstance(x, int) for x in prompt):
        return len(prompt)
    if isinstance(prompt, list):
        return sum(prompt_tokens(part) for part in prompt) or 1
    return 1


def chat_tokens(messages: Iterable[Any]) -> int:
    """Chat messages rendered through a template: their words plus markers per message."""
    total = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts: count the text ones
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        total += CHAT_TOKENS_PER_MESSAGE + (len(content.split()) if isinstance(content, str) else 0)
    return max(1, total)


def filler(start: int, count: int) -> str:
    """Generated tokens `start` to `start + count` as text, each word followed by a space."""
    return "".join(FILLER[i % len(FILLER)] + " " for i in range(start, start + count))

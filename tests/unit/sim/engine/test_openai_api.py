"""Requests are validated, and answers shaped, as vLLM's OpenAI-compatible server does."""

from typing import Any

import pytest

from llamaops.sim.engine.openai_api import ApiError, parse_request, response

SERVED = ("llama", "llama-alias")


def completion(**body: Any) -> dict[str, Any]:
    return {"model": "llama", "prompt": "one two three", **body}


def test_a_completion_counts_its_prompt_in_words() -> None:
    request = parse_request("completion", completion(max_tokens=7), SERVED, 4096)

    assert (request.prompt_tokens, request.max_tokens, request.finish_reason) == (3, 7, "length")
    assert request.request_id.startswith("cmpl-")


def test_any_served_name_is_accepted_and_no_name_means_the_first() -> None:
    assert (
        parse_request("completion", completion(model="llama-alias"), SERVED, 4096).model
        == "llama-alias"
    )
    assert parse_request("completion", {"prompt": "x"}, SERVED, 4096).model == "llama"


def test_a_completion_without_max_tokens_stops_at_16() -> None:
    assert parse_request("completion", completion(), SERVED, 4096).max_tokens == 16


def test_a_chat_without_max_tokens_ends_on_its_own() -> None:
    body = {"messages": [{"role": "user", "content": "hi there"}]}

    request = parse_request("chat", body, SERVED, 4096)

    assert request.finish_reason == "stop"
    assert request.prompt_tokens == 2 + 4  # words and the template's markers


@pytest.mark.parametrize(
    ("kind", "body", "status", "message"),
    [
        ("completion", completion(model="gpt-4"), 404, "The model `gpt-4` does not exist."),
        ("completion", completion(max_tokens=5000), 400, "maximum context length is 4096"),
        ("completion", completion(max_tokens=0), 400, "max_tokens must be at least 1"),
        ("completion", {"model": "llama"}, 400, "prompt"),
        ("chat", {"model": "llama", "messages": []}, 400, "messages"),
        ("chat", ["not", "an", "object"], 400, "JSON object"),
    ],
)
def test_requests_vllm_refuses_are_refused_with_its_status(
    kind: Any, body: Any, status: int, message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        parse_request(kind, body, SERVED, 4096)

    assert refused.value.status == status
    assert message in refused.value.body()["error"]["message"]


def test_answers_carry_choices_finish_reason_and_usage() -> None:
    chat = parse_request(
        "chat", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 2}, SERVED, 4096
    )

    body = response(chat, created=1700000000, text="a b ", completion_tokens=2)

    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "a b ",
        "tool_calls": [],
    }
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}

"""The status patch is a JSON merge patch (RFC 7386): what is gone becomes null, at any depth."""

from llamaops.runtime.report import merge_patch


def test_a_nested_key_gone_is_null_and_the_rest_is_the_new_value() -> None:
    old = {"checkpoint": {"current": "a", "failed": {"reason": "WarmupFailed"}}, "replicas": 2}
    new = {"checkpoint": {"current": "a"}, "conditions": [{"type": "Available"}]}

    assert merge_patch(old, new) == {
        "replicas": None,
        "checkpoint": {"current": "a", "failed": None},
        "conditions": [{"type": "Available"}],
    }

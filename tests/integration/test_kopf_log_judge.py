"""The judge of kopf's logs in kopf_harness: what counts as trouble, and the one kind of
line it forgives (a request retried while kopf tears itself down)."""

from tests.integration.kopf_harness import log_trouble

PATCH = "PATCH http://127.0.0.1:41415/apis/test.llamaops.io/v1/namespaces/default/widgets/w4/status"
RETRY = (
    "[2026-12-07 15:29:05,670] kopf.objects         [ERROR   ] [default/w4] Request attempt "
    f"#1/9 failed; will retry: {PATCH} -> ServerDisconnectedError('Server disconnected')"
)
CLOSED = (
    "[2026-12-07 15:29:06,672] kopf.objects         [ERROR   ] [default/w4] Request attempt "
    f"#2/9 failed; TCP closed; will re-authenticate: {PATCH}"
)
STOP = (
    "[2026-12-07 15:29:05,665] kopf._core.reactor.r [INFO    ] Signal SIGINT is received. "
    "Operator is stopping."
)
WARNING = "[2026-12-07 15:29:05,700] kopf.objects         [WARNING ] [default/w4] Patching failed"
FINE = (
    "[2026-12-07 15:29:05,658] kopf.objects         [INFO    ] Handler 'create_widget' succeeded."
)


def test_a_request_retried_while_kopf_runs_is_trouble() -> None:
    assert log_trouble("\n".join([FINE, RETRY, CLOSED, STOP])) == [RETRY, CLOSED]


def test_a_request_retried_after_the_stop_signal_is_kopfs_teardown() -> None:
    assert log_trouble("\n".join([FINE, STOP, RETRY, CLOSED])) == []


def test_other_trouble_after_the_stop_signal_still_counts() -> None:
    hung = (
        "[2026-12-07 15:29:15,000] kopf.objects [WARNING ] Daemon 'heartbeat' did not exit in time"
    )
    assert log_trouble("\n".join([STOP, RETRY, WARNING, hung])) == [WARNING, hung]

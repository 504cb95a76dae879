"""Who a request is, from its Authorization header, as kube-apiserver's bearer-token
authenticator reads it."""

import pytest

from llamaops.sim.apiserver.auth import ADMIN, ADMIN_TOKEN, Auth


@pytest.mark.parametrize(
    ("header", "known"),
    [
        (f"Bearer {ADMIN_TOKEN}", True),
        (f"bearer {ADMIN_TOKEN}", True),  # the Python client's in-cluster config sends this
        (f"BEARER  {ADMIN_TOKEN} ", True),
        (f"Basic {ADMIN_TOKEN}", False),
        (ADMIN_TOKEN, False),
        ("Bearer made-up", False),
        ("", False),
        (None, False),
    ],
)
def test_the_bearer_scheme_is_read_in_any_case(header: str | None, known: bool) -> None:
    assert (Auth(enforce=True).user(header) == ADMIN) is known


def test_a_service_accounts_token_names_it() -> None:
    auth = Auth(enforce=True)
    token = auth.issue("llamaops-system", "llamaops")

    user = auth.user(f"Bearer {token}")

    assert user is not None and user.name == "system:serviceaccount:llamaops-system:llamaops"
    assert "system:serviceaccounts:llamaops-system" in user.groups

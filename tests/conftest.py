"""Shared fixtures: the repository root and the generated CRD."""

from pathlib import Path
from typing import Any

import pytest

from llamaops.api.crd import custom_resource_definition

REPO = Path(__file__).resolve().parent.parent

# The integration tests' helper modules assert on the tests' behalf: rewrite their asserts
# as pytest rewrites a test module's, so a failure shows the values compared.
pytest.register_assert_rewrite(
    "tests.integration.client_helpers",
    "tests.integration.http_helpers",
    "tests.integration.kubectl_helpers",
)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def crd() -> dict[str, Any]:
    return custom_resource_definition()


@pytest.fixture(scope="session")
def crd_schema(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema

"""The base of every API type: camelCase on the wire, snake_case in Python, strict input.

Each model's field descriptions become the CRD's `description`s (what `kubectl explain`
shows), so every field must carry one; a unit test walks the CRD to make sure.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """A part of the LlamaDeployment API, serialized with camelCase keys."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The object as the API server stores it: camelCase, unset optional fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def cel_rule(rule: str, message: str, field_path: str | None = None) -> dict[str, str]:
    """One `x-kubernetes-validations` entry: a CEL rule the API server checks on write."""
    entry = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    return entry


def cel_rules(*rules: dict[str, str]) -> dict[str, Any]:
    """The `json_schema_extra` that puts CEL rules on a model's schema."""
    return {"x-kubernetes-validations": list(rules)}

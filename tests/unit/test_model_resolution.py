"""From spec.model to a model ready for sizing, and the field named when that fails."""

import pytest

from llamaops.api.model_spec import ModelSpec
from llamaops.errors import SpecError
from llamaops.model_resolution import resolve_model

CUSTOM = {
    "numHiddenLayers": 40,
    "hiddenSize": 5120,
    "numAttentionHeads": 40,
    "numKeyValueHeads": 8,
    "intermediateSize": 13824,
    "vocabSize": 32000,
    "parameters": 13_000_000_000,
}


def model(**fields: object) -> ModelSpec:
    return ModelSpec.model_validate({"name": "llama3.1-70b-instruct", **fields})


def test_a_catalog_model_takes_its_architecture_dtype_and_context() -> None:
    resolved = resolve_model(model())

    assert resolved.label == "70B"
    assert resolved.dtype == "bfloat16"
    assert resolved.max_model_len == 131072
    assert resolved.architecture.num_hidden_layers == 80


def test_max_model_len_and_dtype_from_the_spec_win() -> None:
    resolved = resolve_model(model(maxModelLen=8192, dtype="fp8"))

    assert (resolved.max_model_len, resolved.dtype) == (8192, "fp8")


def test_a_model_outside_the_catalog_uses_its_architecture() -> None:
    resolved = resolve_model(model(name="acme/llama-13b", architecture=CUSTOM, maxModelLen=4096))

    assert resolved.label == "13B"
    assert resolved.architecture.head_size == 128
    assert resolved.dtype == "bfloat16"


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"name": "acme/unknown"}, "spec.model.name", "not in the model catalog"),
        (
            {"name": "acme/llama-13b", "architecture": CUSTOM},
            "spec.model.maxModelLen",
            "required when spec.model.architecture has no maxPositionEmbeddings",
        ),
        ({"maxModelLen": 200_000}, "spec.model.maxModelLen", "exceeds the model's context"),
        (
            {"name": "llama3.1-405b-fp8", "dtype": "bfloat16"},
            "spec.model.dtype",
            "FP8 checkpoint",
        ),
    ],
    ids=["unknown-model", "no-context", "too-long", "fp8-as-bf16"],
)
def test_problems_name_the_field(fields: dict[str, object], field: str, fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_model(model(**fields))

    assert caught.value.field == field
    assert fragment in caught.value.message

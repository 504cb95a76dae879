"""From `spec.model` to what sizing needs: architecture, precision, context length.

A catalog name gives the architecture; `spec.model.architecture`, when present, wins
(a fine-tune with a longer context, say). Problems are `SpecError`s naming the field.
"""

from dataclasses import dataclass

from llamaops.api.model_spec import Architecture, ModelSpec
from llamaops.catalog.models import find_model
from llamaops.errors import SpecError

DEFAULT_DTYPE = "bfloat16"


@dataclass(frozen=True)
class ResolvedModel:
    """A model ready to be sized."""

    name: str
    label: str
    architecture: Architecture
    dtype: str
    max_model_len: int


def resolve_model(spec: ModelSpec) -> ResolvedModel:
    entry = find_model(spec.name)
    if spec.architecture is None and entry is None:
        raise SpecError(
            "spec.model.name",
            f"{spec.name!r} is not in the model catalog; set spec.model.architecture from its "
            "config.json, or use a catalog name such as llama3.1-8b-instruct",
        )
    architecture = spec.architecture or entry.architecture  # type: ignore[union-attr]
    native = entry.native_dtype if entry else DEFAULT_DTYPE
    label = entry.size if entry else _size_label(architecture.parameters)
    return ResolvedModel(
        name=spec.name,
        label=label,
        architecture=architecture,
        dtype=_dtype(spec, native),
        max_model_len=_max_model_len(spec, architecture),
    )


def _dtype(spec: ModelSpec, native: str) -> str:
    if spec.dtype == "auto":
        return native
    if native == "fp8" and spec.dtype != "fp8":
        raise SpecError(
            "spec.model.dtype",
            f"{spec.name} is an FP8 checkpoint, not servable in {spec.dtype}; use auto or fp8",
        )
    return spec.dtype


def _max_model_len(spec: ModelSpec, architecture: Architecture) -> int:
    context = architecture.max_position_embeddings
    if spec.max_model_len is None:
        if context is None:
            raise SpecError(
                "spec.model.maxModelLen",
                "required when spec.model.architecture has no maxPositionEmbeddings",
            )
        return context
    if context is not None and spec.max_model_len > context:
        raise SpecError(
            "spec.model.maxModelLen",
            f"{spec.max_model_len} exceeds the model's context length of {context} tokens",
        )
    return spec.max_model_len


def _size_label(parameters: int) -> str:
    """13_000_000_000 -> "13B", 1_240_000_000 -> "1.2B", 350_000_000 -> "0.35B"."""
    billions = parameters / 1e9
    if billions >= 10:
        return f"{billions:.0f}B"
    return f"{billions:.2g}B" if billions < 1 else f"{billions:.1f}".rstrip("0").rstrip(".") + "B"

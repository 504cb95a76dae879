"""The Llama 3 family by Hugging Face id and short alias (facts from each model's config.json).

Llama 3 has an 8K context; 3.1, 3.2 and 3.3 have 128K. Llama 3.3 was released as 70B
Instruct only, and Meta's FP8 builds of 405B are listed as their own models.
"""

from dataclasses import dataclass

from llamaops.api.model_spec import Architecture

VOCAB = 128256
CONTEXT_8K = 8192
CONTEXT_128K = 131072


@dataclass(frozen=True)
class CatalogModel:
    """A model llamaops can size without being told its architecture."""

    hf_id: str
    aliases: tuple[str, ...]
    size: str
    architecture: Architecture
    native_dtype: str = "bfloat16"

    @property
    def context_length(self) -> int:
        return self.architecture.max_position_embeddings or CONTEXT_8K


def _shape(
    layers: int,
    hidden: int,
    heads: int,
    head_dim: int,
    intermediate: int,
    *,
    params: float,
    context: int,
) -> Architecture:
    return Architecture(
        num_hidden_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_key_value_heads=8,
        head_dim=head_dim,
        intermediate_size=intermediate,
        vocab_size=VOCAB,
        parameters=round(params * 1e9),
        max_position_embeddings=context,
    )


def _sizes(context: int) -> dict[str, Architecture]:
    return {
        "1B": _shape(16, 2048, 32, 64, 8192, params=1.24, context=context),
        "3B": _shape(28, 3072, 24, 128, 8192, params=3.21, context=context),
        "8B": _shape(32, 4096, 32, 128, 14336, params=8.03, context=context),
        "70B": _shape(80, 8192, 64, 128, 28672, params=70.55, context=context),
        "405B": _shape(126, 16384, 128, 128, 53248, params=404.65, context=context),
    }


def _family(
    version: str, id_prefix: str, sizes: tuple[str, ...], context: int, base: bool = True
) -> list[CatalogModel]:
    """Base and Instruct models of one Llama version, e.g. meta-llama/Llama-3.1-8B(-Instruct)."""
    shapes = _sizes(context)
    models = []
    for size in sizes:
        variants = [("", "")] if base else []
        variants.append(("-Instruct", "-instruct"))
        for id_suffix, alias_suffix in variants:
            alias = f"llama{version}-{size.lower()}{alias_suffix}"
            models.append(
                CatalogModel(
                    hf_id=f"meta-llama/{id_prefix}-{size}{id_suffix}",
                    aliases=(alias,),
                    size=size,
                    architecture=shapes[size],
                )
            )
    return models


def _fp8_405b() -> list[CatalogModel]:
    shape = _sizes(CONTEXT_128K)["405B"]
    return [
        CatalogModel(f"meta-llama/Llama-3.1-405B{suffix}-FP8", (alias,), "405B", shape, "fp8")
        for suffix, alias in (
            ("", "llama3.1-405b-fp8"),
            ("-Instruct", "llama3.1-405b-instruct-fp8"),
        )
    ]


def _with_old_names(models: list[CatalogModel]) -> list[CatalogModel]:
    """Llama 3.1 repositories were first published as Meta-Llama-3.1-*; both names resolve."""
    renamed = []
    for model in models:
        old = model.hf_id.replace("meta-llama/Llama-3.1-", "meta-llama/Meta-Llama-3.1-")
        extra = (old,) if old != model.hf_id else ()
        renamed.append(
            CatalogModel(
                model.hf_id,
                model.aliases + extra,
                model.size,
                model.architecture,
                model.native_dtype,
            )
        )
    return renamed


MODELS: tuple[CatalogModel, ...] = tuple(
    _family("3", "Meta-Llama-3", ("8B", "70B"), CONTEXT_8K)
    + _with_old_names(_family("3.1", "Llama-3.1", ("8B", "70B", "405B"), CONTEXT_128K))
    + _with_old_names(_fp8_405b())
    + _family("3.2", "Llama-3.2", ("1B", "3B"), CONTEXT_128K)
    + _family("3.3", "Llama-3.3", ("70B",), CONTEXT_128K, base=False)
)

_BY_NAME = {name.lower(): model for model in MODELS for name in (model.hf_id, *model.aliases)}


def find_model(name: str) -> CatalogModel | None:
    """The catalog model with this Hugging Face id or alias (case does not matter)."""
    return _BY_NAME.get(name.lower())

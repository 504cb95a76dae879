"""`spec.model`: which model to serve, from where, in what precision and shape."""

from typing import Literal

from pydantic import Field

from llamaops.api.base import ApiModel

Dtype = Literal["auto", "bfloat16", "float16", "fp8"]

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$"
CHECKPOINT_URI = r"^((hf|s3|gs)://[A-Za-z0-9][^\s]*|pvc://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[^\s]*)?|file:///[^\s]*)$"


class Checkpoint(ApiModel):
    """Where the weights come from. Changing it rolls replicas to the new checkpoint."""

    uri: str = Field(
        pattern=CHECKPOINT_URI,
        max_length=1024,
        description=(
            "Location of the weights: hf://ORG/NAME, s3://BUCKET/PATH, gs://BUCKET/PATH, "
            "pvc://CLAIM/PATH (a PersistentVolumeClaim in the same namespace) or file:///PATH "
            "(a path on the node)."
        ),
    )
    revision: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[A-Za-z0-9._/-]+$",
        description="A Hugging Face revision (branch, tag or commit) or an object version.",
    )


class Architecture(ApiModel):
    """The shape of a model outside the catalog, copied from its config.json."""

    num_hidden_layers: int = Field(ge=1, le=1024, description="Transformer layers.")
    hidden_size: int = Field(ge=64, le=131072, description="Width of the hidden state.")
    num_attention_heads: int = Field(ge=1, le=1024, description="Query attention heads.")
    num_key_value_heads: int = Field(
        ge=1, le=1024, description="Key/value heads (grouped-query attention); sizes the KV cache."
    )
    head_dim: int | None = Field(
        default=None,
        ge=8,
        le=1024,
        description="Size of one attention head. Omit for hiddenSize / numAttentionHeads.",
    )
    intermediate_size: int = Field(ge=1, le=1048576, description="Width of the MLP layer.")
    vocab_size: int = Field(ge=1, le=4194304, description="Vocabulary size.")
    parameters: int = Field(
        ge=1_000_000,
        le=10_000_000_000_000,
        description="Total parameter count, such as 70553706496; sizes the weights.",
    )
    max_position_embeddings: int | None = Field(
        default=None,
        ge=128,
        le=16777216,
        description="Longest context the model supports; the default for model.maxModelLen.",
    )

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden_size // self.num_attention_heads


class SecretKeyRef(ApiModel):
    """A key of a Secret in the LlamaDeployment's namespace."""

    name: str = Field(pattern=DNS_SUBDOMAIN, max_length=253, description="Name of the Secret.")
    key: str = Field(
        default="token",
        pattern=r"^[-._a-zA-Z0-9]+$",
        max_length=253,
        description="Key in the Secret that holds the token.",
    )


class ModelSpec(ApiModel):
    """Which model to serve, from where, and how."""

    name: str = Field(
        pattern=MODEL_NAME,
        max_length=256,
        description=(
            "A catalog alias such as llama3.1-70b-instruct or a Hugging Face id such as "
            "meta-llama/Llama-3.1-70B-Instruct. Also the model name clients send to the API."
        ),
    )
    checkpoint: Checkpoint | None = Field(
        default=None,
        description="Where to load the weights from. Omit to load the model from Hugging Face.",
    )
    dtype: Dtype = Field(
        default="auto",
        description=(
            "Weight precision: auto (the model's own, bfloat16 for Llama 3), bfloat16, "
            "float16, or fp8 (quantized weights, half the memory)."
        ),
    )
    max_model_len: int | None = Field(
        default=None,
        ge=128,
        le=16777216,
        description="Longest sequence (prompt + output), tokens. Omit for the model's context.",
    )
    architecture: Architecture | None = Field(
        default=None,
        description="The model's shape, required when name is not in the catalog.",
    )
    hf_token_secret_ref: SecretKeyRef | None = Field(
        default=None,
        description="Secret holding a Hugging Face token, passed to the engine as HF_TOKEN.",
    )

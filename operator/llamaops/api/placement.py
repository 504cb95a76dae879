"""How one replica of a model is laid out on GPUs: the result of sizing, kept in status."""

from pydantic import Field

from llamaops.api.base import ApiModel


class GpuMemory(ApiModel):
    """Where one GPU's memory goes, in GiB."""

    usable_gib: float = Field(
        alias="usableGiB", description="memoryUtilization x the GPU's memory: what vLLM may use."
    )
    weights_gib: float = Field(alias="weightsGiB", description="This GPU's share of the weights.")
    overhead_gib: float = Field(
        alias="overheadGiB",
        description="Activations, CUDA graphs and communication buffers (an estimate).",
    )
    kv_cache_gib: float = Field(
        alias="kvCacheGiB", description="What is left for the KV cache (negative: does not fit)."
    )


class Placement(ApiModel):
    """The layout of one replica and why it was chosen."""

    fits: bool = Field(description="Whether weights and the required KV cache fit this layout.")
    tensor_parallel_size: int = Field(
        description="GPUs per pipeline stage (--tensor-parallel-size)."
    )
    pipeline_parallel_size: int = Field(description="Pipeline stages (--pipeline-parallel-size).")
    gpus_per_replica: int = Field(description="GPUs one replica uses.")
    nodes_per_replica: int = Field(
        description="Nodes one replica spans; above 1 needs multi-node serving."
    )
    gpu_product: str = Field(description="The nvidia.com/gpu.product the layout is for.")
    gpu_memory_mib: int = Field(alias="gpuMemoryMiB", description="Memory of one GPU, MiB.")
    gpus_per_node: int = Field(description="GPUs per node assumed by the layout.")
    max_model_len: int = Field(description="Longest sequence the layout is sized for, tokens.")
    memory_per_gpu: GpuMemory = Field(description="Where each GPU's memory goes.")
    kv_cache_tokens: int = Field(description="Tokens the replica's KV cache holds.")
    full_length_sequences: int = Field(
        description="Sequences of maxModelLen tokens the KV cache holds at once."
    )
    reason: str = Field(
        description="Why this layout: the candidates tried and what ruled them out."
    )

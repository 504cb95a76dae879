"""Sizing: which layout each model gets on each GPU, and the reasons it gives."""

import dataclasses

import pytest

from llamaops.api.model_spec import Architecture
from llamaops.catalog.gpus import find_product
from llamaops.catalog.models import find_model
from llamaops.sizing import SizingRequest, human_tokens, size_replica


def sizing(
    model: str,
    dtype: str,
    gpu: str,
    gpus_per_node: int = 8,
    max_model_len: int = 8192,
    **layout: int,
) -> SizingRequest:
    entry, product = find_model(model), find_product(gpu)
    assert entry is not None and product is not None
    return SizingRequest(
        architecture=entry.architecture,
        model_label=entry.size,
        dtype=dtype,
        max_model_len=max_model_len,
        gpu_product=product.label,
        gpu_memory_mib=product.memory_mib,
        gpus_per_node=gpus_per_node,
        **layout,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("model", "dtype", "gpu", "tp", "pp"),
    [
        ("llama3.1-8b", "bfloat16", "H100-80GB", 1, 1),
        ("llama3.1-70b", "bfloat16", "H100-80GB", 4, 1),
        ("llama3.1-70b", "fp8", "H100-80GB", 2, 1),
        ("llama3.1-70b", "bfloat16", "A100-40GB", 8, 1),
        ("llama3.1-405b", "fp8", "H100-80GB", 8, 1),
        ("llama3.1-405b", "bfloat16", "H100-80GB", 8, 2),
        ("llama3.1-405b", "bfloat16", "H200", 8, 1),
        ("llama3.1-8b", "bfloat16", "L4", 1, 1),
        ("llama3.2-1b", "bfloat16", "L4", 1, 1),
        ("llama3.2-3b", "bfloat16", "L4", 1, 1),
        ("llama3.3-70b-instruct", "bfloat16", "H200", 2, 1),
        ("llama3.1-70b", "bfloat16", "A100-80GB", 4, 1),
    ],
    ids=str,
)
def test_the_smallest_layout_that_fits_is_chosen(
    model: str, dtype: str, gpu: str, tp: int, pp: int
) -> None:
    placement = size_replica(sizing(model, dtype, gpu))

    assert placement.fits, placement.reason
    assert (placement.tensor_parallel_size, placement.pipeline_parallel_size) == (tp, pp)
    assert placement.gpus_per_replica == tp * pp


def test_405b_bfloat16_spans_two_h100_nodes_and_says_so() -> None:
    placement = size_replica(sizing("llama3.1-405b", "bfloat16", "H100-80GB"))

    assert placement.nodes_per_replica == 2
    assert placement.gpus_per_replica == 16
    assert "no node of 8 × NVIDIA-H100-80GB-HBM3 holds it" in placement.reason
    assert "over 2 nodes TP 8 × PP 2 fits" in placement.reason


def test_the_reason_walks_through_each_rejected_size() -> None:
    placement = size_replica(sizing("llama3.1-70b", "bfloat16", "H100-80GB"))

    assert placement.reason.startswith("70B in bfloat16 is 141 GB of weights; ")
    assert "TP 1 needs 131.4 GiB of weights" in placement.reason
    assert "TP 2 leaves too little KV cache (13k tokens; 2 × 8192 need 16k)" in placement.reason
    assert placement.reason.endswith("TP 4 fits with 457k KV tokens (55 sequences of 8192)")


# KV-token capacities in shared/reference/sizing.md (0.9 utilization, ~4 GiB overhead).
@pytest.mark.parametrize(
    ("model", "dtype", "tp", "reference"),
    [
        ("llama3.1-8b", "bfloat16", 1, 430_000),
        ("llama3.1-70b", "bfloat16", 4, 451_000),
        ("llama3.1-70b", "bfloat16", 8, 1_330_000),
        ("llama3.1-70b", "fp8", 2, 226_000),
        ("llama3.1-405b", "fp8", 8, 336_000),
    ],
    ids=str,
)
def test_kv_capacity_is_within_three_percent_of_the_reference(
    model: str, dtype: str, tp: int, reference: int
) -> None:
    placement = size_replica(sizing(model, dtype, "H100-80GB", tensor_parallel_size=tp))

    assert placement.fits
    assert placement.kv_cache_tokens == pytest.approx(reference, rel=0.03)


def test_memory_breakdown_adds_up_to_the_usable_share() -> None:
    memory = size_replica(sizing("llama3.1-70b", "bfloat16", "H100-80GB")).memory_per_gpu

    assert memory.usable_gib == pytest.approx(0.9 * 81559 / 1024, abs=0.01)
    total = memory.weights_gib + memory.overhead_gib + memory.kv_cache_gib
    assert total == pytest.approx(memory.usable_gib, abs=0.02)


@pytest.mark.parametrize(
    ("layout", "expected_reason"),
    [
        (
            {"tensor_parallel_size": 3},
            "TP 3 is impossible: it does not divide the 64 attention heads",
        ),
        (
            {"tensor_parallel_size": 1},
            "TP 1 is impossible: it needs 131.4 GiB of weights + 4.0 GiB overhead per GPU, "
            "more than the 71.7 GiB usable",
        ),
        (
            {"tensor_parallel_size": 2},
            "TP 2 is impossible: it leaves too little KV cache (13k tokens; 2 × 8192 need 16k)",
        ),
        (
            {"tensor_parallel_size": 16},
            "TP 16 is impossible: it needs 16 GPUs in one node, which has 8",
        ),
        (
            {"tensor_parallel_size": 4, "pipeline_parallel_size": 81},
            "TP 4 × PP 81 is impossible: it has more stages than the 80 layers",
        ),
    ],
    ids=["tp3-heads", "tp1-weights", "tp2-kv", "tp16-node", "pp-layers"],
)
def test_a_user_given_layout_that_cannot_work_is_refused_with_the_reason(
    layout: dict[str, int], expected_reason: str
) -> None:
    placement = size_replica(sizing("llama3.1-70b", "bfloat16", "H100-80GB", **layout))

    assert not placement.fits
    assert placement.reason == expected_reason + "; automatic sizing would choose TP 4 on 1 node"


def test_a_pipeline_size_alone_is_refused_by_its_closest_layout() -> None:
    placement = size_replica(
        sizing("llama3.1-405b", "bfloat16", "H100-80GB", pipeline_parallel_size=1)
    )

    assert not placement.fits
    assert placement.reason.startswith("PP 1 is impossible: even TP 8 needs 94.2 GiB of weights")
    assert placement.reason.endswith("automatic sizing would choose TP 8 × PP 2 on 2 nodes")


def test_pipeline_stages_inside_one_node_are_not_called_multi_node() -> None:
    # 20 heads over 4 KV heads: TP 4 is the largest size, too small alone for 200B.
    narrow = Architecture(
        num_hidden_layers=80,
        hidden_size=5120,
        num_attention_heads=20,
        num_key_value_heads=4,
        intermediate_size=20480,
        vocab_size=32000,
        parameters=200_000_000_000,
    )
    request = dataclasses.replace(
        sizing("llama3.1-70b", "bfloat16", "H100-80GB"), architecture=narrow, model_label="200B"
    )

    placement = size_replica(request)

    assert (placement.tensor_parallel_size, placement.pipeline_parallel_size) == (4, 2)
    assert placement.nodes_per_replica == 1
    assert "no tensor-parallel size alone holds it; with pipeline stages TP 4 × PP 2 fits" in (
        placement.reason
    )


def test_a_user_given_layout_that_works_is_kept_even_if_larger_than_needed() -> None:
    placement = size_replica(sizing("llama3.1-8b", "bfloat16", "H100-80GB", tensor_parallel_size=2))

    assert placement.fits
    assert placement.tensor_parallel_size == 2


def test_a_user_given_pipeline_size_picks_the_smallest_tensor_size_with_it() -> None:
    placement = size_replica(
        sizing("llama3.1-70b", "bfloat16", "H100-80GB", pipeline_parallel_size=2)
    )

    assert (placement.tensor_parallel_size, placement.pipeline_parallel_size) == (2, 2)
    assert placement.nodes_per_replica == 1


def test_a_model_too_big_for_any_layout_does_not_fit_and_says_where_it_stopped() -> None:
    placement = size_replica(sizing("llama3.1-405b", "bfloat16", "L4", gpus_per_node=1))

    assert not placement.fits
    assert placement.pipeline_parallel_size == 16
    assert "even TP 1 × PP 16 over 16 nodes needs" in placement.reason
    assert placement.reason.endswith("it does not fit NVIDIA-L4")


def test_more_kv_sequences_can_push_the_layout_up() -> None:
    few = size_replica(sizing("llama3.1-8b", "bfloat16", "L4", min_kv_sequences=1))
    many = size_replica(sizing("llama3.1-8b", "bfloat16", "L4", min_kv_sequences=8))

    assert few.tensor_parallel_size == 1
    assert many.tensor_parallel_size > 1


def test_kv_heads_stop_shrinking_once_tensor_parallelism_exceeds_them() -> None:
    tp8 = size_replica(sizing("llama3.2-1b", "bfloat16", "H100-80GB", tensor_parallel_size=8))
    tp16 = size_replica(
        sizing("llama3.2-1b", "bfloat16", "H100-80GB", gpus_per_node=16, tensor_parallel_size=16)
    )

    # From 8 to 16 GPUs each GPU still holds one KV head, so per-GPU KV bytes per token
    # stay the same while the weights per GPU halve: capacity grows only slightly.
    assert tp16.kv_cache_tokens / tp8.kv_cache_tokens == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize(
    ("tokens", "shown"),
    [
        (512, "512"),
        (8192, "8.2k"),
        (9_999, "10k"),
        (451_234, "451k"),
        (999_999, "1M"),
        (1_333_000, "1.33M"),
    ],
)
def test_token_counts_read_like_a_person_writes_them(tokens: int, shown: str) -> None:
    assert human_tokens(tokens) == shown


def test_a_multi_node_replica_keeps_each_tensor_parallel_group_on_one_node() -> None:
    # 6-GPU nodes: TP 4 leaves 2 GPUs idle per node, so three TP-4 stages need three nodes.
    placement = size_replica(
        sizing(
            "llama3.1-70b",
            "bfloat16",
            "A10G",
            gpus_per_node=6,
            tensor_parallel_size=4,
            pipeline_parallel_size=3,
        )
    )

    assert placement.fits
    assert placement.nodes_per_replica == 3

"""The engine's speeds: a roofline of the model over the GPU, held to published figures."""

import math
from dataclasses import dataclass

import pytest

from llamaops.api.model_spec import Architecture
from llamaops.catalog.gpus import find_product
from llamaops.catalog.models import MODELS, CatalogModel, find_model
from llamaops.sim.engine.roofline import (
    MFU,
    STEP_OVERHEAD_SECONDS,
    EngineSpeed,
    engine_speed,
    kv_bytes_per_token,
)
from llamaops.sizing import SizingRequest, _kv_bytes_per_token_per_gpu, weight_bytes

TOLERANCE = 0.25  # the bar: within ±25 % of each published figure
ONE_OF_EACH_SIZE = sorted(
    {model.size: model for model in MODELS}.values(), key=lambda m: m.architecture.parameters
)


def architecture(model: str) -> Architecture:
    found = find_model(model)
    assert found is not None
    return found.architecture


def speed(model: str, dtype: str, gpu: str, tp: int = 1, pp: int = 1) -> EngineSpeed:
    product = find_product(gpu)
    assert product is not None
    return engine_speed(architecture(model), dtype, tp, pp, product)


def request_seconds(engine: EngineSpeed, batch: int, prompt: int, output: int) -> float:
    """A batch admitted together, from the prefill to its last token."""
    seconds = engine.step_seconds(batch, batch * prompt, batch * prompt)
    for made in range(1, output):
        seconds += engine.step_seconds(batch, 0, batch * (prompt + made))
    return seconds


@dataclass(frozen=True)
class Published:
    """A published figure and what the model says for the same setup."""

    what: str
    source: str
    figure: float
    model: float


def calibration_points() -> list[Published]:
    nim_70b = speed("llama3.3-70b-instruct", "fp8", "H100-80GB", tp=2)
    return [
        Published(
            "Llama-3.1-8B bf16, 1 × A100-40GB, concurrency 1, 1024 in / 128 out: tokens/s",
            "johnmusgrave.com, 'vLLM throughput-latency sweep on NVIDIA A100' (vLLM)",
            75.0,
            1 / speed("llama3.1-8b-instruct", "bfloat16", "A100-40GB").step_seconds(1, 0, 1088),
        ),
        Published(
            "Llama-3.3-70B fp8, 2 × H100-80GB TP 2, concurrency 1, 500 in / 2000 out: ITL ms",
            "NVIDIA NIM for LLMs benchmarking guide, Performance, NIM 1.8.0",
            18.91,
            1000 * nim_70b.step_seconds(1, 0, 1500),
        ),
        Published(
            "the same, 5000 prompt tokens: time to first token, ms",
            "NVIDIA NIM for LLMs benchmarking guide, Performance, NIM 1.8.0",
            406.77,
            1000 * nim_70b.step_seconds(1, 5000, 5000),
        ),
        Published(
            "Llama-3-70B bf16, 4 × H200 TP 4, batch 8, 32 in / 128 out: latency ms",
            "vLLM performance benchmark latency_llama70B_tp4 (buildkite vllm, build 9515)",
            2077.5,
            1000 * request_seconds(speed("llama3-70b", "bfloat16", "H200", tp=4), 8, 32, 128),
        ),
        Published(
            "Llama-3.1-8B bf16, 1 × H200, batch 8, 32 in / 128 out: latency ms",
            "vLLM performance benchmark latency_llama8B_tp1 (buildkite vllm, build 9515)",
            833.4,
            1000 * request_seconds(speed("llama3.1-8b", "bfloat16", "H200"), 8, 32, 128),
        ),
    ]


@pytest.mark.parametrize("point", calibration_points(), ids=lambda point: point.what)
def test_the_model_is_within_a_quarter_of_each_published_figure(point: Published) -> None:
    error = point.model / point.figure - 1

    assert abs(error) <= TOLERANCE, (
        f"{point.what}: {point.model:.2f} vs {point.figure} ({error:+.0%})"
    )


def test_a_single_8b_decode_on_an_a100_runs_at_about_three_quarters_of_the_bandwidth_ceiling() -> (
    None
):
    engine = speed("llama3.1-8b", "bfloat16", "A100-40GB")
    ceiling = 1555e9 / weight_bytes(architecture("llama3.1-8b"), "bfloat16")

    share = (1 / engine.step_seconds(1, 0, 1088)) / ceiling

    assert share == pytest.approx(0.77, abs=0.77 * TOLERANCE)


def test_fp8_halves_the_weight_bytes_but_not_the_kv_cache() -> None:
    bf16 = speed("llama3.1-70b", "bfloat16", "H100", tp=4)
    fp8 = speed("llama3.1-70b", "fp8", "H100", tp=4)

    assert fp8.weight_bytes == pytest.approx(bf16.weight_bytes / 2)
    assert fp8.kv_bytes_per_token == bf16.kv_bytes_per_token
    assert fp8.step_seconds(1) < bf16.step_seconds(1)


def test_fp8_computes_at_the_fp8_rate_only_where_the_gpu_has_fp8_tensor_cores() -> None:
    hopper_bf16 = speed("llama3.1-8b", "bfloat16", "H100")
    hopper_fp8 = speed("llama3.1-8b", "fp8", "H100")
    ampere_bf16 = speed("llama3.1-8b", "bfloat16", "A100-80GB")
    ampere_fp8 = speed("llama3.1-8b", "fp8", "A100-80GB")

    assert hopper_fp8.flops_per_second == pytest.approx(2 * hopper_bf16.flops_per_second)
    assert ampere_fp8.flops_per_second == ampere_bf16.flops_per_second


@pytest.mark.parametrize("model", ONE_OF_EACH_SIZE, ids=lambda model: model.size)
@pytest.mark.parametrize(("tp", "pp"), [(1, 1), (2, 1), (4, 1), (8, 1), (16, 1), (8, 2), (4, 3)])
def test_kv_bytes_per_token_are_sizings_accounting(model: CatalogModel, tp: int, pp: int) -> None:
    arch = model.architecture
    request = SizingRequest(arch, model.hf_id, "bfloat16", 8192, "any", 81559, 8)

    assert kv_bytes_per_token(arch, "bfloat16", tp, pp) == _kv_bytes_per_token_per_gpu(
        request, tp, pp
    )


def test_a_decode_step_reads_the_weights_and_the_kv_cache_of_the_batch() -> None:
    engine = speed("llama3.1-8b", "bfloat16", "H100")

    short = engine.step_seconds(32, 0, 32 * 100)
    long = engine.step_seconds(32, 0, 32 * 8000)

    kv_read = 32 * 7900 * engine.kv_bytes_per_token / engine.bytes_per_second
    assert long - short == pytest.approx(kv_read)
    assert short == pytest.approx(
        STEP_OVERHEAD_SECONDS
        + (engine.weight_bytes + 3200 * engine.kv_bytes_per_token) / engine.bytes_per_second
    )


def test_tensor_parallelism_splits_the_weights_and_pays_for_all_reduces() -> None:
    one = speed("llama3.1-8b", "bfloat16", "H100")
    four = speed("llama3.1-8b", "bfloat16", "H100", tp=4)

    assert one.communication_seconds(100) == 0.0
    assert four.communication_seconds(1) > 0
    assert four.weight_bytes == pytest.approx(one.weight_bytes / 4)
    assert 1 / 4 < four.step_seconds(1) / one.step_seconds(1) < 1, "faster, but not 4 × faster"


def test_all_reduces_over_pcie_cost_more_than_over_nvlink() -> None:
    nvlink = speed("llama3.1-70b", "bfloat16", "A100-80GB", tp=4)
    pcie = speed("llama3.1-70b", "bfloat16", "A100-PCIE-80GB", tp=4)

    assert pcie.communication_seconds(2000) > 5 * nvlink.communication_seconds(2000)


def test_pipeline_stages_split_weights_and_kv_per_gpu_but_not_a_single_requests_latency() -> None:
    tp4 = speed("llama3.1-70b", "bfloat16", "H100", tp=4)
    tp4_pp2 = speed("llama3.1-70b", "bfloat16", "H100", tp=4, pp=2)

    assert tp4_pp2.weight_bytes == pytest.approx(tp4.weight_bytes / 2)
    assert tp4_pp2.kv_bytes_per_token == tp4.kv_bytes_per_token // 2
    # One request crosses both stages in turn: no faster than the stages' TP alone.
    assert tp4_pp2.step_seconds(1, 0, 2000) == pytest.approx(tp4.step_seconds(1, 0, 2000))
    # A big batch is split over the stages, so the KV reads are shared by twice the GPUs.
    big = (256, 0, 256 * 4000)
    assert tp4_pp2.step_seconds(*big) < tp4.step_seconds(*big)


@pytest.mark.parametrize("pp", [1, 2])
def test_a_long_prefill_is_compute_bound_and_pipeline_stages_do_not_shorten_it(pp: int) -> None:
    prompt = 8000
    engine = speed("llama3.1-70b", "bfloat16", "H100", tp=2, pp=pp)
    compute = 2 * 70.55e9 * prompt / (2 * 989.5e12 * MFU)

    seconds = engine.step_seconds(1, prompt, prompt)

    assert compute < seconds < compute * 1.1, "the rest is the all-reduces and the overhead"


def test_a_step_that_prefills_and_decodes_costs_the_slower_of_the_two_not_their_sum() -> None:
    engine = speed("llama3.1-8b", "bfloat16", "H100")
    decode = engine.step_seconds(16, 0, 16 * 500)
    prefill = engine.step_seconds(1, 4000, 4000)

    both = engine.step_seconds(17, 4000, 16 * 500 + 4000)

    assert max(decode, prefill) <= both < prefill + 0.25 * decode


def test_larger_batches_make_more_tokens_per_second_until_compute_bounds_them() -> None:
    engine = speed("llama3.1-8b", "bfloat16", "H100")
    rates = [batch / engine.step_seconds(batch, 0, batch * 500) for batch in (1, 8, 64, 256)]

    assert rates == sorted(rates)
    assert rates[1] > 6 * rates[0], "batching is almost free while memory-bound"
    assert rates[3] < 4 * rates[2], "and far from free once the batch is large"


@pytest.mark.parametrize("gpu", ["H100", "H200", "A100-40GB", "L40S", "L4", "A10G"])
def test_every_catalog_gpu_decodes_8b_at_a_believable_speed(gpu: str) -> None:
    engine = speed("llama3.1-8b", "bfloat16", gpu)

    tokens_per_second = 1 / engine.step_seconds(1, 0, 1000)

    assert 10 < tokens_per_second < 250
    assert math.isfinite(engine.step_seconds(256, 2048, 256 * 2048))

"""An engine's load time, context and KV capacity follow from its model and machine."""

import dataclasses

import pytest

from llamaops.catalog.gpus import find_product
from llamaops.catalog.models import find_model
from llamaops.sim.engine.args import EngineArgs, parse_command_line
from llamaops.sim.engine.profile import EngineProfile
from llamaops.sim.engine.roofline import engine_speed
from llamaops.sim.engine.shape import engine_shape
from llamaops.sizing import SizingRequest, evaluate

H100 = EngineProfile(gpu_memory_mib=81559, load_bandwidth_gbps=4.0, startup_seconds=20.0)


def serve(*words: str) -> EngineArgs:
    return parse_command_line(["vllm", "serve", *words])


def test_load_time_is_weights_over_the_bandwidth_of_every_gpu_plus_startup() -> None:
    one_gpu = engine_shape(serve("meta-llama/Llama-3.1-70B-Instruct", "-tp", "1"), H100)
    eight_gpus = engine_shape(serve("meta-llama/Llama-3.1-70B-Instruct", "-tp", "8"), H100)

    weights = 70.55e9 * 2
    assert one_gpu.weights_bytes == pytest.approx(weights, rel=1e-3)
    assert one_gpu.load_seconds == pytest.approx(weights / 4e9 + 20, rel=1e-3)
    assert eight_gpus.load_seconds == pytest.approx(weights / 32e9 + 20, rel=1e-3)


@pytest.mark.parametrize(
    "model",
    [
        "meta-llama/Llama-3.1-8B-Instruct",
        "llama3.1-8b-instruct",
        "hf://meta-llama/Llama-3.1-8B-Instruct@main",
        "/models/meta-llama/Llama-3.1-8B-Instruct",
    ],
)
def test_the_model_is_found_by_id_alias_uri_or_path(model: str) -> None:
    shape = engine_shape(serve(model), H100)

    assert shape.known and shape.model.hf_id == "meta-llama/Llama-3.1-8B-Instruct"


def test_a_served_name_from_the_catalog_identifies_a_local_path() -> None:
    shape = engine_shape(serve("/models/ckpt-7", "--served-model-name", "llama3.1-70b"), H100)

    assert shape.known and shape.model.size == "70B"


def test_an_unknown_model_is_small_and_loads_quickly() -> None:
    shape = engine_shape(serve("/models/tiny"), H100)

    assert not shape.known
    assert shape.weights_bytes < 3e9
    assert shape.load_seconds < H100.startup_seconds + 1
    assert shape.max_model_len == 8192


def test_fp8_halves_the_weights() -> None:
    bf16 = engine_shape(serve("llama3.1-70b", "-tp", "4"), H100)
    fp8 = engine_shape(serve("llama3.1-70b", "-tp", "4", "--quantization", "fp8"), H100)

    assert fp8.weights_bytes * 2 == bf16.weights_bytes


def test_the_step_speed_is_the_roofline_of_the_model_its_dtype_layout_and_the_gpu() -> None:
    a100 = find_product("A100-80GB")
    assert a100 is not None
    args = serve("llama3.1-70b", "-tp", "4", "-pp", "2", "--quantization", "fp8")
    model = find_model("llama3.1-70b")
    assert model is not None

    on_h100 = engine_shape(args, H100)
    on_a100 = engine_shape(args, dataclasses.replace(H100, gpu=a100, gpu_memory_mib=81920))

    assert on_h100.speed == engine_speed(model.architecture, "fp8", 4, 2, H100.gpu)
    assert on_a100.speed == engine_speed(model.architecture, "fp8", 4, 2, a100)
    assert on_a100.speed.step_seconds(1) > on_h100.speed.step_seconds(1)


def test_an_unknown_model_steps_as_fast_as_the_smallest_llama() -> None:
    tiny = engine_shape(serve("/models/tiny"), H100)
    one_b = engine_shape(serve("llama3.2-1b"), H100)

    assert tiny.speed == one_b.speed


def test_kv_capacity_is_what_sizing_computes_for_the_model_layout_and_gpu() -> None:
    shape = engine_shape(serve("llama3.1-70b", "-tp", "4", "--max-model-len", "8192"), H100)
    model = find_model("llama3.1-70b")
    assert model is not None
    request = SizingRequest(
        architecture=model.architecture,
        model_label="70B",
        dtype="bfloat16",
        max_model_len=8192,
        gpu_product="H100",
        gpu_memory_mib=81559,
        gpus_per_node=8,
    )

    assert shape.kv_capacity_tokens == evaluate(request, 4, 1).kv_tokens > 0
    assert shape.failure is None


def test_a_profile_can_set_the_kv_capacity() -> None:
    shape = engine_shape(serve("m"), dataclasses.replace(H100, kv_capacity_tokens=50_000))

    assert shape.kv_capacity_tokens == 50_000


def test_a_slow_checkpoint_loads_slow_factor_times_longer() -> None:
    ok = engine_shape(serve("llama3.1-8b"), H100)
    slow = engine_shape(serve("llama3.1-8b"), dataclasses.replace(H100, checkpoint="slow"))

    assert slow.load_seconds == pytest.approx(ok.load_seconds * H100.slow_factor)
    assert slow.failure is None


def test_a_bad_checkpoint_fails_part_way_through_its_load() -> None:
    shape = engine_shape(serve("llama3.1-8b"), dataclasses.replace(H100, checkpoint="bad"))

    assert shape.failure is not None and "SafetensorError" in shape.failure
    assert 0 < shape.fail_after_seconds < shape.load_seconds


def test_weights_too_big_for_the_gpus_fail_the_load_as_out_of_memory() -> None:
    shape = engine_shape(serve("llama3.1-70b", "-tp", "1"), H100)

    assert shape.failure is not None and "out of memory" in shape.failure


def test_a_context_longer_than_the_kv_cache_holds_fails_the_load() -> None:
    profile = dataclasses.replace(H100, kv_capacity_tokens=4096)
    shape = engine_shape(serve("llama3.1-8b", "--max-model-len", "8192"), profile)

    assert shape.failure is not None
    assert "max seq len (8192) is larger than" in shape.failure
    assert "(4096)" in shape.failure

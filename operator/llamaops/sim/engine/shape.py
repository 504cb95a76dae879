"""What an engine's model costs: weights to load, KV cache to hold, context, step speed.

The model is looked up in the catalog by `--model` (a Hugging Face id, an alias, or a
URI or path ending in one) or by a served name. A model the catalog does not know is
taken to be shaped like the smallest Llama, so unknown models load fast and fit anywhere.
KV capacity comes from llamaops.sizing: the same memory accounting the operator sizes with.
Step times come from the roofline (roofline.py) of the model, its dtype, TP and PP, and
the GPU.
"""

import math
from dataclasses import dataclass

from llamaops.catalog.models import CatalogModel, find_model
from llamaops.sim.engine.args import EngineArgs
from llamaops.sim.engine.profile import EngineProfile
from llamaops.sim.engine.roofline import EngineSpeed, engine_speed
from llamaops.sizing import WEIGHT_BYTES, SizingRequest, evaluate, weight_bytes

UNKNOWN_MODEL_SHAPE = "meta-llama/Llama-3.2-1B"
UNKNOWN_MODEL_CONTEXT = 8192
DTYPES = {"half": "float16", "float16": "float16", "bfloat16": "bfloat16", "fp8": "fp8"}


@dataclass(frozen=True)
class EngineShape:
    """The derived facts an engine runs on."""

    model: CatalogModel
    known: bool
    dtype: str
    weights_bytes: int
    load_seconds: float
    max_model_len: int
    kv_capacity_tokens: int
    speed: EngineSpeed
    failure: str | None  # why loading fails, if it does
    fail_after_seconds: float


def engine_shape(args: EngineArgs, profile: EngineProfile) -> EngineShape:
    """Load time, context, KV capacity and step speed for these arguments on this machine."""
    found = catalog_model(args)
    model = found or _unknown_model()
    dtype = _dtype(args, model)
    weights = weight_bytes(model.architecture, dtype)
    gpus = args.tensor_parallel_size * args.pipeline_parallel_size
    load = weights / (profile.load_bandwidth_gbps * 1e9 * gpus) + profile.startup_seconds
    if profile.checkpoint == "slow":
        load *= profile.slow_factor
    default_len = model.context_length if found else UNKNOWN_MODEL_CONTEXT
    max_model_len = args.max_model_len or default_len
    kv_tokens = profile.kv_capacity_tokens
    if kv_tokens is None:
        kv_tokens = _sized_kv_tokens(args, profile, model, dtype, max_model_len)
    failure, fail_after = _failure(profile, load, max_model_len, kv_tokens)
    return EngineShape(
        model=model,
        known=found is not None,
        dtype=dtype,
        weights_bytes=weights,
        load_seconds=load,
        max_model_len=max_model_len,
        kv_capacity_tokens=kv_tokens,
        speed=engine_speed(
            model.architecture,
            dtype,
            args.tensor_parallel_size,
            args.pipeline_parallel_size,
            profile.gpu,
        ),
        failure=failure,
        fail_after_seconds=fail_after,
    )


def catalog_model(args: EngineArgs) -> CatalogModel | None:
    """The catalog entry for the model or one of its served names, if there is one."""
    for name in (args.model, *args.served_model_names):
        for candidate in _name_candidates(name):
            found = find_model(candidate)
            if found is not None:
                return found
    return None


def _name_candidates(name: str) -> list[str]:
    """ "hf://meta-llama/Llama-3.1-8B@rev" -> itself, the id without scheme and revision,
    the last two path parts, and the last part."""
    bare = name.split("://", 1)[-1].split("@", 1)[0].rstrip("/")
    parts = bare.split("/")
    return [name, bare, "/".join(parts[-2:]), parts[-1]]


def _unknown_model() -> CatalogModel:
    model = find_model(UNKNOWN_MODEL_SHAPE)
    assert model is not None, "the catalog lost the model unknown models are shaped like"
    return model


def _dtype(args: EngineArgs, model: CatalogModel) -> str:
    if args.quantization == "fp8" or args.dtype == "fp8":
        return "fp8"
    if args.dtype == "auto":
        return model.native_dtype
    resolved = DTYPES.get(args.dtype, "bfloat16")
    return resolved if resolved in WEIGHT_BYTES else "bfloat16"


def _sized_kv_tokens(
    args: EngineArgs, profile: EngineProfile, model: CatalogModel, dtype: str, max_len: int
) -> int:
    request = SizingRequest(
        architecture=model.architecture,
        model_label=model.hf_id,
        dtype=dtype,
        max_model_len=max_len,
        gpu_product="simulated",
        gpu_memory_mib=profile.gpu_memory_mib,
        gpus_per_node=args.tensor_parallel_size * args.pipeline_parallel_size,
        memory_utilization=args.gpu_memory_utilization,
    )
    return evaluate(request, args.tensor_parallel_size, args.pipeline_parallel_size).kv_tokens


def _failure(
    profile: EngineProfile, load: float, max_model_len: int, kv_tokens: int
) -> tuple[str | None, float]:
    """Why loading fails, in vLLM's words: a corrupt checkpoint, weights that do not fit,
    or a KV cache smaller than one full-length sequence."""
    if profile.checkpoint == "bad":
        message = (
            "safetensors_rust.SafetensorError: Error while deserializing header: invalid checkpoint"
        )
        return message, load * profile.bad_after_share
    if kv_tokens <= 0:
        return "torch.OutOfMemoryError: CUDA out of memory while loading the weights", load
    if kv_tokens < max_model_len:
        message = (
            f"ValueError: The model's max seq len ({max_model_len}) is larger than the maximum "
            f"number of tokens that can be stored in KV cache ({kv_tokens}). Try increasing "
            "`gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."
        )
        return message, load
    return None, math.inf

"""The model and GPU catalogs: every Llama 3 model by id and alias, GPU products by label."""

import pytest

from llamaops.catalog.gpus import (
    PRODUCTS,
    GpuProduct,
    find_product,
    product_label,
    product_or_default,
)
from llamaops.catalog.models import MODELS, find_model

# (Hugging Face id, alias, parameters in billions, context) for base and instruct models.
EXPECTED = [
    ("meta-llama/Meta-Llama-3-8B", "llama3-8b", 8.03, 8192),
    ("meta-llama/Meta-Llama-3-70B", "llama3-70b", 70.55, 8192),
    ("meta-llama/Llama-3.1-8B", "llama3.1-8b", 8.03, 131072),
    ("meta-llama/Llama-3.1-70B", "llama3.1-70b", 70.55, 131072),
    ("meta-llama/Llama-3.1-405B", "llama3.1-405b", 404.65, 131072),
    ("meta-llama/Llama-3.2-1B", "llama3.2-1b", 1.24, 131072),
    ("meta-llama/Llama-3.2-3B", "llama3.2-3b", 3.21, 131072),
]


@pytest.mark.parametrize(("hf_id", "alias", "billions", "context"), EXPECTED, ids=str)
@pytest.mark.parametrize("instruct", [False, True], ids=["base", "instruct"])
def test_every_version_and_size_is_known_by_id_and_alias(
    hf_id: str, alias: str, billions: float, context: int, instruct: bool
) -> None:
    suffix, alias_suffix = ("-Instruct", "-instruct") if instruct else ("", "")

    by_id = find_model(hf_id + suffix)
    by_alias = find_model(alias + alias_suffix)

    assert by_id is not None and by_id is by_alias
    assert by_id.architecture.parameters == round(billions * 1e9)
    assert by_id.context_length == context


def test_llama_3_3_exists_only_as_70b_instruct() -> None:
    model = find_model("meta-llama/Llama-3.3-70B-Instruct")

    assert model is not None and model.size == "70B"
    assert find_model("meta-llama/Llama-3.3-70B") is None


def test_names_are_case_insensitive_and_old_3_1_names_resolve() -> None:
    assert find_model("META-LLAMA/llama-3.1-8b-instruct") is find_model("llama3.1-8b-instruct")
    assert find_model("meta-llama/Meta-Llama-3.1-70B-Instruct") is find_model(
        "llama3.1-70b-instruct"
    )


def test_fp8_builds_of_405b_are_fp8_natively() -> None:
    model = find_model("meta-llama/Llama-3.1-405B-Instruct-FP8")

    assert model is not None and model.native_dtype == "fp8"


@pytest.mark.parametrize(
    ("size", "layers", "heads", "kv_bytes_per_token"),
    [
        ("1B", 16, 32, 32 * 1024),
        ("3B", 28, 24, 112 * 1024),
        ("8B", 32, 32, 128 * 1024),
        ("70B", 80, 64, 320 * 1024),
        ("405B", 126, 128, 504 * 1024),
    ],
)
def test_architectures_match_the_reference_kv_sizes(
    size: str, layers: int, heads: int, kv_bytes_per_token: int
) -> None:
    arch = next(m.architecture for m in MODELS if m.size == size)

    assert (arch.num_hidden_layers, arch.num_attention_heads) == (layers, heads)
    assert 2 * arch.num_hidden_layers * arch.num_key_value_heads * arch.head_size * 2 == (
        kv_bytes_per_token
    )


def test_ids_and_aliases_are_unique() -> None:
    names = [name.lower() for m in MODELS for name in (m.hf_id, *m.aliases)]
    gpu_names = [name.lower() for p in PRODUCTS for name in (p.label, *p.aliases)]

    assert len(names) == len(set(names))
    assert len(gpu_names) == len(set(gpu_names))


@pytest.mark.parametrize(
    ("name", "label", "memory_gb"),
    [
        ("H100-80GB", "NVIDIA-H100-80GB-HBM3", 80),
        ("NVIDIA-H100-NVL", "NVIDIA-H100-NVL", 94),
        ("h200", "NVIDIA-H200", 141),
        ("A100-80GB", "NVIDIA-A100-SXM4-80GB", 80),
        ("A100-40GB", "NVIDIA-A100-SXM4-40GB", 40),
        ("NVIDIA-A100-PCIE-40GB", "NVIDIA-A100-PCIE-40GB", 40),
        ("L40S", "NVIDIA-L40S", 48),
        ("L4", "NVIDIA-L4", 24),
        ("A10G", "NVIDIA-A10G", 24),
        ("GH200", "NVIDIA-GH200-480GB", 96),
    ],
)
def test_gpu_products_by_label_or_alias(name: str, label: str, memory_gb: int) -> None:
    product = find_product(name)

    assert product is not None and product.label == label
    assert product.memory_mib * 1024**2 / 1e9 == pytest.approx(memory_gb, rel=0.1)


def test_an_unknown_product_is_taken_as_a_label() -> None:
    assert find_product("NVIDIA-B200") is None
    assert product_label("NVIDIA-B200") == "NVIDIA-B200"
    assert product_label("l4") == "NVIDIA-L4"


@pytest.mark.parametrize(
    ("name", "bandwidth_gbps", "bf16_tflops", "fp8_tflops"),
    [
        ("H100-80GB", 3350, 989.5, 1979),
        ("H200", 4800, 989.5, 1979),
        ("A100-40GB", 1555, 312, None),
        ("A100-80GB", 2039, 312, None),
        ("L40S", 864, 362.05, 733),
        ("L4", 300, 121, 242.5),
    ],
)
def test_gpu_products_carry_their_datasheet_speeds(
    name: str, bandwidth_gbps: float, bf16_tflops: float, fp8_tflops: float | None
) -> None:
    product = find_product(name)

    assert product is not None
    assert (product.memory_bandwidth_gbps, product.bf16_tflops, product.fp8_tflops) == (
        bandwidth_gbps,
        bf16_tflops,
        fp8_tflops,
    )


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda product: product.label)
def test_every_product_has_dense_speeds_and_fp8_at_twice_bf16_where_it_has_fp8(
    product: GpuProduct,
) -> None:
    assert product.memory_bandwidth_gbps > 0 and product.interconnect_gbps > 0
    assert 50 <= product.bf16_tflops < 1000, "dense: the datasheets' sparse figures are double"
    if product.fp8_tflops is not None:
        assert product.fp8_tflops == pytest.approx(2 * product.bf16_tflops, rel=0.02)


def test_an_unknown_or_missing_product_is_taken_for_an_h100() -> None:
    h100 = find_product("H100-80GB")

    assert product_or_default(None) is h100
    assert product_or_default("NVIDIA-B200") is h100
    assert product_or_default("l4") is find_product("NVIDIA-L4")

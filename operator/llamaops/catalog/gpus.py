"""GPU products by the label NVIDIA GPU Feature Discovery writes, with aliases and speeds.

Memory is what the driver reports (the `nvidia.com/gpu.memory` label, MiB). Nodes that
carry that label are trusted over this table.

Speeds are the vendor's datasheet figures, one comment per product naming the sheet:
memory bandwidth in GB/s, dense (without sparsity: datasheets mark the sparse figure with
an asterisk and say dense is half of it) BF16 and FP8 tensor TFLOPS, and the GPU-to-GPU
bandwidth a tensor-parallel all-reduce runs over, in GB/s as the sheet states it (both
directions together): NVLink where the product has it, else its PCIe link. `fp8_tflops`
is None where the GPU has no FP8 tensor cores (Ampere).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuProduct:
    """One GPU product."""

    label: str
    aliases: tuple[str, ...]
    memory_mib: int
    memory_bandwidth_gbps: float
    bf16_tflops: float
    fp8_tflops: float | None
    interconnect_gbps: float


PRODUCTS: tuple[GpuProduct, ...] = (
    # "NVIDIA H100 Tensor Core GPU" datasheet, H100 SXM column:
    # https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet
    # 3.35 TB/s; BF16 1,979* and FP8 3,958* TFLOPS with sparsity; NVLink 900 GB/s.
    GpuProduct(
        "NVIDIA-H100-80GB-HBM3",
        ("H100-80GB", "H100", "H100-SXM"),
        81559,
        memory_bandwidth_gbps=3350,
        bf16_tflops=989.5,
        fp8_tflops=1979,
        interconnect_gbps=900,
    ),
    # "NVIDIA H100 Tensor Core GPU" datasheet (2022 edition), H100 PCIe column:
    # https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet
    # 2 TB/s; BF16 1,513* and FP8 3,026* TFLOPS; PCIe Gen5 128 GB/s (NVLink bridges pair
    # only two cards, so a TP group larger than two crosses PCIe).
    GpuProduct(
        "NVIDIA-H100-PCIe",
        ("H100-PCIE",),
        81559,
        memory_bandwidth_gbps=2000,
        bf16_tflops=756.5,
        fp8_tflops=1513,
        interconnect_gbps=128,
    ),
    # "NVIDIA H100 Tensor Core GPU" datasheet, H100 NVL column:
    # https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet
    # 3.9 TB/s; BF16 1,671* and FP8 3,341* TFLOPS; NVLink 600 GB/s.
    GpuProduct(
        "NVIDIA-H100-NVL",
        ("H100-NVL", "H100-94GB"),
        95830,
        memory_bandwidth_gbps=3900,
        bf16_tflops=835.5,
        fp8_tflops=1670.5,
        interconnect_gbps=600,
    ),
    # "NVIDIA H200 Tensor Core GPU" datasheet, H200 SXM column:
    # https://www.nvidia.com/en-us/data-center/h200/
    # 4.8 TB/s; BF16 1,979* and FP8 3,958* TFLOPS; NVLink 900 GB/s.
    GpuProduct(
        "NVIDIA-H200",
        ("H200", "H200-141GB"),
        143771,
        memory_bandwidth_gbps=4800,
        bf16_tflops=989.5,
        fp8_tflops=1979,
        interconnect_gbps=900,
    ),
    # "NVIDIA GH200 Grace Hopper Superchip" datasheet, 96 GB HBM3 version:
    # https://resources.nvidia.com/en-us-grace-cpu/grace-hopper-superchip
    # 4 TB/s; BF16 1,979* and FP8 3,958* TFLOPS; NVLink 900 GB/s.
    GpuProduct(
        "NVIDIA-GH200-480GB",
        ("GH200",),
        97871,
        memory_bandwidth_gbps=4000,
        bf16_tflops=989.5,
        fp8_tflops=1979,
        interconnect_gbps=900,
    ),
    # "NVIDIA A100 Tensor Core GPU" datasheet, A100 80GB SXM column:
    # https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
    # 2,039 GB/s; BF16 312 TFLOPS (624* with sparsity); no FP8; NVLink 600 GB/s.
    GpuProduct(
        "NVIDIA-A100-SXM4-80GB",
        ("A100-80GB", "A100-SXM4-80GB"),
        81920,
        memory_bandwidth_gbps=2039,
        bf16_tflops=312,
        fp8_tflops=None,
        interconnect_gbps=600,
    ),
    # The A100 datasheet above, A100 80GB PCIe column: 1,935 GB/s; BF16 312 TFLOPS;
    # PCIe Gen4 64 GB/s (the NVLink bridge joins only two cards).
    GpuProduct(
        "NVIDIA-A100-PCIE-80GB",
        ("A100-PCIE-80GB",),
        81920,
        memory_bandwidth_gbps=1935,
        bf16_tflops=312,
        fp8_tflops=None,
        interconnect_gbps=64,
    ),
    # The A100 datasheet above (r4), A100 40GB SXM column: 1,555 GB/s; BF16 312 TFLOPS;
    # NVLink 600 GB/s.
    GpuProduct(
        "NVIDIA-A100-SXM4-40GB",
        ("A100-40GB", "A100", "A100-SXM4-40GB"),
        40960,
        memory_bandwidth_gbps=1555,
        bf16_tflops=312,
        fp8_tflops=None,
        interconnect_gbps=600,
    ),
    # The A100 datasheet above (r4), A100 40GB PCIe column: 1,555 GB/s; BF16 312 TFLOPS;
    # PCIe Gen4 64 GB/s.
    GpuProduct(
        "NVIDIA-A100-PCIE-40GB",
        ("A100-PCIE-40GB",),
        40960,
        memory_bandwidth_gbps=1555,
        bf16_tflops=312,
        fp8_tflops=None,
        interconnect_gbps=64,
    ),
    # "NVIDIA L40S GPU" datasheet:
    # https://resources.nvidia.com/en-us-l40s/l40s-datasheet-28413
    # 864 GB/s; BF16 362.05 | 733* and FP8 733 | 1,466* TFLOPS; PCIe Gen4 x16 64 GB/s.
    GpuProduct(
        "NVIDIA-L40S",
        ("L40S",),
        46068,
        memory_bandwidth_gbps=864,
        bf16_tflops=362.05,
        fp8_tflops=733,
        interconnect_gbps=64,
    ),
    # "NVIDIA L4 Tensor Core GPU" datasheet:
    # https://resources.nvidia.com/en-us-data-center-overview/l4-gpu-datasheet
    # 300 GB/s; BF16 242* and FP8 485* TFLOPS; PCIe Gen4 x16 64 GB/s.
    GpuProduct(
        "NVIDIA-L4",
        ("L4",),
        23034,
        memory_bandwidth_gbps=300,
        bf16_tflops=121,
        fp8_tflops=242.5,
        interconnect_gbps=64,
    ),
    # The A10G is AWS's variant of the A10 and has no NVIDIA datasheet of its own. AWS's
    # "Amazon EC2 G5 Instances" page (https://aws.amazon.com/ec2/instance-types/g5/) gives
    # its 24 GB; Baseten's "NVIDIA A10 vs A10G for ML model inference" compares the two spec
    # sheets (https://www.baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference/):
    # 600 GB/s like the A10, BF16 tensor 70 TFLOPS (the A10 datasheet's 125); Ampere, no
    # FP8; PCIe Gen4 x16 64 GB/s.
    GpuProduct(
        "NVIDIA-A10G",
        ("A10G",),
        23028,
        memory_bandwidth_gbps=600,
        bf16_tflops=70,
        fp8_tflops=None,
        interconnect_gbps=64,
    ),
)

DEFAULT_PRODUCT = "NVIDIA-H100-80GB-HBM3"  # what an unlabelled simulated node is taken for

_BY_NAME = {
    name.lower(): product for product in PRODUCTS for name in (product.label, *product.aliases)
}


def find_product(name: str) -> GpuProduct | None:
    """The product with this label value or alias (case does not matter)."""
    return _BY_NAME.get(name.lower())


def product_or_default(name: str | None) -> GpuProduct:
    """The product with this label or alias; an H100-80GB when unknown or missing."""
    found = find_product(name) if name else None
    return found or _BY_NAME[DEFAULT_PRODUCT.lower()]


def product_label(name: str) -> str:
    """The node-label value for a product name or alias; unknown names are taken as labels."""
    product = find_product(name)
    return product.label if product else name


def known_names() -> str:
    """The aliases, for error messages: "H100-80GB, H200, ..."."""
    return ", ".join(product.aliases[0] for product in PRODUCTS)

"""GPU products by the label NVIDIA GPU Feature Discovery writes, with aliases and memory.

Memory is what the driver reports (the `nvidia.com/gpu.memory` label, MiB). Nodes that
carry that label are trusted over this table.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuProduct:
    """One GPU product."""

    label: str
    aliases: tuple[str, ...]
    memory_mib: int


PRODUCTS: tuple[GpuProduct, ...] = (
    GpuProduct("NVIDIA-H100-80GB-HBM3", ("H100-80GB", "H100", "H100-SXM"), 81559),
    GpuProduct("NVIDIA-H100-PCIe", ("H100-PCIE",), 81559),
    GpuProduct("NVIDIA-H100-NVL", ("H100-NVL", "H100-94GB"), 95830),
    GpuProduct("NVIDIA-H200", ("H200", "H200-141GB"), 143771),
    GpuProduct("NVIDIA-GH200-480GB", ("GH200",), 97871),
    GpuProduct("NVIDIA-A100-SXM4-80GB", ("A100-80GB", "A100-SXM4-80GB"), 81920),
    GpuProduct("NVIDIA-A100-PCIE-80GB", ("A100-PCIE-80GB",), 81920),
    GpuProduct("NVIDIA-A100-SXM4-40GB", ("A100-40GB", "A100", "A100-SXM4-40GB"), 40960),
    GpuProduct("NVIDIA-A100-PCIE-40GB", ("A100-PCIE-40GB",), 40960),
    GpuProduct("NVIDIA-L40S", ("L40S",), 46068),
    GpuProduct("NVIDIA-L4", ("L4",), 23034),
    GpuProduct("NVIDIA-A10G", ("A10G",), 23028),
)

_BY_NAME = {
    name.lower(): product for product in PRODUCTS for name in (product.label, *product.aliases)
}


def find_product(name: str) -> GpuProduct | None:
    """The product with this label value or alias (case does not matter)."""
    return _BY_NAME.get(name.lower())


def product_label(name: str) -> str:
    """The node-label value for a product name or alias; unknown names are taken as labels."""
    product = find_product(name)
    return product.label if product else name


def known_names() -> str:
    """The aliases, for error messages: "H100-80GB, H200, ..."."""
    return ", ".join(product.aliases[0] for product in PRODUCTS)

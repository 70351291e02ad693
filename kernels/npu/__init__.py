"""NPU kernels: tiled ternary GEMV / GEMM Programs for the MAC-array command set.

Kernel layer. `kernels.npu.gemm` builds the double-buffered, K-chunked, row-tiled command stream
of one BitNet projection for any NPU machine (`isa_models/machines/npu/*.toml`); `NPU_KERNELS` is
the local registry (kernels/registry.py does not exist yet; it maps a kernel name to its builder,
DRAM packer, read-back function and exactness claim, the same facts a shared registry would need).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kernels.npu.gemm import GemmPlan, gemm_inputs, gemm_output, gemm_program, plan_gemm, run_gemm

__all__ = ["GemmPlan", "plan_gemm", "gemm_program", "gemm_inputs", "gemm_output", "run_gemm",
           "NpuKernel", "NPU_KERNELS", "get_npu_kernel"]


@dataclass(frozen=True)
class NpuKernel:
    """Registry entry: how to build, feed and read one NPU kernel, and what it promises."""

    name: str
    description: str
    plan: Callable
    program: Callable
    inputs: Callable
    output: Callable
    exact: bool
    exactness: str


NPU_KERNELS: dict[str, NpuKernel] = {
    "npu_gemm": NpuKernel(
        name="npu_gemm",
        description="tiled GEMV/GEMM on the output-stationary MAC array: K chunks per weight bank, "
                    "double-buffered DMA, (row tile, token) pairs per accumulator bank",
        plan=plan_gemm, program=gemm_program, inputs=gemm_inputs, output=gemm_output,
        exact=True,
        exactness="exact int32: K is split into segments of at most max_exact_k products, so the "
                  "acc_bits accumulators never wrap; several segments are added on the host in int64"),
}


def get_npu_kernel(name: str) -> NpuKernel:
    """The registered NPU kernel `name`; LookupError lists the valid names."""
    try:
        return NPU_KERNELS[name]
    except KeyError:
        raise LookupError(f"unknown npu kernel {name!r}; valid: {', '.join(NPU_KERNELS)}") from None

"""NPU kernels: tiled ternary GEMV / GEMM Programs for the MAC-array command set.

Kernel layer. `kernels.npu_gemm.gemm` builds the double-buffered, K-chunked, row-tiled command stream
of one BitNet projection for any NPU machine (`isa_models/machines/npu/*.toml`). `KERNEL`
registers it in `kernels.registry` as ``npu_gemm`` / ``npu`` (one token, the decode GEMV; the
multi-token GEMM is `run_gemm`): its one parameter ``machine`` names the NPU machine (or is an
`isa_models.npu.NpuParams`), because the Program depends on the array, bank and accumulator sizes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from isa_models.npu import NpuParams, load_npu_machine
from kernels.npu_gemm.gemm import GemmPlan, gemm_inputs, gemm_output, gemm_program, plan_gemm, run_gemm
from kernels.registry import KernelSpec

__all__ = ["GemmPlan", "plan_gemm", "gemm_program", "gemm_inputs", "gemm_output", "run_gemm",
           "machine_params", "KERNEL", "DEFAULT_MACHINE"]

#: The machine `npu_gemm` is built for unless told otherwise.
DEFAULT_MACHINE = "edge16"


@lru_cache(maxsize=None)
def _load(name: str) -> NpuParams:
    return load_npu_machine(name)


def machine_params(machine) -> NpuParams:
    """`machine` as NpuParams: a name from isa_models/machines/npu/ (loaded once) or NpuParams itself.

    Raises
    ------
    LookupError : an unknown machine name (isa_models.npu lists the valid ones).
    ValueError : something that is neither a name nor NpuParams.
    """
    if isinstance(machine, NpuParams):
        return machine
    if not isinstance(machine, str):
        raise ValueError(f"npu_gemm: machine must be an NPU machine name or NpuParams, got {machine!r}")
    return _load(machine)


def _check_shape(M: int, K: int, *, machine=DEFAULT_MACHINE) -> None:
    plan_gemm(machine_params(machine), M, K, tokens=1)


def _build(M: int, K: int, *, machine=DEFAULT_MACHINE):
    return gemm_program(machine_params(machine), M, K, tokens=1)


def _prepare(codes: np.ndarray, q: np.ndarray, *, machine=DEFAULT_MACHINE) -> dict[str, np.ndarray]:
    return gemm_inputs(machine_params(machine), codes, q)


def _result(buffers: dict[str, np.ndarray], *, M: int, K: int, machine=DEFAULT_MACHINE) -> np.ndarray:
    return gemm_output(buffers, plan_gemm(machine_params(machine), M, K, tokens=1))[0]


KERNEL = KernelSpec(
    name="npu_gemm", isa="npu", weight_format="npu_tile",
    description="Tiled GEMV on the output-stationary NPU MAC array (kernels.npu_gemm.gemm): K chunks per "
                "weight bank, double-buffered DMA, one (row tile, token) pair per accumulator bank; "
                "weights packed as the machine's 2-bit or base-3 words (isa_models.npu.encoding). Exact "
                "int32: K is split into segments of at most max_exact_k products, so the acc_bits "
                "accumulators never wrap; several segments are added on the host in int64.",
    params={"machine": DEFAULT_MACHINE},
    exactness="exact",
    build=_build, prepare=_prepare, result=_result, check_shape=_check_shape,
    result_needs_shape=True, machine_param="machine")


def _check_batch(M: int, K: int, *, N: int = 16, machine=DEFAULT_MACHINE) -> None:
    plan_gemm(machine_params(machine), M, K, tokens=N)


def _build_batch(M: int, K: int, *, N: int = 16, machine=DEFAULT_MACHINE):
    return gemm_program(machine_params(machine), M, K, tokens=N, name=f"npu_prefill_{M}x{K}x{N}")


def _prepare_batch(codes: np.ndarray, q: np.ndarray, *, N: int = 16, machine=DEFAULT_MACHINE) -> dict[str, np.ndarray]:
    return gemm_inputs(machine_params(machine), codes, q)


def _result_batch(buffers: dict[str, np.ndarray], *, M: int, K: int, N: int = 16,
                  machine=DEFAULT_MACHINE) -> np.ndarray:
    return gemm_output(buffers, plan_gemm(machine_params(machine), M, K, tokens=N))


#: The batched (prefill) form of the same command stream: N tokens per call share every weight
#: tile the array loads (`plan_gemm` groups tokens per accumulator bank), result int32 [N, M].
PREFILL_KERNEL = KernelSpec(
    name="npu_prefill", isa="npu", weight_format="npu_tile",
    description="npu_gemm's tiled GEMM for N tokens at once (kernels.npu_gemm.gemm, tokens=N): each weight "
                "tile is loaded once per pass and applied to a group of tokens in the accumulator banks; "
                "the prefill kernel of the SoC projection. Exact int32 as npu_gemm.",
    params={"N": 16, "machine": DEFAULT_MACHINE},
    exactness="exact",
    build=_build_batch, prepare=_prepare_batch, result=_result_batch, check_shape=_check_batch,
    result_needs_shape=True, machine_param="machine", tokens_param="N")

KERNELS = [KERNEL, PREFILL_KERNEL]

"""Whole-token projection: kernel time per token on one core and tokens/s for 1..N cores.

Top of the flow (`workbench.flow`), after the per-shape timings of a whole-token run. The kernel
cycles of every projection of every layer are summed; the bytes a token must read are the
kernel's packed weights (its `workbench.formats` format) or, for a kernel whose weight layout is
not a registered format (an accelerator's tiles), the bytes its Programs move per the timing.
Tokens/s of n cores is the lower of compute (n / kernel time) and the DRAM roofline (bytes at
the bandwidth of n cores, ``min(n * per-core, chip)``). A batched (prefill) kernel serves N
tokens per call and reads its weights once for them: cycles and bytes per token are the call's
divided by N. Only the ternary projections are modelled: attention, norms and the lm_head are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.formats import FORMATS, get_format
from workbench.reference import PROJECTIONS

__all__ = ["TokenProjection", "project_token", "token_weight_bytes"]


@dataclass(frozen=True)
class TokenProjection:
    """Whole-token figures: kernel time per token on one core and tokens/s for 1..N cores.

    tokens_per_s(n) = 1 / max(kernel_seconds / n, weight_bytes / DRAM bandwidth of n cores),
    the DRAM bandwidth of n cores being min(n * per-core, chip).

    Attributes
    ----------
    weight_source : what `weight_bytes` counts ("packed weights, format i2s_x86", or "bytes the
        Programs move (timing)").
    tokens_per_call : tokens one kernel call serves (a batched kernel's N, else 1); the cycles
        and bytes above are per token, i.e. per call divided by it.
    """

    kernel_cycles: float
    kernel_seconds: float
    weight_bytes: int
    dram_gbps_core: float
    dram_gbps_chip: float
    cores: int
    weight_source: str = ""
    tokens_per_call: int = 1

    def dram_gbps(self, n: int) -> float:
        return min(n * self.dram_gbps_core, self.dram_gbps_chip)

    def roofline_tokens_per_s(self, n: int) -> float:
        return self.dram_gbps(n) * 1e9 / self.weight_bytes

    def compute_tokens_per_s(self, n: int) -> float:
        return n / self.kernel_seconds

    def tokens_per_s(self, n: int) -> float:
        return min(self.compute_tokens_per_s(n), self.roofline_tokens_per_s(n))

    def bound(self, n: int) -> str:
        return "DRAM" if self.roofline_tokens_per_s(n) < self.compute_tokens_per_s(n) else "compute"

    def to_json(self) -> dict:
        return {"kernel_cycles_per_token": self.kernel_cycles, "kernel_seconds_per_token": self.kernel_seconds,
                "weight_bytes_per_token": self.weight_bytes, "weight_source": self.weight_source,
                "tokens_per_call": self.tokens_per_call,
                "dram_gbps_core": self.dram_gbps_core, "dram_gbps_chip": self.dram_gbps_chip,
                "by_cores": [{"cores": n, "tokens_per_s": self.tokens_per_s(n),
                              "compute_tokens_per_s": self.compute_tokens_per_s(n),
                              "roofline_tokens_per_s": self.roofline_tokens_per_s(n),
                              "dram_gbps": self.dram_gbps(n), "bound": self.bound(n)}
                             for n in range(1, self.cores + 1)]}


def token_weight_bytes(spec, config, shapes: dict) -> tuple[int, str]:
    """(bytes one token reads, what they are) for kernel `spec` on model `config`.

    Parameters
    ----------
    spec : the kernel (`kernels.registry.KernelSpec`); its ``weight_format``.
    config : the model (`workbench.reference.ModelConfig`).
    shapes : (M, K) -> `ShapeTiming` of every projection shape (used when the format is not one
        of `workbench.formats`).
    """
    if spec.weight_format in FORMATS:
        fmt = get_format(spec.weight_format)
        per_layer = sum(int(fmt.nbytes(*config.projection_shape(p), **fmt.default_layout(*config.projection_shape(p))))
                        for p in PROJECTIONS)
        return per_layer * config.num_layers, f"packed weights, format {spec.weight_format}"
    per_layer = sum(shapes[config.projection_shape(p)].bytes_moved for p in PROJECTIONS)
    return per_layer * config.num_layers, f"bytes the Programs move (timing; format {spec.weight_format})"


def project_token(run, *, machine, weight_bytes: int, weight_source: str = "",
                  tokens_per_call: int = 1) -> TokenProjection:
    """Sum the per-projection kernel cycles of a whole-token `run` into a per-token projection
    on `machine` (its clock, per-core and chip DRAM bandwidth, cores).

    `weight_bytes` : bytes one call of every projection reads; with `tokens_per_call` N > 1 (a
    batched kernel) the cycles and bytes per token are those of a call divided by N.
    """
    if tokens_per_call < 1:
        raise ValueError(f"project_token: tokens_per_call={tokens_per_call} must be at least 1")
    cycles = sum(p.timing.cycles for p in run.projections) / tokens_per_call
    return TokenProjection(kernel_cycles=cycles, kernel_seconds=cycles / (machine.clock_ghz * 1e9),
                           weight_bytes=-(-weight_bytes // tokens_per_call), dram_gbps_core=machine.dram_gbps_core,
                           dram_gbps_chip=machine.dram_gbps_chip, cores=machine.cores,
                           weight_source=weight_source + (f", read once per {tokens_per_call} tokens"
                                                          if tokens_per_call > 1 else ""),
                           tokens_per_call=tokens_per_call)

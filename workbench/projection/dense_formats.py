"""Dense weight formats of the embedding, the lm_head and the FP16 baseline: bytes and work per weight.

Projection layer (`workbench.projection`), beside `ops`: the embedding row, the lm_head and, with
``weight_format``, the projections of a dense (non-ternary) model are stored in one of the ggml
formats real checkpoints ship (f32, f16, bf16, q8_0, q4_0, q4_K, q6_K). Each `DenseFormat` gives the
bytes of a row of K weights (ggml's block layouts) and the work of one dot product per weight by
work kind (`WORK_KINDS`: dequantize, then multiply-accumulate), which `ops` multiplies by the shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

from workbench.errors import UnknownNameError

__all__ = ["WORK_KINDS", "FALLBACKS", "expand_work", "DenseFormat", "DENSE_FORMATS", "get_dense_format"]

#: Kinds of arithmetic work an op does, each counted in operations (a multiply-accumulate is one):
#: int8_mac   an int8 x int8 multiply-accumulate into a wider integer (dot-product instructions)
#: int8_op    an integer lane operation on 8-bit lanes (and, shift, add, subtract: unpacking)
#: fp32_fma   an fp32 multiply-add (dot products and weighted sums in float)
#: fp32_op    an fp32 add, multiply, max, compare or int<->float conversion
#: fp16_convert  a 16-bit float (f16 or bf16) to fp32 widening
#: fp16_fma   a multiply-add of f16 operands (native f16 arithmetic where the ISA has it)
WORK_KINDS = ("int8_mac", "int8_op", "fp32_fma", "fp32_op", "fp16_convert", "fp16_fma")

#: What a kind costs on a machine whose ISA has no instruction for it (`IsaPlugin.roofline_classes`):
#: an f16 multiply-add is a widening to fp32 and an fp32 multiply-add (ggml's path without native f16
#: vector arithmetic: F16C + FMA on x86; ggml-cpu simd-mappings.h uses vfmaq_f16 where it exists).
FALLBACKS = {"fp16_fma": {"fp16_convert": 1.0, "fp32_fma": 1.0}}

_GGML = ("ggml-org/ggml src/ggml-common.h block_{b} (static_assert sizeof == {n}); the same "
         "(block, bytes) in gguf-py gguf/constants.py GGML_QUANT_SIZES (research/kernels.md §3.1)")
_UNPACK = ("assumption: lane operations counted from the unpacking the block layout needs before an int8 "
           "dot product with q8 activations ({what}); the decode lm_head is DRAM-bound on every machine "
           "here, so these counts matter only when the op is compute-bound (prefill)")


@dataclass(frozen=True)
class DenseFormat:
    """One dense weight format.

    Attributes
    ----------
    name : ggml's lower-case type name ("q4_K").
    block : weights per block; block_bytes : bytes of one block.
    work : work kind -> operations per weight of one dot product (dequantize + multiply-accumulate).
    q8_activations : the dot product runs on activations quantized to 8-bit blocks (llama.cpp's
        vec_dot_type q8_0 / q8_K), which costs a quantization of the activation row per call.
    source : provenance of the layout and the work counts.
    """

    name: str
    block: int
    block_bytes: int
    work: Mapping[str, float]
    q8_activations: bool
    source: str
    work_source: str = field(default="", compare=False)

    @property
    def bits_per_weight(self) -> float:
        return 8.0 * self.block_bytes / self.block

    def row_bytes(self, k: int) -> int:
        """Bytes of one row of `k` weights (whole blocks)."""
        return math.ceil(k / self.block) * self.block_bytes

    def matrix_bytes(self, m: int, k: int) -> int:
        """Bytes of an m x k matrix stored row by row."""
        return m * self.row_bytes(k)

    def dot_work(self, m: int, k: int) -> dict[str, float]:
        """Work of m dot products of length k (one activation row against the m x k matrix),
        including the quantization of the activation row to q8 blocks when the format needs it."""
        out = {kind: per * m * k for kind, per in self.work.items()}
        if self.q8_activations:
            out["fp32_op"] = out.get("fp32_op", 0.0) + 3.0 * k      # |x| max, scale, round per element
        return out

    def to_json(self) -> dict:
        return {"name": self.name, "block": self.block, "block_bytes": self.block_bytes,
                "bits_per_weight": self.bits_per_weight, "work_per_weight": dict(self.work),
                "q8_activations": self.q8_activations, "source": self.source, "work_source": self.work_source}


DENSE_FORMATS: dict[str, DenseFormat] = {f.name: f for f in (
    DenseFormat("f32", 1, 4, {"fp32_fma": 1.0}, False, "IEEE binary32: 4 bytes per weight",
                "one fp32 multiply-add per weight"),
    DenseFormat("f16", 1, 2, {"fp16_fma": 1.0}, False, "IEEE binary16: 2 bytes per weight",
                "one f16 multiply-add per weight (ggml_vec_dot_f16: native f16 FMA where the ISA has it, "
                "else widen + fp32 FMA: FALLBACKS)"),
    DenseFormat("bf16", 1, 2, {"fp16_convert": 1.0, "fp32_fma": 1.0}, False, "bfloat16: 2 bytes per weight",
                "widen to fp32 (a 16-bit shift) then one fp32 multiply-add"),
    DenseFormat("q8_0", 32, 34, {"int8_mac": 1.0, "fp32_fma": 1.0 / 32}, True, _GGML.format(b="q8_0", n=34),
                "one int8 MAC per weight and one fp32 multiply-add per block of 32 (d_w x d_x x sum)"),
    DenseFormat("q4_0", 32, 18, {"int8_op": 2.0, "int8_mac": 1.0, "fp32_fma": 1.0 / 32}, True,
                _GGML.format(b="q4_0", n=18),
                _UNPACK.format(what="and + shift per nibble byte and the subtract of 8: 2 lane ops per weight")),
    DenseFormat("q4_K", 256, 144, {"int8_op": 1.25, "int8_mac": 1.0, "fp32_fma": 2.0 / 32}, True,
                _GGML.format(b="q4_K", n=144),
                _UNPACK.format(what="and + shift per nibble byte (1 per weight) plus the 6-bit scale and min "
                                    "unpack per 32; two fp32 multiply-adds (scale, min) per sub-block of 32")),
    DenseFormat("q6_K", 256, 210, {"int8_op": 4.0, "int8_mac": 1.0, "fp32_fma": 1.0 / 16}, True,
                _GGML.format(b="q6_K", n=210),
                _UNPACK.format(what="low nibble and/shift, high 2 bits shift/and, or, subtract 32: 4 lane ops "
                                    "per weight; one scale multiply per sub-block of 16")),
)}


def expand_work(work: Mapping[str, float], available) -> dict[str, float]:
    """`work` with every kind not in `available` (a machine's rate table) replaced by its
    `FALLBACKS` decomposition (kinds without one are kept: the caller refuses them)."""
    out: dict[str, float] = {}
    for kind, amount in work.items():
        parts = FALLBACKS.get(kind) if kind not in available else None
        for k, per in (parts or {kind: 1.0}).items():
            out[k] = out.get(k, 0.0) + amount * per
    return out


def get_dense_format(name: str) -> DenseFormat:
    """The dense format `name`; UnknownNameError listing the valid ones."""
    try:
        return DENSE_FORMATS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown dense weight format {name!r}; valid: {', '.join(DENSE_FORMATS)}") from None

"""Reference NPU programs: the builder helper and a double-buffered tiled matrix-vector product.

Engine layer of the NPU ISA. `NpuBuilder` wraps `ProgramBuilder` with the command set in array
terms (banks, words) and declares the on-chip buffers; `matvec_program` is the straightforward
tiled GEMV (activations resident in the activation SRAM, weight chunks streamed through the
weight banks with prefetch, one accumulator bank per row tile, write-back overlapped) that the
unit tests, the cocotb testbench and the NPU kernels start from. `matvec_inputs` packs the DRAM
images and `matvec_output` reads y back.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Buffer, Mem, Program
from isa_models.core.builder import ProgramBuilder
from isa_models.npu.commands import sram_buffers
from isa_models.npu.encoding import pack_matrix_tiles, tile_words
from isa_models.npu.isa import npu_isa
from isa_models.npu.params import NpuParams

__all__ = ["NpuBuilder", "matvec_program", "matvec_inputs", "matvec_output", "matvec_chunks"]


class NpuBuilder:
    """Writes NPU Programs in array terms; `.b` is the underlying `ProgramBuilder`."""

    def __init__(self, params: NpuParams, name: str, **meta):
        self.params = params
        self.b = ProgramBuilder(npu_isa(params), name, **meta)
        sizes = sram_buffers(params)
        self.wsram = self.b.buffer("wsram", sizes["wsram"], role="scratch")
        self.asram = self.b.buffer("asram", sizes["asram"], role="scratch")
        self.acc = self.b.buffer("acc", sizes["acc"], role="scratch")

    def dram(self, name: str, size: int, *, role: str = "input") -> Buffer:
        return self.b.buffer(name, size, role=role)

    def load_weights(self, word: int, src: Mem, words: int) -> None:
        """DMA `words` weight words from DRAM `src` to weight-SRAM word address `word`."""
        self.b.emit(f"dmaw_n{words}", self.wsram[word * self.params.w_word_bytes], src)

    def load_acts(self, word: int, src: Mem, words: int) -> None:
        """DMA `words` activation words from DRAM `src` to activation-SRAM word address `word`."""
        self.b.emit(f"dmaa_n{words}", self.asram[word * self.params.a_word_bytes], src)

    def mac(self, acc_bank: int, wword: int, aword: int, words: int, *, clear: bool) -> None:
        """acc[bank] (= if clear, else +=) sum over `words` of weight word . activation word."""
        p = self.params
        dst = self.acc[acc_bank * p.acc_bank_bytes]
        w, a = self.wsram[wword * p.w_word_bytes], self.asram[aword * p.a_word_bytes]
        if clear:
            self.b.emit(f"macc_n{words}", dst, w, a)
        else:
            self.b.emit(f"maca_n{words}", dst, w, a, dst)

    def write_back(self, acc_bank: int, dst: Mem) -> None:
        self.b.emit("wb", dst, self.acc[acc_bank * self.params.acc_bank_bytes])

    def sync(self) -> None:
        self.b.emit("sync")

    def build(self) -> Program:
        return self.b.build()


def matvec_chunks(params: NpuParams, k_words: int) -> list[tuple[int, int]]:
    """(first word, words) of each MAC chunk: within one weight bank and one activation bank."""
    chunks, start = [], 0
    while start < k_words:
        a_end = (start // params.a_bank_words + 1) * params.a_bank_words
        n = min(params.w_bank_words, a_end - start, k_words - start)
        chunks.append((start, n))
        start += n
    return chunks


def matvec_program(params: NpuParams, m: int, k: int, *, name: str = "npu_matvec",
                   prefetch: int | None = None) -> Program:
    """y[M] int32 = W[M, K] (ternary, packed tiles in DRAM ``w``) . x[K] (int8, DRAM ``x``).

    Weight chunks rotate through the weight banks; the DMA runs `prefetch` chunks ahead of the
    MACs (default ``w_banks - 1``: double buffering); row tile i accumulates in bank
    ``i % acc_banks`` and is written back to ``y[i*R*4]``.
    """
    if m < 1 or k < 1:
        raise ValueError(f"matvec_program: M={m} and K={k} must be positive")
    p = params
    mt, kw = tile_words(m, k, p.rows, p.cols)
    if kw > p.a_banks * p.a_bank_words:
        raise ValueError(f"matvec_program: K={k} needs {kw} activation words > activation SRAM of "
                         f"{p.a_banks * p.a_bank_words} words on {p.name}")
    if k > p.max_exact_k:
        raise ValueError(f"matvec_program: K={k} can overflow the {p.acc_bits}-bit accumulators of "
                         f"{p.name} (exact up to K={p.max_exact_k})")
    prefetch = p.w_banks - 1 if prefetch is None else prefetch
    if not 0 <= prefetch < p.w_banks:
        raise ValueError(f"matvec_program: prefetch {prefetch} must be in 0..{p.w_banks - 1}")
    nb = NpuBuilder(p, name, m=m, k=k, macs=m * k, kind="matvec")
    w = nb.dram("w", mt * kw * p.w_word_bytes)
    x = nb.dram("x", kw * p.a_word_bytes)
    y = nb.dram("y", mt * p.acc_bank_bytes, role="output")
    for start, n in matvec_chunks(p, kw):                       # activations stay resident
        nb.load_acts(start, x[start * p.a_word_bytes], n)
    chunks = [(i, start, n) for i in range(mt) for start, n in matvec_chunks(p, kw)]
    bank_word = [(g % p.w_banks) * p.w_bank_words for g in range(len(chunks))]

    def load(g):
        i, start, n = chunks[g]
        nb.load_weights(bank_word[g], w[(i * kw + start) * p.w_word_bytes], n)

    for g in range(min(prefetch, len(chunks))):
        load(g)
    for g, (i, start, n) in enumerate(chunks):
        if g + prefetch < len(chunks) and prefetch == 0:
            load(g)
        nb.mac(i % p.acc_banks, bank_word[g], start, n, clear=(start == 0))
        if prefetch and g + prefetch < len(chunks):
            load(g + prefetch)
        if start + n == kw:
            nb.write_back(i % p.acc_banks, y[i * p.acc_bank_bytes])
    return nb.build()


def matvec_inputs(params: NpuParams, codes: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """DRAM images (uint8) for `matvec_program`: packed weight tiles and zero-padded activations."""
    codes = np.asarray(codes)
    x = np.asarray(x)
    if x.dtype != np.int8 or x.ndim != 1 or x.shape[0] != codes.shape[1]:
        raise ValueError(f"matvec_inputs: x must be int8 [{codes.shape[1]}], got {x.dtype} {x.shape}")
    _, kw = tile_words(*codes.shape, params.rows, params.cols)
    xp = np.zeros(kw * params.cols, dtype=np.int8)
    xp[:x.shape[0]] = x
    return {"w": pack_matrix_tiles(codes, params).reshape(-1), "x": xp.view(np.uint8)}


def matvec_output(state: dict[str, np.ndarray], m: int) -> np.ndarray:
    """y int32 [M] from the DRAM buffer ``y`` after a run."""
    return state["y"].view(np.int32)[:m].copy()

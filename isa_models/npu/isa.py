"""The NPU command set as an ISA on the shared Program IR (semantics only, no timing).

Engine layer of the NPU ISA. `npu_isa(params)` returns an `NpuISA` whose instruction forms are
the array's commands; a form's memory widths depend on its length, so forms are defined on
first use (``dmaw_n8`` = DMA 8 weight words in). SRAMs and accumulators are Program scratch
buffers with reserved names (``wsram``, ``asram``, ``acc``); DRAM is every other buffer. Each
command is one small pure function over (P, nbytes) uint8 arrays (isa_models.core.isa value
convention); `isa_models.npu.commands` lowers a Program to the concrete command stream the RTL runs.
"""

from __future__ import annotations

import re

import numpy as np

from isa_models.core.isa import ISA, InstrDef, mem
from isa_models.npu.encoding import unpack_words
from isa_models.npu.params import NpuParams

__all__ = ["NpuISA", "npu_isa", "SRAM_BUFFERS", "FORM_PATTERN", "mac_word_sums", "wrap_acc"]

#: Reserved Program buffer names of the on-chip memories (scratch role).
SRAM_BUFFERS = ("wsram", "asram", "acc")

FORM_PATTERN = re.compile(r"^(dmaw|dmaa|macc|maca)_n([1-9][0-9]*)$")

_UNITS = {"dmaw": "dma", "dmaa": "dma", "macc": "mac", "maca": "mac", "wb": "wb", "sync": "sync"}


def wrap_acc(values: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of int64 values to `bits` (what an acc_bits-wide register holds)."""
    v = np.asarray(values, dtype=np.int64)
    half = np.int64(1) << (bits - 1)
    return ((v + half) & ((half << 1) - 1)) - half


def mac_word_sums(w_bytes: np.ndarray, a_bytes: np.ndarray, params: NpuParams, *, words: int) -> np.ndarray:
    """Per-row dot products of `words` weight words with `words` activation words.

    w_bytes uint8 (P, words * w_word_bytes), a_bytes uint8 (P, words * C) -> int64 (P, R): the
    exact sum over all words of sum_c trit[r, c] * int8 activation[c].
    """
    p = w_bytes.shape[0]
    r, c = params.rows, params.cols
    w = w_bytes.reshape(p, words, params.w_word_bytes)
    trits = unpack_words(w, encoding=params.weight_encoding, trits=r * c, where="npu mac")
    trits = trits.reshape(p, words * 1, r, c).astype(np.int64)
    acts = a_bytes.view(np.int8).reshape(p, words, c).astype(np.int64)
    return np.einsum("pnrc,pnc->pr", trits, acts)


class NpuISA(ISA):
    """The command set of one array; length-dependent forms are defined when first named."""

    def __init__(self, params: NpuParams):
        super().__init__("npu", register_files={})
        self.params = params
        self._define_fixed()

    # lazily defined forms ----------------------------------------------------------------
    def _limit(self, mnemonic: str) -> int:
        p = self.params
        if mnemonic == "dmaw":
            return p.w_bank_words
        if mnemonic == "dmaa":
            return p.a_bank_words
        return min(p.w_bank_words, p.a_bank_words)

    def _maybe_define(self, name: str) -> bool:
        if name in self.instructions:
            return True
        m = FORM_PATTERN.match(name)
        if not m:
            return False
        mnemonic, n = m.group(1), int(m.group(2))
        if n > self._limit(mnemonic):
            return False
        self.define(self._form(mnemonic, n))
        return True

    def __contains__(self, name: str) -> bool:
        return self._maybe_define(name)

    def __getitem__(self, name: str) -> InstrDef:
        if not self._maybe_define(name):
            m = FORM_PATTERN.match(name)
            if m:
                raise KeyError(f"ISA npu ({self.params.name}): {name!r} exceeds the bank size "
                               f"({self._limit(m.group(1))} words)")
            raise KeyError(f"ISA npu has no instruction {name!r}; forms: dmaw_n<words>, dmaa_n<words>, "
                           f"macc_n<words>, maca_n<words>, wb, sync")
        return self.instructions[name]

    # definitions -------------------------------------------------------------------------
    def _define_fixed(self) -> None:
        p = self.params
        acc_w = p.acc_bank_bytes
        self.define(InstrDef(name="wb", mnemonic="wb", outs=(mem(acc_w),), ins=(mem(acc_w),),
                             sched_class="npu.wb", semantics=_copy, asm="wb {o0}, {i0}",
                             attrs={"unit": "wb", "words": 1}))
        self.define(InstrDef(name="sync", mnemonic="sync", outs=(), ins=(), sched_class="npu.sync",
                             semantics=_sync, asm="sync", attrs={"unit": "sync", "words": 0}))

    def _form(self, mnemonic: str, n: int) -> InstrDef:
        p = self.params
        wbytes, abytes, acc_w = n * p.w_word_bytes, n * p.a_word_bytes, p.acc_bank_bytes
        name = f"{mnemonic}_n{n}"
        attrs = {"unit": _UNITS[mnemonic], "words": n}
        if mnemonic == "dmaw":
            return InstrDef(name=name, mnemonic=mnemonic, outs=(mem(wbytes),), ins=(mem(wbytes),),
                            sched_class="npu.dma", semantics=_copy, asm=f"dmaw.{n} {{o0}}, {{i0}}",
                            attrs=attrs)
        if mnemonic == "dmaa":
            return InstrDef(name=name, mnemonic=mnemonic, outs=(mem(abytes),), ins=(mem(abytes),),
                            sched_class="npu.dma", semantics=_copy, asm=f"dmaa.{n} {{o0}}, {{i0}}",
                            attrs=attrs)
        if mnemonic == "macc":
            def mac_clear(w, a, _n=n):
                return _acc_bytes(wrap_acc(mac_word_sums(w, a, p, words=_n), p.acc_bits))
            return InstrDef(name=name, mnemonic=mnemonic, outs=(mem(acc_w),),
                            ins=(mem(wbytes), mem(abytes)), sched_class="npu.mac", semantics=mac_clear,
                            asm=f"macc.{n} {{o0}}, {{i0}}, {{i1}}", attrs=attrs)

        def mac_accumulate(w, a, acc, _n=n):
            old = acc.view(np.int32).astype(np.int64)
            return _acc_bytes(wrap_acc(old + mac_word_sums(w, a, p, words=_n), p.acc_bits))
        return InstrDef(name=name, mnemonic=mnemonic, outs=(mem(acc_w),),
                        ins=(mem(wbytes), mem(abytes), mem(acc_w)), sched_class="npu.mac",
                        semantics=mac_accumulate, asm=f"maca.{n} {{o0}}, {{i0}}, {{i1}}", attrs=attrs)


def _copy(src: np.ndarray) -> np.ndarray:
    """DMA / write-back: bytes move unchanged."""
    return np.array(src, dtype=np.uint8, copy=True)


def _sync() -> tuple:
    """SYNC orders commands; it has no data effect."""
    return ()


def _acc_bytes(values: np.ndarray) -> np.ndarray:
    """int64 (P, R) accumulator values (already wrapped) -> uint8 (P, R*4) int32 little endian."""
    v = np.ascontiguousarray(values.astype(np.int32))
    return v.view(np.uint8).reshape(v.shape[0], -1)


def npu_isa(params: NpuParams) -> NpuISA:
    """The command-set ISA for one parameter record."""
    return NpuISA(params)

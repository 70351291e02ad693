"""The MAC array datapath: trit decoder -> R x C ternary PEs -> R adder trees.

RTL layer (docs/npu.md §3). Combinational; `rtl.top.NpuTop` registers its outputs (the adder-tree
pipeline stage). One weight word (R*C trits) and one activation word (C int8) in, the R row sums
sum_c trit[r, c] * x[c] out, each ``9 + ceil(log2 C)`` bits.
"""

from __future__ import annotations

from amaranth import Module, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from rtl.adder_tree import AdderTree
from rtl.decoder import TritDecoder
from rtl.pe import TernaryPE

__all__ = ["MacArray"]


class MacArray(wiring.Component):
    """Members: w_word In(unsigned(8 * w_word_bytes)), acts In(ArrayLayout(signed(8), C)),
    sums Out(ArrayLayout(signed(sum_width), R))."""

    def __init__(self, params):
        self.params = params
        self.sum_width = AdderTree.output_width(n=params.cols, width=9)
        super().__init__({"w_word": In(unsigned(8 * params.w_word_bytes)),
                          "acts": In(data.ArrayLayout(signed(8), params.cols)),
                          "sums": Out(data.ArrayLayout(signed(self.sum_width), params.rows))})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.decoder = dec = TritDecoder(encoding=p.weight_encoding, trits=p.rows * p.cols,
                                                 word_bytes=p.w_word_bytes)
        m.d.comb += dec.word.eq(self.w_word)
        for r in range(p.rows):
            tree = AdderTree(n=p.cols, width=9)
            m.submodules[f"tree{r}"] = tree
            for c in range(p.cols):
                pe = TernaryPE()
                m.submodules[f"pe{r}_{c}"] = pe
                m.d.comb += [pe.x.eq(self.acts[c]), pe.w.eq(dec.trits[r * p.cols + c]),
                             tree.terms[c].eq(pe.term)]
            m.d.comb += self.sums[r].eq(tree.total)
        return m

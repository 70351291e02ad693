"""Balanced adder tree: n signed terms -> their exact sum.

RTL layer, one per array row (docs/npu.md §3). Combinational; the output is
``width + ceil(log2 n)`` bits, so no term sum can overflow (9 + log2 C for ternary terms).
"""

from __future__ import annotations

import math

from amaranth import Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AdderTree"]


class AdderTree(wiring.Component):
    """Members: terms In(ArrayLayout(signed(width), n)), total Out(signed(width + ceil(log2 n)))."""

    def __init__(self, *, n: int, width: int):
        if n < 1 or width < 1:
            raise ValueError(f"AdderTree: n={n} and width={width} must be positive")
        self.n, self.width = n, width
        self.out_width = self.output_width(n=n, width=width)
        super().__init__({"terms": In(data.ArrayLayout(signed(width), n)),
                          "total": Out(signed(self.out_width))})

    @staticmethod
    def output_width(*, n: int, width: int) -> int:
        """Bits of the exact sum of n terms of `width` bits."""
        return width + math.ceil(math.log2(n)) if n > 1 else width

    def elaborate(self, platform):
        m = Module()
        level = [self.terms[i] for i in range(self.n)]
        while len(level) > 1:
            nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        m.d.comb += self.total.eq(level[0])
        return m

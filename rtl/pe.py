"""Ternary processing element: term = +x, 0 or -x for w = +1, 0, -1.

RTL layer, inside each row of the MAC array (docs/npu.md §3). Combinational. The term is 9 bits
wide because -(-128) = +128; a zero weight gates the adder input to 0 (the power lever of
BitNet's ~1/3 zero weights, research/rtl.md §1.4).
"""

from __future__ import annotations

from amaranth import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["TernaryPE"]


class TernaryPE(wiring.Component):
    """Members: x In(signed(8)), w In(signed(2)) in {-1, 0, +1}, term Out(signed(9))."""

    def __init__(self):
        super().__init__({"x": In(signed(8)), "w": In(signed(2)), "term": Out(signed(9))})

    def elaborate(self, platform):
        m = Module()
        with m.Switch(self.w):
            with m.Case(1):
                m.d.comb += self.term.eq(self.x)
            with m.Case(-1):
                m.d.comb += self.term.eq(-self.x)
            with m.Default():
                m.d.comb += self.term.eq(0)
        return m

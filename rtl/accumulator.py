"""Accumulator banks: R signed accumulators per bank, acc_bits wide, two's complement wrap.

RTL layer, last stage of the MAC pipeline and source of write-back (docs/npu.md §3). On `en`,
bank `bank` becomes ``(clear ? 0 : bank) + sums`` (row-wise) at the clock edge; `read` shows bank
`read_bank` combinationally (write-back reads it while a MAC may update another bank).
"""

from __future__ import annotations

from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AccumulatorBanks"]


class AccumulatorBanks(wiring.Component):
    """Members: en, clear, bank, sums In(ArrayLayout(signed(sum_width), rows)), read_bank,
    read Out(ArrayLayout(signed(acc_bits), rows))."""

    def __init__(self, *, rows: int, acc_bits: int, banks: int, sum_width: int):
        if sum_width > acc_bits:
            raise ValueError(f"AccumulatorBanks: sums of {sum_width} bits exceed acc_bits={acc_bits}")
        self.rows, self.acc_bits, self.banks = rows, acc_bits, banks
        sel = unsigned(max(1, (banks - 1).bit_length()))
        super().__init__({"en": In(1), "clear": In(1), "bank": In(sel),
                          "sums": In(data.ArrayLayout(signed(sum_width), rows)),
                          "read_bank": In(sel),
                          "read": Out(data.ArrayLayout(signed(acc_bits), rows))})

    def elaborate(self, platform):
        m = Module()
        layout = data.ArrayLayout(signed(self.acc_bits), self.rows)
        self.bank_regs = regs = [Signal(layout, name=f"acc{b}") for b in range(self.banks)]
        for b, reg in enumerate(regs):
            with m.If(self.en & (self.bank == b)):
                for r in range(self.rows):
                    with m.If(self.clear):
                        m.d.sync += reg[r].eq(self.sums[r])
                    with m.Else():
                        m.d.sync += reg[r].eq(reg[r] + self.sums[r])
        with m.Switch(self.read_bank):
            for b, reg in enumerate(regs):
                with m.Case(b):
                    m.d.comb += self.read.eq(reg)
        return m

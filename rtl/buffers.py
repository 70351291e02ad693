"""On-chip word buffers (weight SRAM, activation SRAM): amaranth.lib.memory, 1 write + 1 read port.

RTL layer (docs/npu.md §3). Banks are the high address bits of one memory (bank_words is a
power of two); the DMA writes a whole word when its last beat arrives, the MAC reads one word
per cycle through a synchronous read port (data one cycle after the address).
"""

from __future__ import annotations

from amaranth import Module, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["WordBuffer"]


class WordBuffer(wiring.Component):
    """Members: w_en, w_addr, w_data (write at the clock edge); r_addr -> r_data next cycle."""

    def __init__(self, *, word_bits: int, depth: int):
        self.word_bits, self.depth = word_bits, depth
        addr = unsigned(max(1, (depth - 1).bit_length()))
        super().__init__({"w_en": In(1), "w_addr": In(addr), "w_data": In(unsigned(word_bits)),
                          "r_addr": In(addr), "r_data": Out(unsigned(word_bits))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem = mem = memory.Memory(shape=unsigned(self.word_bits), depth=self.depth, init=[])
        wp = mem.write_port()
        rp = mem.read_port(domain="sync")
        m.d.comb += [wp.en.eq(self.w_en), wp.addr.eq(self.w_addr), wp.data.eq(self.w_data),
                     rp.addr.eq(self.r_addr), self.r_data.eq(rp.data)]
        return m

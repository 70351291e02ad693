"""Trit decoder: one packed weight word -> R*C signed 2-bit trits ("2bit" or "base3").

RTL layer, first stage of the MAC array datapath (docs/npu.md §3). Combinational. Implements
the tables of `isa_models.npu.encoding`: "2bit" code c -> c-1 per 2-bit field; "base3" byte b
-> digits (b // 3**i) % 3 - 1 for i = 0..4. Invalid codes (2-bit 3, base-3 byte >= 243), which
the model rejects and the packers never emit, decode to 0 here.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["TritDecoder"]


def _trit(digit):
    """Digit 0 / 1 / 2 -> trit -1 / 0 / +1 (any other digit -> 0)."""
    return Mux(digit == 0, -1, Mux(digit == 2, 1, 0))


class TritDecoder(wiring.Component):
    """Decode a packed weight word.

    Members
    -------
    word : In(unsigned(8 * word_bytes)) -- byte j at bits [8j, 8j+8).
    trits : Out(ArrayLayout(signed(2), trits)) -- trit j = row * C + col.
    """

    def __init__(self, *, encoding: str, trits: int, word_bytes: int):
        if encoding not in ("2bit", "base3"):
            raise ValueError(f"TritDecoder: unknown encoding {encoding!r}; valid: 2bit, base3")
        group = 4 if encoding == "2bit" else 5
        if -(-trits // group) > word_bytes:
            raise ValueError(f"TritDecoder: {trits} trits do not fit {word_bytes} bytes of {encoding}")
        self.encoding, self.n_trits, self.word_bytes = encoding, trits, word_bytes
        super().__init__({"word": In(unsigned(8 * word_bytes)),
                          "trits": Out(data.ArrayLayout(signed(2), trits))})

    def elaborate(self, platform):
        m = Module()
        if self.encoding == "2bit":
            for j in range(self.n_trits):
                code = self.word[2 * j:2 * j + 2]
                m.d.comb += self.trits[j].eq(_trit(code))
            return m
        for byte in range(-(-self.n_trits // 5)):
            b = Signal(unsigned(8), name=f"b{byte}")
            m.d.comb += b.eq(self.word[8 * byte:8 * byte + 8])
            for i in range(5):
                j = 5 * byte + i
                if j >= self.n_trits:
                    break
                digit = (b // (3 ** i)) % 3
                m.d.comb += self.trits[j].eq(Mux(b >= 243, 0, _trit(digit)))
        return m

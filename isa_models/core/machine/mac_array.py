"""The MAC-array engine section, ``[mac_array]``: array shape, encodings, SRAM banks, DMA bus.

Engine layer, one of the engine-section parsers `schema.py` dispatches to by table name. A MAC
array (docs/npu.md) is R rows x C ternary PEs fed one C-wide int8 activation word per cycle, with
banked weight and activation SRAMs, accumulator banks and a DMA bus to DRAM. `MacArray` holds the
values; `mac_array_problems` is the one set of consistency rules (word sizes against the bus,
power-of-two banks, accumulator width), applied when a file loads and again by
`isa_models.npu.NpuParams`, which the model, the RTL and the testbench are sized from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from isa_models.core.machine.tables import _Table

__all__ = ["MacArray", "parse_mac_array", "mac_array_problems", "weight_word_bytes", "MAC_ARRAY_KEYS",
           "WEIGHT_ENCODINGS", "DATAFLOWS"]

#: weight encodings: trits per byte ("2bit": code t+1 in 2 bits; "base3": 5 trits per byte)
WEIGHT_ENCODINGS = {"2bit": 4, "base3": 5}

#: dataflows: "os_dot" = output-stationary dot-product rows with an adder tree (docs/npu.md §1)
DATAFLOWS = ("os_dot",)


@dataclass(frozen=True)
class MacArray:
    """The engine section of a MAC array (every key required; docs/npu.md §5 lists the machines).

    Attributes
    ----------
    rows, cols : R accumulator rows x C ternary PEs per row.
    weight_encoding : "2bit" or "base3" (`WEIGHT_ENCODINGS`).
    act_bits : activation width (8).
    acc_bits : accumulator width in bits (two's complement wrap), written back as int32.
    w_banks, w_bank_words : weight SRAM banks x words per bank (one word = one R x C trit tile).
    a_banks, a_bank_words : activation SRAM banks x words per bank (one word = C int8).
    acc_banks : accumulator banks (R accumulators each).
    dma_bytes_per_cycle : DRAM bus width (one beat per cycle).
    dma_latency_cycles : cycles from a DMA request to its first data beat.
    dataflow : "os_dot" (`DATAFLOWS`).
    """

    rows: int
    cols: int
    weight_encoding: str
    act_bits: int
    acc_bits: int
    w_banks: int
    w_bank_words: int
    a_banks: int
    a_bank_words: int
    acc_banks: int
    dma_bytes_per_cycle: int
    dma_latency_cycles: int
    dataflow: str

    kind = "mac_array"

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def summary(self) -> dict:
        """The few figures a machine listing shows: array shape, weight encoding, DMA bus."""
        return {"array": f"{self.rows}x{self.cols}", "weights": self.weight_encoding,
                "dma": f"{self.dma_bytes_per_cycle} B/cycle"}


#: the keys of a [mac_array] section, in file order
MAC_ARRAY_KEYS = tuple(f.name for f in fields(MacArray))

_INT_KEYS = ("rows", "cols", "act_bits", "acc_bits", "w_banks", "w_bank_words", "a_banks", "a_bank_words",
             "acc_banks", "dma_bytes_per_cycle", "dma_latency_cycles")


def weight_word_bytes(rows: int, cols: int, encoding: str, bus: int) -> int:
    """Bytes of one weight word (R x C trits); base3 words are padded to the DMA bus width."""
    raw = -(-rows * cols // WEIGHT_ENCODINGS[encoding])
    return raw if encoding == "2bit" else -(-raw // bus) * bus


def mac_array_problems(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """(key, why) for every rule the MAC-array `values` (one per `MAC_ARRAY_KEYS`) break, first first.

    Rules: positive integer sizes; a known encoding and dataflow; int8 activations; an accumulator
    of 10..32 bits that holds one word's sum; weight words, activation words and accumulator banks
    a whole number of bus beats; power-of-two bank sizes (the bank is the high address bits).
    """
    out: list[tuple[str, str]] = []
    for key in _INT_KEYS:
        v = values[key]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            out.append((key, "must be a positive integer"))
    if values["weight_encoding"] not in WEIGHT_ENCODINGS:
        out.append(("weight_encoding", f"is not one of {', '.join(WEIGHT_ENCODINGS)}"))
    if values["dataflow"] not in DATAFLOWS:
        out.append(("dataflow", f"is not one of {', '.join(DATAFLOWS)}"))
    if out:
        return out
    if values["act_bits"] != 8:
        out.append(("act_bits", "is not supported (int8 activations only)"))
    acc, cols = values["acc_bits"], values["cols"]
    if not 10 <= acc <= 32:
        out.append(("acc_bits", "must be an integer in 10..32 (int32 write-back)"))
    elif acc < 9 + math.ceil(math.log2(cols)):
        out.append(("acc_bits", f"cannot hold one {cols}-lane word sum (needs {9 + math.ceil(math.log2(cols))} "
                                f"bits)"))
    bus, rows = values["dma_bytes_per_cycle"], values["rows"]
    for what, nbytes in (("weight word", weight_word_bytes(rows, cols, values["weight_encoding"], bus)),
                         ("activation word", cols), ("accumulator bank", rows * 4)):
        if nbytes % bus:
            out.append(("dma_bytes_per_cycle", f"does not divide the {what} of {nbytes} bytes "
                                               f"(a transfer is whole bus beats)"))
    for key in ("w_bank_words", "a_bank_words"):
        v = values[key]
        if v & (v - 1):
            out.append((key, "must be a power of two (bank = high address bits)"))
    return out


def parse_mac_array(path: Path, kind: str, tables: Mapping[str, object], sources: dict[str, str],
                    machine: str) -> MacArray:
    """Read the ``[mac_array]`` section (it owns no other top-level table)."""
    t = _Table(path, kind, tables[kind], sources)
    values = {}
    for key in MAC_ARRAY_KEYS:
        values[key] = t.get(key, str if key in ("weight_encoding", "dataflow") else int)
    t.finish()
    problems = mac_array_problems(values)
    if problems:
        key, why = problems[0]
        t.fail(key, f"= {values[key]!r} {why}")
    return MacArray(**values)

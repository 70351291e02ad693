"""NPU parameter record: one frozen dataclass that sizes the model, the RTL and the testbench.

Engine layer of the NPU ISA (`isa_models.npu`). `NpuParams.from_machine` builds it from a machine
loaded by the common loader (`isa_models.core.machine.load_machine(name, isa="npu")`): the
``[mac_array]`` section of `isa_models/machines/npu/<name>.toml` and the clock of its ``[machine]``
table, with their sources. The same record elaborates the Amaranth RTL (`rtl.top.NpuTop(params)`),
drives the cycle model (`isa_models.npu.timing`) and encodes the command words (`command_fields`),
so model and hardware cannot drift apart (Gemmini's ``gemmini_params.h`` pattern, research/rtl.md §2.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from isa_models.core.machine import MACHINES_DIR, MachineError, load_machine, machine_names
from isa_models.core.machine.mac_array import MAC_ARRAY_KEYS, MacArray, mac_array_problems, weight_word_bytes

__all__ = ["NpuParams", "load_npu_machine", "npu_machine_names", "MACHINE_DIR", "OPCODES",
           "MAC_PIPELINE_DEPTH", "MAX_BANKS"]

MACHINE_DIR = MACHINES_DIR / "npu"

#: Command opcodes (3-bit field ``op`` of a command word; docs/npu.md §2).
OPCODES = {"nop": 0, "dmaw": 1, "dmaa": 2, "macc": 3, "maca": 4, "wb": 5, "sync": 6}

#: MAC unit pipeline: address register, SRAM read, registered adder tree; the accumulator is
#: written at the end of the third stage. A MAC of n words keeps the unit busy n + 3 cycles.
MAC_PIPELINE_DEPTH = 3

#: Banks of one kind a command word can name (4-bit bank fields; docs/npu.md §2).
MAX_BANKS = 16


@dataclass(frozen=True)
class NpuParams(MacArray):
    """Parameters of one ternary MAC array (docs/npu.md §5 lists every machine's values).

    Attributes
    ----------
    name : machine name.
    rows, cols : R accumulator rows x C ternary PEs per row; one C-wide int8 activation word is
        broadcast to all rows each cycle (output-stationary dot-product rows, ``dataflow="os_dot"``).
    weight_encoding : "2bit" (code t+1 in 2 bits, 4 trits/byte) or "base3" (5 trits/byte,
        byte = sum((t_i+1) * 3**i)).
    act_bits : activation width; 8 (int8) is the only supported value.
    acc_bits : accumulator width in bits (two's complement wrap, like the RTL); written back
        sign-extended to int32.
    w_banks, w_bank_words : weight SRAM banks x words per bank (one word = one R x C trit tile).
    a_banks, a_bank_words : activation SRAM banks x words per bank (one word = C int8).
    acc_banks : accumulator banks (R accumulators each; 2 = write-back overlaps the next tile).
    dma_bytes_per_cycle : DRAM bus width (bytes per beat, one beat per cycle).
    dma_latency_cycles : cycles from the request handshake to the first data beat.
    clock_mhz : clock frequency (the machine's ``clock_ghz`` x 1000).
    dataflow : "os_dot".
    sources : key -> source / assumption text from the machine file.

    Raises
    ------
    MachineError : a value breaking a rule of the MAC-array section
        (`isa_models.core.machine.mac_array.mac_array_problems`) or of the command word
        (at most `MAX_BANKS` banks of a kind), naming the key.
    """

    # the array's own fields (rows, cols, weight_encoding, act_bits, acc_bits, banks, DMA bus,
    # dataflow) are the [mac_array] section's, inherited from `MacArray`; the machine adds these
    name: str
    clock_mhz: float
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        problems = self.problems({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            key, why = problems[0]
            raise MachineError(f"npu machine {self.name}: {key} = {getattr(self, key)!r} {why}")

    @staticmethod
    def problems(values: Mapping[str, object]) -> list[tuple[str, str]]:
        """(key, why) for each rule `values` break: the MAC-array section's rules, then this
        command set's (a positive clock, bank fields of 4 bits)."""
        out = mac_array_problems(values)
        if not out:
            for key in ("w_banks", "a_banks", "acc_banks"):
                if values[key] > MAX_BANKS:
                    out.append((key, f"exceeds {MAX_BANKS} (4-bit bank fields)"))
        clock = values["clock_mhz"]
        if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not clock > 0:
            out.append(("clock_mhz", "must be positive"))
        return out

    @classmethod
    def from_machine(cls, machine) -> "NpuParams":
        """The parameters of a loaded MAC-array machine (`load_machine(name, isa="npu")`).

        Raises
        ------
        MachineError : a machine of another engine, or a value this command set cannot encode
            (naming the file and the ``[mac_array]`` key).
        """
        if machine.engine != "mac_array":
            raise MachineError(f"machine {machine.name} ({machine.path}) is not a MAC array "
                               f"(engine {machine.engine}); NPU machines are in {MACHINE_DIR}")
        values = {key: getattr(machine.section, key) for key in MAC_ARRAY_KEYS}
        values["clock_mhz"] = round(machine.clock_ghz * 1000, 9)
        problems = cls.problems(values)
        if problems:
            key, why = problems[0]
            table, name = ("machine", "clock_ghz") if key == "clock_mhz" else ("mac_array", key)
            raise MachineError(f"{machine.path}: [{table}] key {name!r} = {values[key]!r} {why}")
        sources = {key: machine.source_of(f"mac_array.{key}") for key in MAC_ARRAY_KEYS}
        sources["clock_mhz"] = machine.source_of("machine.clock_ghz")
        return cls(name=machine.name, sources=sources, **values)

    # derived sizes ----------------------------------------------------------------------------
    @property
    def trits_per_word(self) -> int:
        return self.rows * self.cols

    @property
    def w_word_bytes(self) -> int:
        """Bytes of one weight word (R x C trits), padded to the DMA bus width for base3."""
        return weight_word_bytes(self.rows, self.cols, self.weight_encoding, self.dma_bytes_per_cycle)

    @property
    def a_word_bytes(self) -> int:
        return self.cols

    @property
    def acc_bank_bytes(self) -> int:
        """Bytes written back per accumulator bank: R int32."""
        return self.rows * 4

    @property
    def w_bank_bytes(self) -> int:
        return self.w_bank_words * self.w_word_bytes

    @property
    def a_bank_bytes(self) -> int:
        return self.a_bank_words * self.a_word_bytes

    @property
    def wsram_bytes(self) -> int:
        return self.w_banks * self.w_bank_bytes

    @property
    def asram_bytes(self) -> int:
        return self.a_banks * self.a_bank_bytes

    @property
    def acc_bytes(self) -> int:
        return self.acc_banks * self.acc_bank_bytes

    @property
    def max_exact_k(self) -> int:
        """Largest dot-product length whose worst case (128 * K) fits the accumulator."""
        return (2 ** (self.acc_bits - 1) - 1) // 128

    @property
    def bits_per_trit(self) -> float:
        return 8 * self.w_word_bytes / self.trits_per_word

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.rows * self.cols

    @property
    def dram_bytes_per_s(self) -> float:
        return self.dma_bytes_per_cycle * self.clock_mhz * 1e6

    # command word layout ------------------------------------------------------------------
    @property
    def len_bits(self) -> int:
        return max(self.w_bank_words, self.a_bank_words).bit_length()

    @property
    def w_addr_bits(self) -> int:
        return max(1, (self.w_banks * self.w_bank_words - 1).bit_length())

    @property
    def a_addr_bits(self) -> int:
        return max(1, (self.a_banks * self.a_bank_words - 1).bit_length())

    def command_fields(self) -> tuple[tuple[str, int], ...]:
        """(field, bits) of one command word, least significant field first (docs/npu.md §2).

        ``op`` opcode; ``len`` words; ``waddr`` weight-SRAM word address (DMA_W target, MAC
        weights); ``aaddr`` activation-SRAM word address (DMA_A target, MAC activations);
        ``acc`` accumulator bank (MAC target, WB source); ``dram`` DRAM byte address (DMA source,
        WB target).
        """
        sram_bits = max(self.w_addr_bits, self.a_addr_bits)
        return (("op", 3), ("len", self.len_bits), ("waddr", sram_bits), ("aaddr", sram_bits),
                ("acc", 4), ("dram", 32))

    @property
    def command_bits(self) -> int:
        return sum(w for _, w in self.command_fields())

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"}
        d.update(w_word_bytes=self.w_word_bytes, a_word_bytes=self.a_word_bytes,
                 wsram_bytes=self.wsram_bytes, asram_bytes=self.asram_bytes,
                 bits_per_trit=self.bits_per_trit, max_exact_k=self.max_exact_k,
                 dram_gb_per_s=self.dram_bytes_per_s / 1e9)
        return d


def npu_machine_names() -> list[str]:
    """Names of the machine files in ``isa_models/machines/npu``."""
    return machine_names("npu")


def load_npu_machine(name_or_path: str | Path) -> NpuParams:
    """`NpuParams` of an NPU machine, by name (``edge16``) or TOML path, through the common loader.

    Raises
    ------
    UnknownMachineError : an unknown name (the message lists the valid ones).
    MachineError : a malformed file or a value out of range, naming the file and the key.
    """
    return NpuParams.from_machine(load_machine(name_or_path, isa="npu"))

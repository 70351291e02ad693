"""NPU parameter record: one frozen dataclass that sizes the model, the RTL and the testbench.

Engine layer of the NPU ISA (`isa_models.npu`). `NpuParams` is loaded from a machine TOML in
`isa_models/machines/npu/<name>.toml` (every value a table ``{value = ..., source = "..."}``;
unknown or missing keys are errors naming file and key). The same record elaborates the Amaranth
RTL (`rtl.top.NpuTop(params)`), drives the cycle model (`isa_models.npu.timing`) and encodes the
command words (`command_fields`), so model and hardware cannot drift apart (Gemmini's
``gemmini_params.h`` pattern, research/rtl.md §2.2).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

__all__ = ["NpuParams", "NpuMachineError", "load_npu_machine", "npu_machine_names",
           "MACHINE_DIR", "OPCODES", "MAC_PIPELINE_DEPTH"]

MACHINE_DIR = Path(__file__).resolve().parent.parent / "machines" / "npu"

#: Command opcodes (3-bit field ``op`` of a command word; docs/npu.md §2).
OPCODES = {"nop": 0, "dmaw": 1, "dmaa": 2, "macc": 3, "maca": 4, "wb": 5, "sync": 6}

#: MAC unit pipeline: address register, SRAM read, registered adder tree; the accumulator is
#: written at the end of the third stage. A MAC of n words keeps the unit busy n + 3 cycles.
MAC_PIPELINE_DEPTH = 3


class NpuMachineError(ValueError):
    """A bad NPU machine description or parameter value (names file/key or parameter)."""


_ENCODINGS = ("2bit", "base3")
_DATAFLOWS = ("os_dot",)


@dataclass(frozen=True)
class NpuParams:
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
    clock_mhz : clock frequency.
    dataflow : "os_dot".
    sources : key -> source / assumption text from the machine file.
    """

    name: str
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
    clock_mhz: float
    dataflow: str
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        def bad(key, why):
            raise NpuMachineError(f"npu machine {self.name}: {key} = {getattr(self, key)!r} {why}")

        for key in ("rows", "cols", "w_banks", "w_bank_words", "a_banks", "a_bank_words", "acc_banks",
                    "dma_bytes_per_cycle", "dma_latency_cycles"):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(key, "must be a positive integer")
        if self.weight_encoding not in _ENCODINGS:
            bad("weight_encoding", f"is not one of {', '.join(_ENCODINGS)}")
        if self.dataflow not in _DATAFLOWS:
            bad("dataflow", f"is not one of {', '.join(_DATAFLOWS)}")
        if self.act_bits != 8:
            bad("act_bits", "is not supported (int8 activations only)")
        if not isinstance(self.acc_bits, int) or not 10 <= self.acc_bits <= 32:
            bad("acc_bits", "must be an integer in 10..32 (int32 write-back)")
        if self.acc_bits < 9 + math.ceil(math.log2(self.cols)):
            bad("acc_bits", f"cannot hold one {self.cols}-lane word sum (needs "
                            f"{9 + math.ceil(math.log2(self.cols))} bits)")
        if not self.clock_mhz > 0:
            bad("clock_mhz", "must be positive")
        bus = self.dma_bytes_per_cycle
        for key, nbytes in (("weight word", self.w_word_bytes), ("activation word", self.a_word_bytes),
                            ("accumulator bank", self.acc_bank_bytes)):
            if nbytes % bus:
                raise NpuMachineError(f"npu machine {self.name}: {key} of {nbytes} bytes is not a "
                                      f"multiple of dma_bytes_per_cycle = {bus}")
        for key in ("w_bank_words", "a_bank_words"):
            v = getattr(self, key)
            if v & (v - 1):
                bad(key, "must be a power of two (bank = high address bits)")
        for key in ("w_banks", "a_banks", "acc_banks"):
            if getattr(self, key) > 16:
                bad(key, "exceeds 16 (4-bit bank fields)")

    # derived sizes ----------------------------------------------------------------------------
    @property
    def trits_per_word(self) -> int:
        return self.rows * self.cols

    @property
    def w_word_bytes(self) -> int:
        """Bytes of one weight word (R x C trits), padded to the DMA bus width for base3."""
        if self.weight_encoding == "2bit":
            return -(-self.trits_per_word // 4)
        raw = -(-self.trits_per_word // 5)
        bus = self.dma_bytes_per_cycle
        return -(-raw // bus) * bus

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


_KEYS = tuple(f.name for f in fields(NpuParams) if f.name not in ("name", "sources"))


def npu_machine_names() -> list[str]:
    """Names of the machine files in ``isa_models/machines/npu``."""
    return sorted(p.stem for p in MACHINE_DIR.glob("*.toml"))


def load_npu_machine(name_or_path: str | Path) -> NpuParams:
    """Load an NPU machine by name (``edge16``) or TOML path.

    Every key of `NpuParams` (except name/sources) must appear exactly once, as a table
    ``key = {value = ..., source = "..."}``; a top-level ``description`` string is allowed.

    Raises
    ------
    NpuMachineError : unknown machine (lists valid names), unknown/missing key, missing source,
        or an invalid value; the message names the file and key.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = MACHINE_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise NpuMachineError(f"unknown npu machine {name_or_path!r}; valid: "
                                  f"{', '.join(npu_machine_names())}")
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NpuMachineError(f"{path}: cannot read npu machine: {exc}") from None
    values, sources = {}, {}
    for key, entry in raw.items():
        if key == "description":
            continue
        if key not in _KEYS:
            raise NpuMachineError(f"{path}: unknown key {key!r}")
        if not isinstance(entry, dict) or set(entry) != {"value", "source"}:
            raise NpuMachineError(f"{path}: key {key!r} must be a table {{value = ..., source = \"...\"}}")
        values[key] = entry["value"]
        sources[key] = str(entry["source"])
    for key in _KEYS:
        if key not in values:
            raise NpuMachineError(f"{path}: missing key {key!r}")
    values["clock_mhz"] = float(values["clock_mhz"])
    try:
        return NpuParams(name=path.stem, sources=sources, **values)
    except NpuMachineError as exc:
        raise NpuMachineError(f"{path}: {exc}") from None

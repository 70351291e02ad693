"""Zen 4 microbenchmarks: measured cycles next to the zen4 machine model, and the fitted FP issue rule.

Benchmark layer (DESIGN.md §5, research/isa.md §1.3). Each microkernel is an AVX2 `Program`
(isa_models.avx2) whose inner loop runs `chains` independent register chains through a fixed
sequence of instruction classes (L1-resident memory operands, enough chains that latency never
binds); it is compiled and run natively (kernels.codegen.NativeKernel, rdtsc, median of repeats)
and timed by the model (isa_models.core.timing.time_program on avx2/zen4). Cycles per inner
iteration come from the slope between two outer trip counts, so call overhead cancels.
A host probe of x86 (benchmarks/probes/x86/): the run writes zen4_calibration.json beside this
script (the data zen4.toml cites) and its section of docs/benchmarks.md.
Usage: ``python benchmarks/probes/x86/zen4_calibration.py [--repeats 31] [--only NAME]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if str(Path(__file__).resolve().parents[2]) not in sys.path:      # run as a script: _common is in benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from _common import ROOT, host_machine_or_refuse, publish, script_path  # noqa: E402

DATA = Path(__file__).resolve().with_name("zen4_calibration.json")
NAME = Path(__file__).name
SCRIPT = script_path(__file__)
#: clang keeps every chain in its own register; gcc 12 adds register copies and stack spills
#: around the loop-carried chains at 12 chains (checked with `asm_extras`).
COMPILER = "clang"

__all__ = ["Mix", "MIXES", "OPS", "CAP", "CAP_GRID", "build_mix", "measure_native", "model_cycles", "fp_uops",
           "asm_extras", "fit_cap", "run", "render", "main"]

# --------------------------------------------------------------------------------------------
# microkernels

#: op kind -> (sched class, emitter). An emitter gets (builder, chain register, constants,
#: memory operand or None) and rewrites the chain register in place (out=x).
OPS = {
    "vpshufb": ("avx2.vpshufb", lambda b, x, c, m: b.vpshufb_ymm(x, c[0], out=x)),
    "vpaddsb": ("avx2.vpaddsb", lambda b, x, c, m: b.vpaddsb_ymm(x, c[0], out=x)),
    "vpaddw": ("avx2.vpaddw", lambda b, x, c, m: b.vpaddw_ymm(x, c[0], out=x)),
    "vpaddb": ("avx2.vpaddb", lambda b, x, c, m: b.vpaddb_ymm(x, c[0], out=x)),
    "vpmaddubsw": ("avx2.vpmaddubsw", lambda b, x, c, m: b.vpmaddubsw_ymm(x, c[0], out=x)),
    "vpmaddwd": ("avx2.vpmaddwd", lambda b, x, c, m: b.vpmaddwd_ymm(x, c[0], out=x)),
    "vpsrlw": ("avx2.vpsrlw", lambda b, x, c, m: b.vpsrlw_ymm(x, 1, out=x)),
    "vpand": ("avx2.vpand", lambda b, x, c, m: b.vpand_ymm(x, c[0], out=x)),
    "vpxor": ("avx2.vpxor", lambda b, x, c, m: b.vpxor_ymm(x, c[0], out=x)),
    "vpmovsxbw": ("avx2.vpmovsxbw", lambda b, x, c, m: b.vpmovsxbw_ymm(x, out=x)),
    "vextracti128": ("avx2.vextracti128", lambda b, x, c, m: b.vextracti128_ymm(x, 1, out=x)),
    "vpunpcklbw": ("avx2.vpunpcklbw", lambda b, x, c, m: b.vpunpcklbw_ymm(x, c[0], out=x)),
    "vpsignb": ("avx2.vpsignb", lambda b, x, c, m: b.vpsignb_ymm(x, c[0], out=x)),
    "vpdpbusd": ("avx2.vpdpbusd", lambda b, x, c, m: b.vpdpbusd_ymm(x, c[0], c[1], out=x)),
    # memory forms: one 32-byte L1 load micro-op each, plus the operation
    "vpaddb[m]": ("avx2.vpaddb", lambda b, x, c, m: b.vpaddb_ymm_m(x, m, out=x)),
    "vpshufb[m]": ("avx2.vpshufb", lambda b, x, c, m: b.vpshufb_ymm_m(x, m, out=x)),
    "vpmaddubsw[m]": ("avx2.vpmaddubsw", lambda b, x, c, m: b.vpmaddubsw_ymm_m(x, m, out=x)),
    "vpdpbusd[m]": ("avx2.vpdpbusd", lambda b, x, c, m: b.vpdpbusd_ymm_m(x, c[0], m, out=x)),
    "store": ("avx2.store", lambda b, x, c, m: b.vmovdqu_store_ymm(m, x)),
}


@dataclass(frozen=True)
class Mix:
    """One microkernel: every chain applies `sequence` (op kinds of `OPS`) once per iteration.

    name : label in the tables. chains : independent chains (<= 14: 16 ymm registers minus
    two constants). group : the table it belongs to (pairs, mixes, kernels...).
    """

    name: str
    sequence: tuple[str, ...]
    chains: int = 12
    group: str = "mix"

    def per_iteration(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.sequence:
            counts[op] = counts.get(op, 0) + self.chains
        return counts


def _mixes() -> list[Mix]:
    m = []
    one = lambda s, **kw: m.append(Mix(f"{s}", (s,), group="single", **kw))  # noqa: E731
    # (a lone vpand chain x &= c is idempotent: the compiler folds it, so vpxor stands in)
    for s in ("vpaddb", "vpshufb", "vpaddsb", "vpmaddubsw", "vpsrlw", "vpxor", "vpmovsxbw",
              "vextracti128", "vpdpbusd"):
        one(s)
    pair = lambda a, c, **kw: m.append(Mix(f"{a} + {c}", (a, c), group="pair", **kw))  # noqa: E731
    # the isa.md §1.3 pair table
    for a, c in (("vpshufb", "vextracti128"), ("vpshufb", "vpmovsxbw"), ("vpshufb", "vpaddsb"),
                 ("vpshufb", "vpmaddubsw"), ("vpshufb", "vpsrlw"), ("vpmaddubsw", "vpaddsb"),
                 ("vpdpbusd", "vpshufb"), ("vpdpbusd", "vpmaddubsw"),
                 # more pairs
                 ("vpshufb", "vpand"), ("vpshufb", "vpaddw"), ("vpaddsb", "vpsrlw"),
                 ("vpmaddubsw", "vpsrlw"), ("vpaddsb", "vpand"), ("vpmovsxbw", "vpaddw"),
                 ("vpmovsxbw", "vpaddsb"), ("vextracti128", "vpaddsb"), ("vpdpbusd", "vpaddsb"),
                 ("vpdpbusd", "vpand")):
        pair(a, c)
    mix = lambda seq, chains=12: m.append(Mix(" + ".join(seq), tuple(seq), chains, "mix"))  # noqa: E731
    mix(("vpshufb", "vpaddsb", "vpand"))
    mix(("vpshufb", "vpmaddubsw", "vpand"))
    mix(("vpshufb", "vpsrlw", "vpaddw"))
    mix(("vpshufb", "vpaddsb", "vpmovsxbw"))
    mix(("vpshufb", "vpaddsb", "vpsrlw"))
    mix(("vpshufb", "vpand", "vpaddw"))
    mix(("vpshufb", "vpaddsb", "vpand", "vpaddw"))
    mix(("vpshufb", "vpsrlw", "vpand", "vpmovsxbw"))
    mix(("vpshufb", "vpmaddubsw", "vpaddw", "vpsrlw"))
    mix(("vpsrlw", "vpand", "vpshufb", "vpaddsb", "vpmovsxbw", "vpaddw"), chains=10)  # 12: clang copies
    # loads and stores
    m.append(Mix("vpaddb[m]", ("vpaddb[m]",), group="memory"))
    m.append(Mix("vpshufb[m] + vpaddsb", ("vpshufb[m]", "vpaddsb"), group="memory"))
    m.append(Mix("vpmaddubsw[m] + vpaddw", ("vpmaddubsw[m]", "vpaddw"), group="memory"))
    m.append(Mix("vpdpbusd[m]", ("vpdpbusd[m]",), group="memory"))
    m.append(Mix("vpaddb + store", ("vpaddb", "store"), group="memory"))
    m.append(Mix("vpshufb + vpaddsb + store", ("vpshufb", "vpaddsb", "store"), group="memory"))
    return m


MIXES = _mixes()


def build_mix(mix: Mix, *, outer: int, inner: int = 128):
    """The Program of `mix`: `outer` x `inner` iterations of the chain sequence.

    Chains start from an input buffer and end in an output buffer; memory operands walk an
    L1-resident stream (`inner` x 32 bytes per memory op of an iteration) and restart each outer
    iteration; constants come from a 64-byte buffer.
    """
    from isa_models.avx2 import ISA
    from isa_models.core.builder import ProgramBuilder

    if not 1 <= mix.chains <= 14:
        raise ValueError(f"zen4_calibration: mix {mix.name!r} has {mix.chains} chains (1..14)")
    unknown = [op for op in mix.sequence if op not in OPS]
    if unknown:
        raise ValueError(f"zen4_calibration: mix {mix.name!r} uses unknown op {unknown[0]!r}")
    mem_ops = sum(1 for op in mix.sequence if op.endswith("[m]") or op == "store") * mix.chains
    b = ProgramBuilder(ISA, "zen4cal_" + re.sub(r"[^a-z0-9]+", "_", mix.name.lower()).strip("_"))
    init = b.buffer("init", 32 * mix.chains)
    consts = b.buffer("consts", 64, role="const")
    stream = b.buffer("stream", 32 * max(1, mem_ops) * inner, role="scratch")
    out = b.buffer("out", 32 * mix.chains, role="output")
    c = (b.vmovdqu_load_ymm(consts[0]), b.vmovdqu_load_ymm(consts[32]))
    xs = [b.vmovdqu_load_ymm(init[32 * j]) for j in range(mix.chains)]
    with b.loop("r", outer):
        with b.loop("k", inner) as k:
            slot = 0
            for op in mix.sequence:
                for x in xs:
                    m = None
                    if op.endswith("[m]") or op == "store":
                        m = stream[k * (32 * mem_ops) + 32 * slot]
                        slot += 1
                    OPS[op][1](b, x, c, m)
    for j, x in enumerate(xs):
        b.vmovdqu_store_ymm(out[32 * j], x)
    return b.build()


def _buffers(program, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.integers(0, 256, buf.size, dtype=np.uint8) for n, buf in program.buffers.items()
            if buf.role in ("input", "const", "scratch")}


def _inner_trip(mix: Mix) -> int:
    """Inner trip count keeping the memory stream within 16 KiB (L1D is 32 KiB)."""
    mem_ops = sum(1 for op in mix.sequence if op.endswith("[m]") or op == "store") * mix.chains
    return 256 if not mem_ops else max(16, min(256, 16384 // (32 * mem_ops)))


def measure_native(mix: Mix, *, outers=(2, 10), batches: int = 9, repeats: int = 11) -> dict:
    """Measured core cycles per inner iteration.

    Each of `batches` batches times both programs (outer trips `outers`; median TSC ticks of
    `repeats` calls each) and converts ticks with a vpaddb-chain calibration taken in the same
    batch (the VM's TSC:core ratio drifts by a few percent over seconds); the slope between the
    two trips cancels call overhead. Returns the median slope over batches and its spread.
    """
    from kernels.codegen.native import NativeKernel
    from kernels.codegen.targets.x86_tsc import calibrate

    inner = _inner_trip(mix)
    kernels = []
    for outer in outers:
        program = build_mix(mix, outer=outer, inner=inner)
        kernels.append((NativeKernel(program, compiler=COMPILER), _buffers(program)))
    slopes = []
    for _ in range(batches):
        cal = calibrate.__wrapped__(repeats=3, iterations=20000)
        ticks = [k.time(bufs, repeats=repeats, warmup=2).ticks for k, bufs in kernels]
        slopes.append((ticks[1] - ticks[0]) / cal.tsc_per_cycle / ((outers[1] - outers[0]) * inner))
    slopes = np.array(slopes)
    med = float(np.median(slopes))
    return {"cycles_per_iteration": med, "spread": float(np.median(np.abs(slopes - med)) / med),
            "inner": inner, "outers": list(outers)}


def model_cycles(mix: Mix, machine) -> float:
    """The model's steady-state cycles per inner iteration."""
    from isa_models.core.timing import time_program

    return time_program(build_mix(mix, outer=2, inner=_inner_trip(mix)), machine).loop("k").body_cycles_per_iteration


def fp_uops(mix: Mix, machine) -> int:
    """Micro-ops per iteration on the FP pipes (the `FP` port group)."""
    fp = set(machine.port_groups["FP"])
    n = 0
    for op, count in mix.per_iteration().items():
        n += count * sum(1 for ports in machine.timing(OPS[op][0]).ports if set(ports) <= fp)
    return n


def asm_extras(mix: Mix) -> int:
    """Vector instructions in the compiled inner loop beyond the Program's: register copies or
    spills the compiler added, which the model would not see (scalar loop control and address
    updates are not counted)."""
    from kernels.codegen.c_emit import emit_asm

    program = build_mix(mix, outer=2, inner=_inner_trip(mix))
    lines = [ln.split()[0] for ln in emit_asm(program, compiler=COMPILER).splitlines()
             if ln.strip() and not ln.startswith("#") and not ln.strip().endswith(":")]
    return sum(1 for mn in lines if mn.startswith("v")) - sum(mix.per_iteration().values())


def _machine_with_cap(per_cycle: float | None, machine_name: str):
    import tomllib

    from isa_models.core.machine import load_machine, machine_from_dict

    path = load_machine(machine_name).path
    data = tomllib.loads(path.read_text())
    if per_cycle is None:
        data.pop("issue_caps", None)
    else:
        data["issue_caps"][CAP]["per_cycle"] = per_cycle
    return machine_from_dict(data, path=path)


#: the fitted issue cap of zen4.toml and the grid its per_cycle is fitted over
CAP = "fp_mixed"
CAP_GRID = tuple(round(3.0 + 0.1 * k, 1) for k in range(11))


def fit_cap(mixes, measured: dict[str, float], *, machine_name: str = "avx2/zen4") -> dict:
    """The `CAP` rate (per `CAP_GRID`) minimising the mean absolute model error over `mixes`."""
    scores = {}
    for rate in CAP_GRID:
        machine = _machine_with_cap(rate, machine_name)
        errs = [abs(model_cycles(m, machine) / measured[m.name] - 1) for m in mixes]
        scores[rate] = sum(errs) / len(errs)
    best = min(scores, key=scores.get)
    return {"per_cycle": best, "mean_abs_error": round(scores[best], 4),
            "grid": {str(k): round(v, 4) for k, v in scores.items()}}


def run(*, repeats: int = 11, only: str | None = None, machine_name: str = "avx2/zen4",
        fit: bool = True) -> dict:
    """Measure every mix (or those whose name contains `only`), fit the cap, model each mix."""
    from isa_models.core.machine import load_machine
    from kernels.codegen.host import machine_info

    machine = load_machine(machine_name)
    mixes = [m for m in MIXES if not only or only in m.name]
    measured = {}
    for mix in mixes:
        meas = measure_native(mix, repeats=repeats)
        measured[mix.name] = meas
        print(f"{mix.name:55s} measured {meas['cycles_per_iteration']:7.3f} cycles/iteration "
              f"(spread {meas['spread']:.1%})", flush=True)
    cap = fit_cap(mixes, {k: v["cycles_per_iteration"] for k, v in measured.items()},
                  machine_name=machine_name) if fit else None
    rows = []
    for mix in mixes:
        meas = measured[mix.name]
        model = model_cycles(mix, machine)
        n_fp = fp_uops(mix, machine)
        row = {"name": mix.name, "group": mix.group, "sequence": list(mix.sequence),
               "chains": mix.chains, "fp_uops": n_fp,
               "measured": round(meas["cycles_per_iteration"], 3), "spread": round(meas["spread"], 4),
               "model": round(model, 3), "asm_extras": asm_extras(mix)}
        row["error"] = round(model / row["measured"] - 1, 4)
        rows.append(row)
    return {"machine": machine_info(), "date": datetime.date.today().isoformat(), "compiler": COMPILER,
            "model_machine": str(machine.path.relative_to(ROOT)), "fitted": {f"issue_caps.{CAP}": cap},
            "model_cap_per_cycle": next((c.per_cycle for c in machine.issue_caps if c.name == CAP), None),
            "rows": rows}


def render(result: dict) -> str:
    """The docs/benchmarks.md section for `result`."""
    m = result["machine"]
    rows = result["rows"]
    mae = sum(abs(r["error"]) for r in rows) / len(rows)
    worst = max(rows, key=lambda r: abs(r["error"]))
    cap = result["fitted"][f"issue_caps.{CAP}"]
    out = [f"## Zen 4 microbenchmarks: measured vs zen4 model (`{SCRIPT}`)", "",
           f"Host: {m.get('model_name')} (family {m.get('family')}, model {m.get('model')}), run "
           f"{result['date']}; shared 2-vCPU VM. Each microkernel runs 12 independent register chains "
           f"(one instruction of each listed class per chain per iteration; L1-resident memory "
           f"operands), compiled by {result['compiler']} -O2 from the Program's emitted C; measured "
           f"cycles per iteration are the median over batches of the slope between two outer trip "
           f"counts, each batch converting TSC ticks with its own vpaddb-chain calibration. "
           f"Model: `{result['model_machine']}` (fitted cap "
           f"{result['model_cap_per_cycle']}/cycle; this run's fit: {cap['per_cycle'] if cap else '-'}"
           f"/cycle, mean |error| {cap['mean_abs_error'] if cap else '-'} at the best grid point). "
           f"Data: `{script_path(DATA)}`.", "",
           "| microkernel | group | FP uops/it | measured c/it | model c/it | error | FP uops/cycle (meas) | spread | extra asm |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['name']} | {r['group']} | {r['fp_uops']} | {r['measured']:.2f} | {r['model']:.2f} | "
                   f"{r['error']:+.1%} | {r['fp_uops'] / r['measured']:.2f} | {r['spread']:.1%} | "
                   f"{r['asm_extras']} |")
    within = sum(1 for r in rows if abs(r["error"]) <= 0.10)
    out += ["", f"Mean absolute error **{mae:.1%}** over {len(rows)} microkernels; {within} within 10%; "
            f"worst: {worst['name']} ({worst['error']:+.1%}). 'extra asm' counts compiled vector "
            f"instructions beyond the Program's (copies/spills; 0 means the loop is exactly the "
            f"Program)."]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11, help="timed calls per batch (median)")
    ap.add_argument("--only", help="run only mixes whose name contains this text (no files written)")
    args = ap.parse_args(argv)
    machine, code = host_machine_or_refuse("zen4_calibration", needs="zen4")   # the fit is zen4.toml's
    if machine is None:
        return code
    result = run(repeats=args.repeats, only=args.only, fit=not args.only)
    if not args.only:
        DATA.write_text(json.dumps(result, indent=1) + "\n")
    publish(NAME, render(result), write=not args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())

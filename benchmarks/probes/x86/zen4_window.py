"""Zen 4 out-of-order window probes: reorder buffer, vector registers, vector scheduler, chain exposure.

Benchmark layer, host probe of x86 (DESIGN.md §5). Native microbenchmarks behind zen4.toml's [core] `rob_size`,
`rename_registers` and `vector_scheduler_size`, plus the open gap of a dependent chain beside
issue-bound work. Each loop is x86-64 AT&T assembly generated here, assembled and linked by clang
with a small C harness in a temporary directory: fenced rdtsc around `--iterations` iterations,
best of `--repeats` calls per process, of `--runs` processes and of `--passes` passes over a row.
TSC ticks become core cycles with `kernels.codegen.targets.x86_tsc.calibrate` (a vpaddb chain). A pointer
chase through a cell that points to itself is the clock of probes 1-2 (its latency per load is
measured first). Probe 3 puts the zen4 model's cycles (avx2 Program, slope between two trip
counts) next to the native ones. Writes its section of docs/benchmarks.md.
Usage: ``python benchmarks/probes/x86/zen4_window.py [--runs 5] [--repeats 60] [--iterations 3000]
[--passes 3] [--no-write]``.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:      # run as a script: _common is in benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from _common import (ROOT, host_machine_or_refuse, load_average, machine_note, publish,  # noqa: E402
                     script_path)

NAME = Path(__file__).name
TOML = ROOT / "isa_models" / "machines" / "avx2" / "zen4.toml"
CHASE = 24                                      # dependent loads per chase (probes 1 and 2)
WINDOW_WIDTHS = (0, 32, 48, 64, 80, 96, 128, 160, 224, 288, 320)
WINDOW_FILLERS = {                              # kind -> (filler(i), resource it fills, entries(W))
    "vpxor": (lambda i: f"vpxor %ymm{i % 12}, %ymm{i % 12}, %ymm{i % 12}", "reorder buffer",
              lambda w: w + CHASE + 2),         # every op holds an entry (movq, chase, W, fused dec/jnz)
    "vpaddd": (lambda i: f"vpaddd %ymm14, %ymm15, %ymm{i % 12}", "vector registers",
               lambda w: w),                    # only the fillers take a new ymm register
}
SCHEDULER_WIDTHS = tuple(range(24, 73, 4))
SCHEDULER_KINDS = {                             # kind -> op(i, source register) depending on the source
    "vpaddd": lambda i, s: f"vpaddd %ymm15, %ymm{s}, %ymm{2 + i % 12}",
    "vpand": lambda i, s: f"vpand %ymm15, %ymm{s}, %ymm{2 + i % 12}",
    "vpshufb": lambda i, s: f"vpshufb %ymm15, %ymm{s}, %ymm{2 + i % 12}",
    "vpsllw": lambda i, s: f"vpsllw $3, %ymm{s}, %ymm{2 + i % 12}",
    "vpdpbusd": lambda i, s: f"vpdpbusd %ymm15, %ymm{s}, %ymm{2 + i % 12}",
}
LOAD_OP = ("vpand[m]", lambda i, s: f"vpand {32 * (i % 16)}(%rsi), %ymm{s}, %ymm{2 + i % 12}")
LOAD_OP_WIDTHS = tuple(range(8, 45, 4))
LOAD_OP_CHASES = (12, 24, 36)
EDGE = 0.9                                      # below 0.9 chase: more than one iteration overlaps
KNEE_TOLERANCE = 0.03                           # "still overlapped": within 3% of one chase
CHAIN_LENGTHS = (0, 8, 16, 24, 32, 40, 48, 64)
CHAIN_WIDTH = 64
CHAIN_FILLERS = {"vpand": "vpand %ymm14, %ymm13, %ymm{k}", "vpdpbusd": "vpdpbusd %ymm14, %ymm13, %ymm{k}"}
MODEL_TRIPS = (200, 400)
OUTLIER = 0.20                                  # a point this far above both neighbours is rerun once
VNNI = ("avx512vl", "avx512_vnni")

HARNESS = """\
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
{timing}
void probe(void **cell, char *data, long iterations);
int main(int argc, char **argv) {{
    long iterations = atol(argv[1]);
    int repeats = atoi(argv[2]);
    void **cell = aligned_alloc(64, 64);
    *cell = cell;                               /* the chase's cell points to itself */
    char *data = aligned_alloc(4096, 8192);
    memset(data, 1, 8192);
    probe(cell, data, iterations);              /* warm-up */
    uint64_t best = UINT64_MAX;
    for (int r = 0; r < repeats; r++) {{
        uint64_t t0 = wb_tsc_begin();
        probe(cell, data, iterations);
        uint64_t t1 = wb_tsc_end();
        if (t1 - t0 < best) best = t1 - t0;
    }}
    printf("%llu\\n", (unsigned long long)best);
    return 0;
}}
"""


def _function(body: list[str], prologue: list[str]) -> str:
    """`probe(cell=rdi, data=rsi, iterations=rdx)`: prologue, then `body` once per iteration."""
    lines = "\n".join("    " + x for x in body)
    head = "\n".join("    " + x for x in prologue)
    return (".text\n.globl probe\n.type probe, @function\nprobe:\n"
            f"{head}\n    .p2align 6\n1:\n{lines}\n    decq %rdx\n    jnz 1b\n    vzeroupper\n    ret\n"
            '.section .note.GNU-stack,"",@progbits\n')


def chase_loop(chase: int) -> str:
    """A chase carried across iterations and nothing else: `chase` load latencies per iteration."""
    return _function(["movq (%rax), %rax"] * chase, ["movq %rdi, %rax"])


def window_loop(kind: str, width: int) -> str:
    """Probe 1: a fresh chase per iteration (restarted from rdi) beside `width` independent fillers."""
    filler = WINDOW_FILLERS[kind][0]
    body = ["movq %rdi, %rax"] + ["movq (%rax), %rax"] * CHASE + [filler(i) for i in range(width)]
    return _function(body, ["vpxor %xmm14, %xmm14, %xmm14", "vpxor %xmm15, %xmm15, %xmm15"])


def scheduler_loop(op, width: int, chase: int = CHASE) -> str:
    """Probe 2: halves A (rax) and B (rcx), each a chase carried across iterations, its result
    broadcast into ymm0 / ymm1, then `width` ops depending on it (they wait unissued)."""
    body = []
    for reg, vec in (("rax", 0), ("rcx", 1)):
        body += [f"movq (%{reg}), %{reg}"] * chase
        body += [f"vmovq %{reg}, %xmm{vec}", f"vpbroadcastq %xmm{vec}, %ymm{vec}"]
        body += [op(i, vec) for i in range(width)]
    return _function(body, ["movq %rdi, %rax", "movq %rdi, %rcx", "vpxor %xmm15, %xmm15, %xmm15"])


def chain_loop(length: int, filler: str, width: int = CHAIN_WIDTH) -> str:
    """Probe 3: load, `length` dependent vpaddd, store, then `width` fillers over 12 registers."""
    body = (["vmovdqu (%rsi), %ymm15"] + ["vpaddd %ymm14, %ymm15, %ymm15"] * length
            + ["vmovdqu %ymm15, 64(%rsi)"] + [CHAIN_FILLERS[filler].format(k=k % 12) for k in range(width)])
    return _function(body, ["vpxor %xmm14, %xmm14, %xmm14", "vpxor %xmm13, %xmm13, %xmm13"]
                     + [f"vpxor %xmm{k}, %xmm{k}, %xmm{k}" for k in range(12)])


def chain_program(length: int, filler: str, trips: int, *, width: int = CHAIN_WIDTH):
    """Probe 3's loop as an AVX2 Program for the model (same registers' roles, same memory offsets)."""
    from isa_models.avx2 import ISA
    from isa_models.core.builder import ProgramBuilder

    b = ProgramBuilder(ISA, f"chain{length}_{filler}")
    d = b.buffer("d", 128, role="scratch")
    zero, other = b.vmovdqu_load_ymm(d[96]), b.vmovdqu_load_ymm(d[96])
    accs = [b.vmovdqu_load_ymm(d[96]) for _ in range(12)]
    with b.loop("i", trips):
        c = b.vmovdqu_load_ymm(d[0])
        for _ in range(length):
            c = b.vpaddd_ymm(zero, c)
        b.vmovdqu_store_ymm(d[64], c)
        for k in range(width):
            if filler == "vpand":
                b.vpand_ymm(zero, other, out=accs[k % 12])
            else:
                b.vpdpbusd_ymm(accs[k % 12], zero, other, out=accs[k % 12])
    for acc in accs:
        b.vmovdqu_store_ymm(d[0], acc)
    return b.build()


def model_cycles(length: int, filler: str, machine) -> float:
    """The model's cycles per iteration of probe 3: slope between the two `MODEL_TRIPS`."""
    from isa_models.core.timing import time_program

    lo, hi = (time_program(chain_program(length, filler, n), machine).cycles for n in MODEL_TRIPS)
    return (hi - lo) / (MODEL_TRIPS[1] - MODEL_TRIPS[0])


class NativeBench:
    """Builds a probe loop with the C harness in a temporary directory and times it natively."""

    def __init__(self, workdir: Path, *, runs: int, repeats: int, iterations: int, passes: int):
        from kernels.codegen.targets.x86_tsc import C_TIMING, calibrate

        self.workdir, self.runs, self.repeats, self.iterations = workdir, runs, repeats, iterations
        self.passes = passes
        self.calibration = calibrate()
        self.harness = workdir / "harness.o"
        src = workdir / "harness.c"
        src.write_text(HARNESS.format(timing=C_TIMING))
        self._run(["clang", "-O2", "-c", str(src), "-o", str(self.harness)], "the C harness")

    @staticmethod
    def _run(cmd: list[str], what: str) -> str:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"zen4_window: {what} failed ({' '.join(cmd)}):\n{done.stderr}")
        return done.stdout

    def cycles(self, asm: str, label: str) -> float:
        """Best core cycles per iteration of the loop in `asm` (`label` names it in errors)."""
        src, exe = self.workdir / "probe.s", self.workdir / "probe"
        src.write_text(asm)
        self._run(["clang", str(self.harness), str(src), "-o", str(exe)], f"building {label}")
        best = min(int(self._run([str(exe), str(self.iterations), str(self.repeats)], f"running {label}"))
                   for _ in range(self.runs))
        ticks = max(best - self.calibration.overhead_ticks, 0.0)
        return ticks / self.calibration.tsc_per_cycle / self.iterations

    def sweep(self, label: str, points, make) -> list[float]:
        """Time `make(p)` for every p, best of `passes` passes over the row (a disturbance of the
        shared host lasts a while: a later pass misses it); then rerun once a point above both
        neighbours by more than `OUTLIER`."""
        values = [self.cycles(make(p), f"{label} at {p}") for p in points]
        for _ in range(self.passes - 1):
            values = [min(v, self.cycles(make(p), f"{label} at {p}")) for v, p in zip(values, points)]
        for i in range(1, len(values) - 1):
            if values[i] > (1 + OUTLIER) * max(values[i - 1], values[i + 1]):
                values[i] = min(values[i], self.cycles(make(points[i]), f"{label} at {points[i]} (rerun)"))
        print(f"  {label:28s} " + " ".join(f"{v:6.1f}" for v in values), flush=True)
        return values


def fit_window(widths, times, entries, chase_cycles: float) -> dict:
    """Entries N in flight from t = chase * entries(W) / N: least squares over the window-bound
    points (10% above the W/4 throughput floor and above 24 cycles, below 0.9 chase).

    Returns {"n": fitted N or None, "per_point": {W: implied N} of those points}.
    """
    used = [(w, t) for w, t in zip(widths, times)
            if 1.1 * max(w / 4, 24.0) < t < EDGE * chase_cycles and entries(w) > 0]
    per_point = {w: chase_cycles * entries(w) / t for w, t in used}
    if not used:
        return {"n": None, "per_point": per_point}
    slope = sum(entries(w) * t for w, t in used) / sum(entries(w) ** 2 for w, _ in used)
    return {"n": chase_cycles / slope, "per_point": per_point}


def find_edge(bench: NativeBench, label: str, make, widths, times, chase_cycles: float) -> dict | None:
    """The W where a second iteration stops fitting beside the first: bisect between the last sweep
    point below `EDGE` x chase and the next one (None when the sweep has no such pair)."""
    limit = EDGE * chase_cycles
    slow = [i for i in range(1, len(times)) if times[i] >= limit > times[i - 1]]
    if not slow:
        return None
    lo, hi = widths[slow[-1] - 1], widths[slow[-1]]
    seen = {lo: times[slow[-1] - 1], hi: times[slow[-1]]}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        seen[mid] = min(bench.cycles(make(mid), f"{label} at {mid}") for _ in range(bench.passes))
        lo, hi = (mid, hi) if seen[mid] < limit else (lo, mid)
    print(f"  {label:28s} edge: W={lo} {seen[lo]:.1f}, W={hi} {seen[hi]:.1f}", flush=True)
    return {"fast": (lo, seen[lo]), "slow": (hi, seen[hi]), "seen": dict(sorted(seen.items()))}


def knee(widths, times, chase_cycles: float) -> int | None:
    """The largest W still within `KNEE_TOLERANCE` of one chase (None: none). The host's noise only
    ever adds cycles, so a fast point is real even after a slow one."""
    inside = [w for w, t in zip(widths, times) if t <= (1 + KNEE_TOLERANCE) * chase_cycles]
    return max(inside) if inside else None


def refine_knee(bench: NativeBench, label: str, make, coarse: int | None, step: int,
                chase_cycles: float) -> tuple[int | None, dict[int, float]]:
    """Time the widths between the coarse knee and the next sweep point one by one; the knee is
    then the largest W within tolerance up to the first one past it."""
    if coarse is None:
        return None, {}
    extra = {w: min(bench.cycles(make(w), f"{label} at {w}") for _ in range(bench.passes))
             for w in range(coarse + 1, coarse + step)}
    fine = coarse
    for w, t in extra.items():
        if t > (1 + KNEE_TOLERANCE) * chase_cycles:
            break
        fine = w
    print(f"  {label:28s} refined: " + " ".join(f"W={w} {t:.1f}" for w, t in extra.items())
          + f" -> knee {fine}", flush=True)
    return fine, extra


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def toml_core() -> dict:
    """zen4.toml's [core] table (the values these probes back), read as data."""
    import tomllib

    return tomllib.loads(TOML.read_text()).get("core", {})


def _knee_text(kind: str, found: dict) -> str:
    if found["knee"] is None:
        return f"{kind}: no W within {KNEE_TOLERANCE:.0%} of one chase"
    slow = found["first_slow"]
    past = f", W = {slow[0]} already {slow[1]:.1f}" if slow else ""
    return f"{kind} knee W = {found['knee']} (capacity {found['knee'] + 2}{past})"


def render(r: dict) -> str:
    """The docs/benchmarks.md section of one run `r` (see `measure` and `main`)."""
    cal, lat, core = r["calibration"], r["load_latency"], r["toml"]
    out = [f"## Zen 4 out-of-order window probes (`{script_path(__file__)}`)", "",
           f"Host: {r['machine']}; run {r['date']}, 1-minute load average {r['load'][0]:.2f} at the start, "
           f"{r['load'][1]:.2f} at the end (shared 2-vCPU VM). Native x86-64 assembly loops generated by the "
           f"script, built by clang with a C harness; each point is the best of {r['passes']} passes x "
           f"{r['runs']} processes x {r['repeats']} fenced-rdtsc calls of {r['iterations']} iterations, in core "
           f"cycles per iteration ({cal.tsc_per_cycle:.3f} TSC ticks per core cycle, vpaddb-chain calibration); "
           f"a point above both neighbours by more than {OUTLIER:.0%} is rerun once. The chase (a cell pointing "
           f"to itself) costs {lat:.2f} cycles per load: {CHASE} loads = {CHASE * lat:.1f} cycles.", ""]

    win = r["window"]
    out += ["### 1. Window: reorder buffer and vector registers", "",
            f"Per iteration a fresh {CHASE}-load chase (restarted from the cell) and W independent fillers: "
            "zeroing `vpxor %ymmK,%ymmK,%ymmK` (no new register) or `vpaddd %ymm14,%ymm15,%ymmK` (a new ymm "
            "register each; K = 0..11). Once the window is full, iterations overlap only as far as N entries "
            "allow: about t = chase x entries(W) / N, entries = W + 26 micro-ops for vpxor (movq, chase, "
            "fillers, fused dec/jnz), W register writes for vpaddd. 'N' columns: the N each window-bound point "
            f"implies (- : within 10% of the W/4 or 24-cycle floor, or at least {EDGE} chase).", "",
            _row(["W"] + [f"{k} c/it" for k in win] + [f"N ({k})" for k in win]),
            _row(["---"] * (1 + 2 * len(win)))]
    for i, w in enumerate(WINDOW_WIDTHS):
        out.append(_row([w] + [f"{win[k]['times'][i]:.1f}" for k in win]
                        + [f"{win[k]['fit']['per_point'][w]:.0f}" if w in win[k]["fit"]["per_point"] else "-"
                           for k in win]))
    toml_n = {"vpxor": f"rob_size = {core.get('rob_size')}",
              "vpaddd": f"rename_registers.ymm = {core.get('rename_registers', {}).get('ymm')}"}
    lines = []
    for k, v in win.items():
        entries, fit, edge = WINDOW_FILLERS[k][2], v["fit"], v["edge"]
        text = f"**{k}** ({WINDOW_FILLERS[k][1]}; zen4.toml {toml_n[k]}): least-squares N = " + (
            f"{fit['n']:.0f} (per point {min(fit['per_point'].values()):.0f}-{max(fit['per_point'].values()):.0f})"
            if fit["n"] else "none (no window-bound point)")
        if edge:
            (w_fast, t_fast), (w_slow, t_slow) = edge["fast"], edge["slow"]
            text += (f"; edge: two iterations still overlap at W = {w_fast} ({t_fast:.1f} cycles), not at "
                     f"W = {w_slow} ({t_slow:.1f}), so **N = {entries(w_fast)}** entries (bisection: "
                     + ", ".join(f"{w}: {t:.1f}" for w, t in edge["seen"].items()) + ")")
        lines.append("- " + text + ".")
    out += ["", *lines, "",
            "The formula treats the overlap as continuous; in fact iterations overlap in whole numbers (the "
            "next chase starts only once every entry of the current iteration is in), so the per-point N "
            "swings with W and the least-squares N depends on which W the sweep holds. The edge does not "
            "depend on that: up to it one iteration's entries fit in the window, so the next chase starts "
            "while this one runs; past it each chase waits for the previous iteration to retire (t jumps to "
            f"about one chase). Bisected to one filler between the last sweep point below {EDGE} chase and "
            "the next.", ""]

    sched = r["scheduler"]
    out += ["### 2. Vector scheduler", "",
            f"Per iteration two halves A and B, each a {CHASE}-load chase carried across iterations (rax, "
            "rcx), `vmovq` + `vpbroadcastq` of its result into ymm0/ymm1, then W register-operand ops reading "
            "it (they wait unissued; second source ymm15, destinations ymm2-13). While the scheduler holds A's "
            f"W + 2 waiting ops, B's chase dispatches and the two overlap: one chase per iteration "
            f"({CHASE * lat:.1f} cycles); else the chases serialize. Knee: the largest W still within "
            f"{KNEE_TOLERANCE:.0%} of one chase (the sweep's knee, then the widths up to the next sweep point one "
            "by one); capacity = knee + 2.", "",
            _row(["kind \\ W"] + list(SCHEDULER_WIDTHS)), _row(["---"] * (1 + len(SCHEDULER_WIDTHS)))]
    for kind, found in sched["kinds"].items():
        out.append(_row([kind] + [f"{t:.0f}" for t in found["times"]]))
    caps = sorted({f["knee"] + 2 for f in sched["kinds"].values() if f["knee"] is not None})
    same = (f"every register-operand kind holds {caps[0]}" if len(caps) == 1 else
            f"the register-operand kinds hold {caps[0]}-{caps[-1]}" if caps else "no knee found")
    out += ["", "; ".join(_knee_text(k, f) for k, f in sched["kinds"].items())
            + (f". Skipped: {', '.join(sched['skipped'])}" if sched["skipped"] else "")
            + f". So {same} waiting vector micro-ops (zen4.toml vector_scheduler_size = "
            f"{core.get('vector_scheduler_size')}).", ""]

    lo = r["load_op"]
    out += [f"Load-op (not modelled): `{LOAD_OP[0][:-3]} 32*(i%16)(%rsi), %ymm0, %ymmK` as the waiting op, at "
            "three chase lengths (one chase = loads x latency; rows: chase loads):", "",
            _row(["loads \\ W"] + list(LOAD_OP_WIDTHS)), _row(["---"] * (1 + len(LOAD_OP_WIDTHS)))]
    for chase, found in lo.items():
        out.append(_row([chase] + [f"{t:.0f}" for t in found["times"]]))
    knees = [found["knee"] for found in lo.values()]
    moves = all(k is not None for k in knees) and all(a < b for a, b in zip(knees, knees[1:]))
    out += ["", "; ".join(_knee_text(f"{c} loads", f) for c, f in lo.items()) + ". "
            + ("The knee moves with the chase length, so folded-load ops are not held by one fixed count "
               "(not modelled)." if moves else "In this run the knee does not grow with the chase length."), ""]

    chain = r["chain"]
    out += ["### 3. Chain beside issue-bound work (open gap)", "",
            f"Per iteration `vmovdqu (%rsi),%ymm15`, L dependent `vpaddd %ymm14,%ymm15,%ymm15`, "
            f"`vmovdqu %ymm15,64(%rsi)`, then {CHAIN_WIDTH} fillers over 12 registers: `vpand %ymm14,%ymm13,%ymmK` "
            "(4/cycle) or `vpdpbusd %ymm14,%ymm13,%ymmK` (2/cycle, accumulating into ymmK). Model: the same loop "
            f"as an AVX2 Program on avx2/zen4, slope between {MODEL_TRIPS[0]} and {MODEL_TRIPS[1]} iterations.", "",
            _row(["L"] + [f"{f} {s}" for f in chain for s in ("native", "model", "model error")]),
            _row(["---"] * (1 + 3 * len(chain)))]
    for i, length in enumerate(CHAIN_LENGTHS):
        cells = [length]
        for f in chain:
            n, m = chain[f]["native"][i], chain[f]["model"][i]
            cells += [f"{n:.1f}", f"{m:.1f}", f"{100 * (m - n) / n:+.0f}%"]
        out.append(_row(cells))
    gaps = []
    for f, v in chain.items():
        off = [(n, a, b) for n, a, b in zip(CHAIN_LENGTHS, v["native"], v["model"]) if abs(b / a - 1) > 0.10]
        gaps.append(f"{f} fillers: model within 10% at every L" if not off else
                    f"{f} fillers: model off by more than 10% at L = " + ", ".join(
                        f"{n} ({a:.1f} native, {b:.1f} model)" for n, a, b in off))
    out += ["", "; ".join(gaps) + ".", ""]

    out += ["### What this backs", "",
            "`isa_models/machines/avx2/zen4.toml` [core]: probe 1's vpxor row is the measurement for "
            "`rob_size` (micro-ops in flight when only the reorder buffer fills), its vpaddd row the one for "
            "`rename_registers.ymm` (ymm writes in flight: the physical vector register file less the 32 "
            "architectural registers); probe 2's register-operand kinds are the one for "
            "`vector_scheduler_size` (waiting vector micro-ops: knee + 2 for the vmovq/vpbroadcastq); its "
            "load-op row is reported, not modelled. Probe 3 is the open gap: "
            "where its vpdpbusd rows are slower natively than in the model, the core exposes a dependent chain "
            "longer than one iteration's issue time beside 2/cycle work, while the model hides it behind the "
            "next iterations' fillers (the gap behind vnni's old per-tile epilogue); no model rule is fitted "
            "from it."]
    return "\n".join(out)


def _knee_search(bench: NativeBench, label: str, widths, make, chase_cycles: float) -> dict:
    times = bench.sweep(label, widths, make)
    coarse = knee(widths, times, chase_cycles)
    fine, extra = refine_knee(bench, label, make, coarse, widths[1] - widths[0], chase_cycles)
    after = sorted({**dict(zip(widths, times)), **extra}.items())
    slow = next(((w, t) for w, t in after if fine is not None and w > fine), None)
    return {"times": times, "knee": fine, "refined": extra, "first_slow": slow}


def measure(bench: NativeBench, *, vnni: bool) -> dict:
    """Run the chase latency and the three probes; return everything `render` shows."""
    from isa_models.core.machine import load_machine

    print("chase latency", flush=True)
    per_load = {c: min(bench.cycles(chase_loop(c), f"chase of {c}") for _ in range(bench.passes)) / c
                for c in sorted({CHASE, *LOAD_OP_CHASES})}
    lat = per_load[CHASE]
    print("  cycles per load: " + ", ".join(f"{c} loads {v:.2f}" for c, v in per_load.items()), flush=True)

    print("probe 1: window (cycles/iteration over W = " + ", ".join(map(str, WINDOW_WIDTHS)) + ")", flush=True)
    window = {}
    for kind, (_, _, entries) in WINDOW_FILLERS.items():
        times = bench.sweep(kind, WINDOW_WIDTHS, lambda w, k=kind: window_loop(k, w))
        window[kind] = {"times": times, "fit": fit_window(WINDOW_WIDTHS, times, entries, CHASE * lat)}
        n = window[kind]["fit"]["n"]
        print(f"  {kind:28s} fitted N " + (f"{n:.0f}" if n else "none"), flush=True)
        window[kind]["edge"] = find_edge(bench, kind, lambda w, k=kind: window_loop(k, w), WINDOW_WIDTHS, times,
                                         CHASE * lat)

    print("probe 2: vector scheduler (W = " + ", ".join(map(str, SCHEDULER_WIDTHS)) + ")", flush=True)
    sched = {"kinds": {}, "skipped": []}
    for kind, op in SCHEDULER_KINDS.items():
        if kind == "vpdpbusd" and not vnni:
            sched["skipped"].append(f"{kind} (needs {', '.join(VNNI)})")
            continue
        sched["kinds"][kind] = _knee_search(bench, kind, SCHEDULER_WIDTHS, lambda w, op=op: scheduler_loop(op, w),
                                            CHASE * lat)
    load_op = {}
    for chase in LOAD_OP_CHASES:
        load_op[chase] = _knee_search(bench, f"{LOAD_OP[0]} chase {chase}", LOAD_OP_WIDTHS,
                                      lambda w, c=chase: scheduler_loop(LOAD_OP[1], w, c), chase * per_load[chase])

    print("probe 3: chain beside fillers (L = " + ", ".join(map(str, CHAIN_LENGTHS)) + ")", flush=True)
    machine = load_machine("zen4", isa="avx2")
    chain = {}
    for filler in CHAIN_FILLERS:
        if filler == "vpdpbusd" and not vnni:
            continue
        native = bench.sweep(f"{filler} native", CHAIN_LENGTHS, lambda n, f=filler: chain_loop(n, f))
        model = [model_cycles(n, filler, machine) for n in CHAIN_LENGTHS]
        print(f"  {filler + ' model':28s} " + " ".join(f"{v:6.1f}" for v in model), flush=True)
        chain[filler] = {"native": native, "model": model}
    return {"load_latency": lat, "window": window, "scheduler": sched, "load_op": load_op, "chain": chain}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="processes per point and pass (the best is kept)")
    ap.add_argument("--repeats", type=int, default=60, help="timed calls per process (the best is kept)")
    ap.add_argument("--iterations", type=int, default=3000, help="loop iterations per timed call")
    ap.add_argument("--passes", type=int, default=3, help="passes over each sweep row (the best is kept)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch docs/benchmarks.md")
    args = ap.parse_args(argv)
    from kernels.codegen.host import missing_cpu_flags

    machine, code = host_machine_or_refuse("zen4_window", needs="zen4")   # the probes back zen4.toml
    if machine is None:
        return code

    if shutil.which("clang") is None:
        print("zen4_window: skipped, clang not found on PATH (it assembles and links the probes)")
        return 0
    if missing_cpu_flags(["avx2"]):
        print("zen4_window: skipped, this CPU lacks avx2")
        return 0
    vnni = not missing_cpu_flags(VNNI)
    if not vnni:
        print(f"zen4_window: this CPU lacks {', '.join(missing_cpu_flags(VNNI))}: vpdpbusd rows skipped")
    start_load = load_average()
    with tempfile.TemporaryDirectory(prefix="zen4_window_") as tmp:
        bench = NativeBench(Path(tmp), runs=args.runs, repeats=args.repeats, iterations=args.iterations,
                            passes=args.passes)
        result = measure(bench, vnni=vnni)
    result.update(machine=machine_note(), date=datetime.date.today().isoformat(), load=(start_load, load_average()),
                  calibration=bench.calibration, runs=args.runs, repeats=args.repeats, iterations=args.iterations,
                  passes=args.passes, toml=toml_core())
    publish(NAME, render(result), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())

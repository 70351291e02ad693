"""Benchmark: the NEON cycle model against llvm-mca 19, every NEON kernel on every NEON machine.

Benchmark layer (issue 11 deliverable 6; research/isa.md §2.1, §2.4). For each registered NEON
kernel (`kernels.registry`) and each 2B-4T projection shape it builds the Program, emits the C,
compiles it with clang-19 for aarch64 (`kernels.codegen.emit_asm`, the codegen target of the NEON
plug-in) and cuts the innermost loops out as llvm-mca regions. For each NEON machine it then puts
side by side, for the kernel's dominant innermost loop (most dynamic instructions):
- model: `time_program(program, machine)`'s cycles per iteration of that loop's body;
- llvm-mca: ``llvm-mca-19 -mcpu=<machine.mca_cpu>`` cycles per iteration of the same loop as
  compiled (loop control and address arithmetic included), 500 iterations.
The difference is model / llvm-mca - 1; the mean |difference| per machine is reported, and every
difference over 15% gets its cause, found from the two sides' own figures (`explain`): the
compiled loop's extra instructions on a narrow core, the machine's decode width against the LLVM
model's dispatch width, or a port/recurrence bound the model and llvm-mca see differently, each
citing the machine-table entry involved. Writes its section of docs/benchmarks.md.
Usage: .venv/bin/python benchmarks/neon_llvm_mca.py [--shapes q,k,gate,down] [--no-write]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

from _common import publish, script_path  # run as a script: benchmarks/ is on sys.path

NAME = "neon_llvm_mca.py"
ISA = "neon"
MCA = "llvm-mca-19"
COMPILER = "clang-19"
THRESHOLD = 0.15
ITERATIONS = 500
PROJECTIONS = ("q", "k", "gate", "down")     # the four distinct 2B-4T shapes (v = k, o = q, up = gate)
#: -mattr for llvm-mca: the extensions a Program may require (cpuinfo name -> LLVM feature)
MATTR = {"asimddp": "+dotprod", "i8mm": "+i8mm", "asimdhp": "+fullfp16", "bf16": "+bf16"}


class Row:
    """One kernel x shape x machine comparison (plain class: the scripts are also loaded by path)."""

    def __init__(self, kernel: str, machine: str, shape: tuple[int, int], loop: str = "", *,
                 program_instrs: int = 0):
        self.kernel, self.machine, self.shape, self.loop = kernel, machine, shape, loop
        self.program_instrs = program_instrs
        self.model = self.mca = self.asm_instrs = self.mca_pressure = self.mca_vector_only = 0.0
        self.model_binding = self.refused = self.rewritten = ""
        self.mca_dispatch = self.scalar_instrs = 0

    @property
    def diff(self) -> float:
        return self.model / self.mca - 1 if self.mca else float("nan")


def llvm_mca(asm: str, cpu: str, mattr: str) -> list[dict]:
    """Per code region of `asm`: cycles per iteration, instructions per iteration, llvm-mca's
    dispatch width and the most loaded resource's cycles per iteration."""
    # llvm-mca 19 finds its region markers in '#' comments only; AArch64 assembly comments are '//'
    asm = re.sub(r"^(\s*)//(\s*LLVM-MCA-(BEGIN|END))", r"\1#\2", asm, flags=re.M)
    args = [MCA, "-mtriple=aarch64", f"-mcpu={cpu}", f"-iterations={ITERATIONS}", "-all-views=false",
            "-summary-view", "-resource-pressure"]
    if mattr:
        args.append(f"-mattr={mattr}")
    proc = subprocess.run(args, input=asm, capture_output=True, text=True)
    if proc.returncode != 0:
        raise OSError(f"{MCA} -mcpu={cpu} failed: {proc.stderr.strip()[:400]}")
    out = []
    for block in re.split(r"\n\[\d+\] Code Region - ", "\n" + proc.stdout)[1:]:
        num = {k: int(re.search(rf"^{k}:\s+(\d+)", block, re.M).group(1))
               for k in ("Iterations", "Instructions", "Total Cycles", "Dispatch Width")}
        pressure = 0.0
        found = re.search(r"Resource pressure per iteration:\n[^\n]*\n([^\n]*)", block)
        if found:
            pressure = max((float(v) for v in found.group(1).split() if v != "-"), default=0.0)
        out.append({"cycles": num["Total Cycles"] / num["Iterations"],
                    "instructions": num["Instructions"] / num["Iterations"],
                    "dispatch": num["Dispatch Width"], "pressure": pressure})
    return out


_VECTOR = re.compile(r"\b([vqdsbh]\d+)\b")


def regions(asm: str) -> list[list[str]]:
    """The instruction lines of each LLVM-MCA region of `asm`, in order."""
    out, cur = [], None
    for line in asm.splitlines():
        s = line.strip()
        if "LLVM-MCA-BEGIN" in s:
            cur = []
        elif "LLVM-MCA-END" in s:
            out.append(cur)
            cur = None
        elif cur is not None and s and not s.startswith(("//", "#", ".")) and not s.endswith(":"):
            cur.append(line)
    return out


def vector_only(lines: list[str]) -> tuple[str, int]:
    """The region without its scalar instructions (loop counter, pointer arithmetic, compare and
    branch: no vector register operand), as an llvm-mca region, and how many were dropped."""
    kept = [ln for ln in lines if _VECTOR.search(ln.split(None, 1)[1] if len(ln.split(None, 1)) > 1 else "")]
    return "# LLVM-MCA-BEGIN v\n" + "\n".join(kept) + "\n# LLVM-MCA-END\n", len(lines) - len(kept)


def mnemonic_delta(program, stack, lines: list[str]) -> str:
    """Vector mnemonics the compiled loop has more (+) or fewer (-) of than the Program's loop body."""
    from collections import Counter

    want = Counter(program.isa[n.op].mnemonic for n in stack[-1].body if hasattr(n, "op"))
    got = Counter(ln.split()[0] for ln in lines
                  if _VECTOR.search(ln.split(None, 1)[1] if len(ln.split(None, 1)) > 1 else ""))
    # loads, stores and register moves are left out: the compiler spells the Program's ld1/st1 of
    # 1-4 registers as ldr/ldp q and adds or drops copies, which move no vector-pipe work
    delta = {m: got[m] - want[m] for m in set(want) | set(got)
             if got[m] != want[m] and m not in ("ld1", "ldr", "ldp", "ldur", "st1", "str", "stp", "mov", "movi")}
    return ", ".join(f"{m} {d:+d}" for m, d in sorted(delta.items()))


def dominant_loop(program) -> int:
    """Index (emit_asm order) of the innermost loop with the most dynamic instructions."""
    from kernels.codegen.c_emit import innermost_loops

    best, weight = 0, -1
    for k, stack in enumerate(innermost_loops(program)):
        trips = 1
        for lp in stack:
            trips *= lp.trip
        n = trips * sum(1 for node in stack[-1].body if hasattr(node, "op"))
        if n > weight:
            best, weight = k, n
    return best


def explain(row: Row, machine) -> str:
    """The cause of a difference over THRESHOLD, from both sides' own figures (empty if within)."""
    if abs(row.diff) <= THRESHOLD:
        return ""
    causes = []
    extra = row.asm_instrs - row.program_instrs
    width = machine.dispatch_width
    if row.mca > row.model and extra > 0 and row.asm_instrs / row.mca_dispatch >= 0.85 * row.mca:
        causes.append(f"llvm-mca's loop is {row.asm_instrs:.0f} instructions ({extra:+.0f} loop control and "
                      f"address arithmetic the Program does not have) at {row.mca_dispatch}/cycle: "
                      f"{row.asm_instrs / row.mca_dispatch:.2f} cycles of issue alone")
    if row.model > row.mca and row.program_instrs / width >= 0.85 * row.model and width < row.mca_dispatch:
        causes.append(f"machine dispatch_width {width} ({machine.source_of(f'{machine.engine}.dispatch_width')[:160]}) "
                      f"against llvm-mca's {row.mca_dispatch}: {row.program_instrs}/{width} = "
                      f"{row.program_instrs / width:.2f} cycles")
    if row.mca > row.model and row.mca_pressure >= 0.85 * row.mca and not causes:
        causes.append(f"llvm-mca's busiest pipe holds {row.mca_pressure:.2f} cycles per iteration of the compiled "
                      f"loop (its extra {extra:+.0f} instructions included), the model's binding bound is "
                      f"{row.model_binding}")
    if row.scalar_instrs and abs(row.model / row.mca_vector_only - 1) <= THRESHOLD < abs(row.diff):
        causes.append(f"the compiled loop's {row.scalar_instrs} scalar instructions (loop counter, pointer "
                      f"updates, compare and branch; the Program's loops have none): llvm-mca on the same loop "
                      f"without them gives {row.mca_vector_only:.2f} cycles, within {THRESHOLD:.0%} of the model"
                      + (f" (in order they also wait for older vector results to write back first: "
                         f"{machine.source_of('inorder.writeback_in_order')[:150]})"
                         if machine.engine == "inorder" and machine.writeback_in_order else ""))
    if row.rewritten and (not causes or row.model < row.mca):
        causes.append(f"clang's instruction selection changed the loop's vector work against the Program's "
                      f"(compiled minus Program mnemonics: {row.rewritten}), so llvm-mca times other "
                      f"instructions than the model"
                      + ("; and in clang's order, where the model issues its own list schedule of the Program "
                         "(machine [inorder] list_schedule)" if machine.engine == "inorder" else ""))
    if not causes:
        causes.append(f"latency/scheduling: model binding {row.model_binding}; llvm-mca's busiest pipe "
                      f"{row.mca_pressure:.2f} of {row.mca:.2f} cycles (dependency chains through the "
                      f"compiled loop's registers and loop control)")
    return "; ".join(causes)


def measure(projections=PROJECTIONS) -> tuple[list[Row], dict]:
    from isa_models.core.machine import load_machine, machine_names
    from isa_models.core.timing import time_program
    from kernels import registry
    from kernels.codegen import emit_asm
    from kernels.codegen.c_emit import innermost_loops, program_requirements
    from workbench.reference import get_preset

    config = get_preset("bitnet-b1.58-2B-4T")
    shapes = []
    for p in projections:
        s = config.projection_shape(p)
        if s not in shapes:
            shapes.append(s)
    machines = [load_machine(n, isa=ISA) for n in machine_names(isa=ISA)]
    rows: list[Row] = []
    for spec in registry.kernels(ISA):
        for shape in shapes:
            m_rows, k_cols = shape
            params = spec.resolve()
            if not spec.supports(m_rows, k_cols, **params):
                continue
            program = spec.build(m_rows, k_cols, **params)
            dom = dominant_loop(program)
            stack = innermost_loops(program)[dom]
            n_prog = sum(1 for node in stack[-1].body if hasattr(node, "op"))
            asm = emit_asm(program, compiler=COMPILER)
            lines = regions(asm)[dom]
            rewritten = mnemonic_delta(program, stack, lines)
            vec, n_scalar = vector_only(lines)
            mattr = ",".join(MATTR[f] for f in program_requirements(program) if f in MATTR)
            for machine in machines:
                row = Row(spec.name, machine.name, shape, stack[-1].index, program_instrs=n_prog)
                missing = machine.missing_extensions(program)
                if missing:
                    row.refused = "lacks " + ", ".join(sorted({e for v in missing.values() for e in v}))
                    rows.append(row)
                    continue
                res = time_program(program, machine)
                lr = res.loop(stack[-1].index)
                row.model, row.model_binding = lr.body_cycles_per_iteration, lr.binding
                region = llvm_mca(asm, machine.mca_cpu, mattr)[dom]
                row.mca, row.asm_instrs = region["cycles"], region["instructions"]
                row.mca_dispatch, row.mca_pressure = region["dispatch"], region["pressure"]
                row.scalar_instrs, row.rewritten = n_scalar, rewritten
                row.mca_vector_only = llvm_mca(vec, machine.mca_cpu, mattr)[0]["cycles"]
                rows.append(row)
    return rows, {m.name: m for m in machines}


def render(rows: list[Row], machines: dict) -> str:
    lines = [f"### NEON model against llvm-mca 19, `{script_path(__file__)}`", "",
             "Cycles per iteration of each kernel's dominant innermost loop on the 2B-4T shapes: the model "
             "(`time_program` on the machine) against `llvm-mca-19 -mcpu=<machine's mca_cpu>` on the same loop "
             f"compiled by {COMPILER} (`kernels.codegen.emit_asm`; loop control and address arithmetic "
             f"included, {ITERATIONS} iterations). difference = model / llvm-mca - 1; over "
             f"{THRESHOLD:.0%} the cause is given. Program / asm = instructions per iteration in the Program "
             "and in the compiled loop.", ""]
    lines += ["| machine (mca_cpu) | kernel | shape | loop | model | llvm-mca | difference | Program / asm | cause (over 15%) |",
              "|---|---|---|---|---|---|---|---|---|"]
    per_machine: dict[str, list[float]] = {}
    for r in rows:
        m = machines[r.machine]
        head = f"{r.machine} ({m.mca_cpu})"
        shape = f"{r.shape[0]}x{r.shape[1]}"
        if r.refused:
            lines.append(f"| {head} | {r.kernel} | {shape} | - | refused: {r.refused} | - | - | - | - |")
            continue
        per_machine.setdefault(r.machine, []).append(abs(r.diff))
        lines.append(f"| {head} | {r.kernel} | {shape} | {r.loop} | {r.model:.2f} | {r.mca:.2f} | {r.diff:+.0%} | "
                     f"{r.program_instrs} / {r.asm_instrs:.0f} | {explain(r, m)} |")
    lines += ["", "| machine | mca_cpu | kernels x shapes | mean abs(difference) | over 15% |", "|---|---|---|---|---|"]
    for name, diffs in per_machine.items():
        over = sum(d > THRESHOLD for d in diffs)
        lines.append(f"| {name} | {machines[name].mca_cpu} | {len(diffs)} | {sum(diffs) / len(diffs):.1%} | {over} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default=",".join(PROJECTIONS), help="2B-4T projections whose shapes to use")
    ap.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    for tool in (MCA, COMPILER):
        if shutil.which(tool) is None:
            print(f"{NAME}: skipped: needs {tool} on PATH (Debian: llvm-19, clang-19; `make test` installs them)",
                  file=sys.stderr)
            return 0
    rows, machines = measure(tuple(p for p in args.shapes.split(",") if p))
    publish(NAME, render(rows, machines), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Probe: the NEON machines' [classes] tables, read from LLVM 19's scheduling models with llvm-mca-19.

Host probe (no Arm hardware needed; research/isa.md §2.1, §2.3). For every scheduling class of
`isa_models.neon.ISA` it renders one representative instruction from the form's own asm template,
runs ``llvm-mca-19 -mtriple=aarch64 -mcpu=<machine's mca_cpu> -instruction-tables`` and turns the
latency and pipe cycles into the class entry: equal shares over a pipe group = one micro-op on the
group, n cycles on one pipe = one micro-op holding it n cycles (the A510 model's one-pipe
ReleaseAtCycles over a group is kept as one micro-op), tied accumulators get the chain latency
llvm-mca measures through input 0, and the in-order rules the .td files state (A55 Q forms:
BeginGroup on both FPALU halves; A510 multi-cycle: BeginGroup; FP multiply-accumulate: RetireOOO).
A class the model lacks copies the nearest form it times, and says so. It rewrites only the
[classes] table of each isa_models/machines/neon/<name>.toml (everything above it is sourced by
hand) and refuses a class needing a port or group the file's [ports] lacks.
Usage: .venv/bin/python benchmarks/probes/aarch64/neon_mca_classes.py [--check]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
MACHINES = ROOT / "isa_models" / "machines" / "neon"
TD = {"cortex-a55": "llvm/lib/Target/AArch64/AArch64SchedA55.td (llvm/llvm-project 1d7cce3f3b45f1f0a59cbc16133ded99968348da)",
      "cortex-a510": "llvm/lib/Target/AArch64/AArch64SchedA510.td (llvm/llvm-project 48f247b793e4775802ca169a55c31442abfda960)",
      "neoverse-n1": "llvm/lib/Target/AArch64/AArch64SchedNeoverseN1.td",
      "neoverse-n2": "llvm/lib/Target/AArch64/AArch64SchedNeoverseN2.td",
      "neoverse-v2": "llvm/lib/Target/AArch64/AArch64SchedNeoverseV2.td",
      "oryon-1": "llvm/lib/Target/AArch64/AArch64SchedOryon.td"}


def mca(asm_lines, cpu, *, tables=True, iterations=100):
    args = ["llvm-mca-19", "-mtriple=aarch64", f"-mcpu={cpu}", "-mattr=+dotprod,+i8mm,+fullfp16",
            "-json"]
    args += ["-instruction-tables"] if tables else [f"-iterations={iterations}", "-all-views=false", "-summary-view"]
    p = subprocess.run(args, input="\n".join(asm_lines) + "\n", capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(p.stderr[:500])
    return json.loads(p.stdout)

PREFIX = re.compile(r"^(CortexA55Unit|CortexA510Unit|N1Unit|N2Unit|V2Unit|ORYON)")
ORYON = {"P12FP0": "V0", "P13FP1": "V1", "P14FP2": "V2", "P15FP3": "V3", "FP0I4": "I4", "FP1I5": "I5"}

def port_names(resources):
    names = []
    for r in resources:
        base, _, idx = r.partition(".")
        base = PREFIX.sub("", base)
        base = ORYON.get(base, base)
        if base == "L01":            # N2/V2: the two load/store pipes L0, L1 (L2 loads only)
            names.append((base, f"L{ord(idx)}"))
            continue
        names.append((base, base + (str(ord(idx)) if idx else "")))
    return names

def family(name):
    return re.sub(r"(\d+|St)$", "", name) or name

def decompose(press):
    """press: {port: cycles} -> list of (ports tuple, occupancy)."""
    byval = defaultdict(list)
    for p, v in press.items():
        byval[round(v, 2)].append(p)
    uops = []
    for v, ports in sorted(byval.items()):
        fams = defaultdict(list)
        for p in ports:
            fams[family(p)].append(p)
        totals = {f: v * len(ps) for f, ps in fams.items()}
        if all(abs(t - round(t)) < 0.05 and round(t) >= 1 for t in totals.values()):
            sets = [(tuple(sorted(ps)), totals[f]) for f, ps in fams.items()]
        else:
            sets = [(tuple(sorted(ports)), v * len(ports))]
        for s, total in sets:
            k = len(s)
            T = round(total * 4) / 4
            n = min(k, max(1, round(T)))
            occ_total = max(n, round(T))
            occs = [occ_total // n + (1 if i < occ_total % n else 0) for i in range(n)]
            for o in occs:
                uops.append((s, o))
    return uops

def supported(cpu, asm):
    try:
        mca([asm], cpu)
        return True
    except RuntimeError:
        return False

def vector_form(asm):
    """The by-element form's vector twin: sdot v0.4s, v1.16b, v2.4b[1] -> sdot v0.4s, v1.16b, v2.16b."""
    import re as _re
    return _re.sub(r"v(\d+)\.(4b|h|s|b)\[\d\]$", lambda m: "v%s.%s" % (m.group(1), {"4b": "16b", "h": "8h", "s": "4s", "b": "16b"}[m.group(2)]), asm)

FALLBACK = [(r"^[su]shl (v0\.(\w+)), (v1\.\w+), v2\.\w+$", r"shl \1, \3, #3"),
            (r"^ldr (x\d+), \[(x\d+)\]$", r"ldur \1, [\2, #1]"), (r"^sudot ", "usdot "), (r"^cmtst ", "cmeq "), (r"^smlsl", "smlal"), (r"^umlsl", "umlal"), (r"^uabal", "sabal"),
            (r"^(fmax|fmin|fneg|fabs|scvtf|ucvtf|fcvtzs|fcvtzu|fcvtns) (v0\.(\w+)), (v1\.\w+)(, v2\.\w+)?$",
             r"fadd \2, \4, \4")]

def fallback(asm):
    import re as _re
    for pat, rep in FALLBACK:
        if _re.search(pat, asm):
            return _re.sub(pat, rep, asm)
    return asm

def class_table(cpu, reps):
    reps = dict(reps)
    subst = {}
    try:
        mca(list(reps.values()), cpu)
    except RuntimeError:
        for n, a in list(reps.items()):
            if not supported(cpu, a):
                cands = [vector_form(a), fallback(a), fallback(vector_form(a))]
                alt = next((c for c in cands if c != a and supported(cpu, c)), None)
                if alt is None:
                    raise
                reps[n] = alt
                subst[n] = a
    names = list(reps)
    data = mca([reps[n] for n in names], cpu)
    region = data["CodeRegions"][0]
    info = region["InstructionInfoView"]["InstructionList"]
    res = port_names(data["TargetInfo"]["Resources"])
    press = defaultdict(dict)
    for e in region["ResourcePressureView"]["ResourcePressureInfo"]:
        if e["InstructionIndex"] < len(names):
            press[e["InstructionIndex"]][res[e["ResourceIndex"]][1]] = e["ResourceUsage"]
    out = {}
    for i, n in enumerate(names):
        out[n] = dict(asm=reps[n], latency=info[i]["Latency"], llvm_uops=info[i]["NumMicroOpcodes"],
                      rthr=info[i]["RThroughput"], load=info[i]["mayLoad"], store=info[i]["mayStore"],
                      pressure=press[i], uops=decompose(press[i]), substituted=subst.get(n))
    return out

def acc_latency(cpu, asm):
    """Cycles per iteration of a chain through the accumulator (operand 0) only."""
    d = mca([asm] * 4, cpu, tables=False, iterations=200)
    s = d["CodeRegions"][0]["SummaryView"]
    return s["TotalCycles"] / (s["Iterations"] * 4)


PH = re.compile(r"\{([oi])(\d+)(?::(\.?[0-9a-z]+))?\}")

def render(d):
    nregs = {"v": 0, "x": 0}
    regs = {}
    def reg(key, kind):
        if key not in regs:
            if kind == "v":
                regs[key] = nregs["v"]; nregs["v"] += 1
            else:
                regs[key] = 9 + nregs["x"]; nregs["x"] += 1
        return regs[key]
    specs = {("o", k): s for k, s in enumerate(d.outs)} | {("i", k): s for k, s in enumerate(d.ins)}
    rng = d.attrs.get("imm_range", (1, 1))
    def sub(m):
        io, k, arr = m.group(1), int(m.group(2)), m.group(3)
        s = specs[(io, k)]
        if s.kind == "mem":
            return "[x0]"
        if s.kind == "imm":
            return str(min(max(rng[0], 1), rng[1]))
        if s.kind == "x" or arr in ("x", "w"):
            return f"{arr or 'x'}{reg((io, k), 'x')}"
        n = reg((io, k), "v")
        if arr and arr.startswith("."):
            return f"v{n}{arr}"
        if arr in ("b", "h", "s", "d", "q") and not d.asm[m.end():].startswith("["):
            return f"{arr}{n}"
        return f"v{n}.{arr}"
    text = PH.sub(sub, d.asm).replace("{{", "{").replace("}}", "}")
    return text



def group_name(ports):
    fams = {family(p) for p in ports}
    if len(fams) == 1:
        f = fams.pop()
        return f + "".join(p[len(f):] for p in ports)
    return "_".join(ports)


def class_entries(machine: dict, isa) -> list[str]:
    """The [classes] lines of one machine file (`machine`: its parsed TOML)."""
    cpu = machine["machine"]["mca_cpu"]
    kind = "inorder" if "inorder" in machine else "ooo"
    names = set(machine["ports"]["names"]) | set(machine["ports"].get("groups", {}))
    reps, tied, loads = {}, set(), set()
    for d in isa.instructions.values():
        if d.sched_class not in reps:
            reps[d.sched_class] = render(d)
            if 0 in d.tied:
                tied.add(d.sched_class)
            if any(spec.kind == "mem" for spec in d.ins):
                loads.add(d.sched_class)
    table = class_table(cpu, reps)
    q = lambda v: json.dumps(v, ensure_ascii=False)   # noqa: E731
    lines = []
    for c in sorted(reps):
        e = table[c]
        uops = e["uops"]
        if cpu == "cortex-a510" and len(uops) > 1 and len(set(uops)) == 1 and uops[0][1] == 1 \
                and len(uops) == len(uops[0][0]):
            uops = [(uops[0][0], len(uops))]       # SchedWriteRes<[group]> ReleaseAtCycles = [n]: one pipe, n cycles
        plist = [s[0] if len(s) == 1 else group_name(s) for s, _ in uops]
        occ = [o for _, o in uops]
        unknown = sorted(set(plist) - names)
        if unknown:
            raise SystemExit(f"{cpu}: class {c} needs ports/groups {unknown} missing from the file's [ports]")
        lat = e["latency"]
        keys = [f"latency = {lat}", f"uops = {len(plist)}", f"ports = {q(plist)}"]
        if any(o != 1 for o in occ):
            keys.append(f"occupancy = {occ if len(set(occ)) > 1 else occ[0]}")
        notes = []
        if c in tied:
            acc = acc_latency(cpu, e["asm"])
            acc_i = max(1, round(acc))
            if acc_i < lat and abs(acc - acc_i) < 0.05:
                keys.append(f'operand_latency = {{ "0" = {acc_i} }}')
                notes.append(f"accumulator (input 0) forwarded: a chain through it runs {acc:.2f} cycles/instruction "
                             f"in llvm-mca (late-read accumulator, ReadAdvance)")
        if c in loads:
            keys.append("includes_load = true")
        if kind == "inorder":
            if cpu == "cortex-a55" and len(plist) == 2 and all(p == "FPALU01" for p in plist):
                keys.append("begin_group = true")
                notes.append("Q form: CortexA55WriteVq takes both 64-bit FPALU halves (two uops here) with "
                             "BeginGroup = 1 (issues first of its pair)")
            if cpu == "cortex-a510" and any(o > 1 for o in occ) and any("VALU" in p for p in plist):
                keys.append("begin_group = true")
                notes.append("CortexA510MCWrite: multi-cycle on one VALU with BeginGroup = 1")
            if re.match(r"^fml[as]\b", e["asm"]):
                keys.append("retire_ooo = true")
                notes.append("FP multiply-accumulate: RetireOOO = 1 in the LLVM model")
        if e.get("substituted"):
            notes.append(f"the {cpu} model has no scheduling entry for `{e['substituted']}` (llvm-mca-19 refuses it): "
                         f"copies `{e['asm']}`, the nearest form it times")
        pres = ", ".join(f"{p} {v:g}" for p, v in sorted(e["pressure"].items()))
        src = f"[mca19 {cpu}] `{e['asm']}`: latency {lat}, rthr {e['rthr']:g}, pipe cycles {pres} ({TD[cpu]})"
        if notes:
            src += "; " + "; ".join(notes)
        keys.append(f"source = {q(src)}")
        lines.append(f'{q(c)} = {{ {", ".join(keys)} }}')
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report files whose [classes] would change")
    args = ap.parse_args(argv)
    from isa_models.neon import ISA

    stale = 0
    for path in sorted(MACHINES.glob("*.toml")):
        text = path.read_text()
        head, sep, _ = text.partition("\n[classes]\n")
        if not sep:
            raise SystemExit(f"{path}: no [classes] table")
        new = head + sep + "\n".join(class_entries(tomllib.loads(text), ISA)) + "\n"
        if new != text:
            stale += 1
            print(f"{path.name}: [classes] {'out of date' if args.check else 'rewritten'}")
            if not args.check:
                path.write_text(new)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

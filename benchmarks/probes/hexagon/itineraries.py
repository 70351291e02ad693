"""Write the ``[classes]`` tables of the HVX machine files from LLVM's Hexagon itineraries.

Host probe for the HVX machines (isa_models/machines/hvx/*.toml): builds `itinerary_dump.cpp`
against an installed LLVM (clang++, llvm-config-N, libLLVM-N), dumps every Hexagon opcode's
itinerary for the machine's own CPU (slots, HVX units, operand stage cycles), and rewrites the
text between ``# BEGIN classes`` and ``# END classes`` of each machine file with one entry per
scheduling class of `isa_models.hvx` (``hvx.<LLVM opcode>``): slots, resource requirements, def
stage and one use stage per input of the form, in the form's input order. `CPU_OF` says which
LLVM regenerates which machine: LLVM 19 (the CI's toolchain) for v69 and v73; LLVM 22 for v75 and
v79 (LLVM 19 has no such CPU; Debian's ``llvm-22-dev``, the HexagonScheduleV75/V79.td and
DepHVXItinV75/V79 lists of its release), each entry saying whether it equals LLVM 22's hexagonv73
itinerary. Run: ``python benchmarks/probes/hexagon/itineraries.py [--machines a,b] [--check]``
(``--check`` writes nothing and exits 1 when a file would change; a machine whose LLVM is not
installed is an error naming the package, unless ``--machines`` leaves it out).

Operand mapping (LLVM operand list -> the form's inputs): LLVM lists defs first, then uses; a
tied accumulator is a use; a register pair (``HvxWR``, ``DoubleRegs``) is two inputs of the form
with the same stage; an address (base register + immediate offset) is the form's one memory
input (the base register's stage) or, for a store, no input at all.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

MACHINES = ROOT / "isa_models" / "machines" / "hvx"
DUMPER = Path(__file__).with_name("itinerary_dump.cpp")

#: LLVM 19 FuncUnit bit order (HexagonScheduleV69/V73.td ProcessorItineraries)
UNIT_BITS = ["SLOT0", "SLOT1", "SLOT2", "SLOT3", "SLOT_ENDLOOP", "CVI_ST", "CVI_XLANE", "CVI_SHIFT", "CVI_MPY0",
             "CVI_MPY1", "CVI_LD", "CVI_XLSHF", "CVI_MPY01", "CVI_ALL", "CVI_ALL_NOMEM", "CVI_ZW"]

#: an HVX stage's unit set (alternatives, LLVM names) -> the machine file's requirement name
REQUIREMENTS = {
    frozenset({"CVI_MPY0", "CVI_MPY1", "CVI_SHIFT", "CVI_XLANE"}): "VA",
    frozenset({"CVI_MPY01", "CVI_XLSHF"}): "VA_DV",
    frozenset({"CVI_MPY0", "CVI_MPY1"}): "VX",
    frozenset({"CVI_MPY01"}): "VX_DV",
    frozenset({"CVI_XLSHF"}): "VP_VS",
    frozenset({"CVI_SHIFT", "CVI_XLANE"}): "VS_VP",
    frozenset({"CVI_XLANE"}): "XLANE",
    frozenset({"CVI_SHIFT"}): "SHIFT",
    frozenset({"CVI_LD"}): "LD",
    frozenset({"CVI_ST"}): "ST",
    frozenset({"CVI_ALL"}): "ALL",
    frozenset({"CVI_ALL_NOMEM"}): "ALL_NOMEM",
    frozenset({"CVI_ZW"}): "ZW",
}

#: machine file -> (LLVM major version, its CPU, a CPU of the same LLVM each entry is compared with
#: or None). LLVM 19 has no v75/v79 CPU: those come from LLVM 22 and each of their entries says
#: whether it equals hexagonv73's (isa_models/machines/README.md gives the result)
CPU_OF = {
    "snapdragon-8-gen-1": (19, "hexagonv69", None),
    "snapdragon-8-gen-2": (19, "hexagonv73", None),
    "snapdragon-8-gen-3": (22, "hexagonv75", "hexagonv73"),
    "snapdragon-8-elite": (22, "hexagonv79", "hexagonv73"),
}

PAIR_CLASSES = ("HvxWR", "DoubleRegs")


def build_dumper(workdir: Path, major: int, machines) -> tuple[Path, str]:
    """Compile the dumper against the installed LLVM `major`; returns (executable, LLVM version)."""
    config = shutil.which(f"llvm-config-{major}")
    cxx = shutil.which(f"clang++-{major}") or shutil.which("clang++-19") or shutil.which("clang++")
    if not cxx or not config:
        raise SystemExit(f"{', '.join(machines)}: needs LLVM {major} (llvm-config-{major}, Debian package "
                         f"llvm-{major}-dev) and a clang++; or leave them out with --machines")
    flags = lambda *a: subprocess.run([config, *a], check=True, capture_output=True, text=True).stdout.split()  # noqa: E731
    exe = workdir / f"itinerary_dump{major}"
    subprocess.run([cxx, "-std=c++17", "-Wno-deprecated-declarations", *flags("--cxxflags"), str(DUMPER), "-o",
                    str(exe), *flags("--ldflags"), f"-lLLVM-{major}", f"-Wl,-rpath,{flags('--libdir')[0]}"],
                   check=True)
    return exe, flags("--version")[0]


def dump(exe: Path, cpu: str) -> dict[str, dict]:
    """opcode -> {ndefs, stages: [(cycles, units, next)], ops: [class], cycles: [stage]}."""
    out = subprocess.run([str(exe), cpu], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        m = re.match(r"(\S+) ndefs=(\d+) stages=(\S*) ops=(\S*) cycles=(\S*)$", line)
        if not m:
            continue
        stages = []
        for st in filter(None, m.group(3).split(";")):
            c, u, n = st.split(":")
            stages.append((int(c), {UNIT_BITS[b] for b in range(len(UNIT_BITS)) if int(u, 16) >> b & 1}, int(n)))
        table[m.group(1)] = {"ndefs": int(m.group(2)), "stages": stages,
                             "ops": [o for o in m.group(4).split(",") if o],
                             "cycles": [int(c) for c in m.group(5).split(",") if c]}
    return table


def hvx_forms():
    """Every form of the HVX ISA (importing each family module of the package registers them)."""
    import isa_models.hvx as pkg
    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"isa_models.hvx.{mod.name}")
    from isa_models.hvx.forms import HVX
    return HVX.instructions.values()


def class_entry(d, info: dict) -> dict:
    """The machine-file entry of form `d` from its opcode's itinerary `info`."""
    slot_stages, resources = [], []
    for _, units, _ in info["stages"]:
        if units and all(u.startswith("SLOT") for u in units):
            ids = sorted(int(u[4:]) for u in units if u != "SLOT_ENDLOOP")
            if ids:
                slot_stages.append(ids)
            continue
        key = frozenset(units)
        if key not in REQUIREMENTS:
            raise SystemExit(f"{d.llvm}: unknown unit set {sorted(units)}")
        resources.append(REQUIREMENTS[key])
    if len(slot_stages) > 1:                 # one slot per stage, all taken (vmemu: slots 0 and 1)
        slot_list = [sorted({s for ids in slot_stages for s in ids})]
    else:
        slot_list = slot_stages[0] if slot_stages else [0, 1, 2, 3]
    ndefs, ops, cycles = info["ndefs"], info["ops"], info["cycles"]
    def_stage = cycles[0] if ndefs and cycles else max(cycles[ndefs:] or [0])
    uses = list(zip(ops[ndefs:], cycles[ndefs:] + [None] * len(ops)))
    use_stages = map_inputs(d, uses)
    return {"slots": slot_list, "resources": resources, "def_stage": def_stage, "use_stages": use_stages}


def map_inputs(d, uses: list[tuple[str, int | None]]) -> list[int]:
    """One stage per input of form `d` from the LLVM use operands (module doc): each input takes
    the first unused LLVM operand of its kind (LLVM lists a predicate before the tied accumulator
    in the conditional forms, the form lists the accumulator first)."""
    stages, taken = [], set()
    if any(s.is_mem for s in d.outs) and not any(s.is_mem for s in d.ins):
        taken |= _address(uses, 0)                        # a store's address: no input of the form
    kinds = {"v": ("HvxVR", "HvxWR"), "q": ("HvxQR",), "imm": ("imm",),
             "r": ("IntRegs", "IntRegsLow8", "DoubleRegs", "GeneralSubRegs")}
    half: int | None = None
    high = {b: a for kind, a, b in d.attrs.get("pairs", ()) if kind == "i"}
    for i, spec in enumerate(d.ins):
        if half is not None or i in high:                 # the high half of a pair: the low half's stage
            stages.append(stages[high.get(i, i - 1)])
            half = None
            continue
        want = ("IntRegs",) if spec.is_mem else kinds.get(spec.kind, ())
        k = next((k for k, (cls, _) in enumerate(uses) if k not in taken and cls in want), None)
        if k is None:
            raise SystemExit(f"{d.name} ({d.llvm}): no LLVM operand left for an input of kind {spec.kind} "
                             f"in {uses}")
        cls, stage = uses[k]
        stages.append(stage if stage is not None else 0)
        taken |= _address(uses, k) if spec.is_mem else {k}
        if cls in PAIR_CLASSES:
            half = k
    return stages


def _address(uses, k: int) -> set[int]:
    """The operands of an address starting at `k`: a base register, then immediates/modifiers."""
    out = {k} if k < len(uses) and uses[k][0].startswith("IntRegs") else set()
    j = k + 1
    while j < len(uses) and uses[j][0] in ("imm", "ModRegs"):
        out.add(j)
        j += 1
    return out


def version(path: Path) -> int:
    """The ``[vliw] version`` of a machine file."""
    return int(re.search(r"^version = (\d+)", path.read_text(), re.M).group(1))


def render(entries: dict[str, dict], header: str, sources: dict[str, str]) -> str:
    lines = [f"# BEGIN classes (generated by benchmarks/probes/hexagon/itineraries.py from {header})"]
    for cls in sorted(entries):
        e = entries[cls]
        slots = "[" + ", ".join(str(s) if isinstance(s, int) else "[" + ", ".join(map(str, s)) + "]"
                                for s in e["slots"]) + "]"
        res = "[" + ", ".join(f'"{r}"' for r in e["resources"]) + "]"
        uses = "[" + ", ".join(map(str, e["use_stages"])) + "]"
        lines.append(f'"{cls}" = {{ slots = {slots}, resources = {res}, def_stage = {e["def_stage"]}, '
                     f'use_stages = {uses}, source = "{sources[cls]}" }}')
    lines.append("# END classes")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report differences, write nothing")
    ap.add_argument("--machines", default=",".join(CPU_OF),
                    help=f"comma-separated machine files to regenerate (default: {','.join(CPU_OF)})")
    args = ap.parse_args(argv)
    chosen = [m for m in args.machines.split(",") if m]
    unknown = sorted(set(chosen) - set(CPU_OF))
    if unknown:
        raise SystemExit(f"unknown machine {unknown[0]!r}; known: {', '.join(CPU_OF)}")
    forms = sorted(hvx_forms(), key=lambda d: d.sched_class)
    tables: dict[tuple[int, str], dict] = {}
    releases: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for major in sorted({CPU_OF[m][0] for m in chosen}):
            exe, releases[major] = build_dumper(Path(tmp), major, [m for m in chosen if CPU_OF[m][0] == major])
            cpus = {c for m in chosen if CPU_OF[m][0] == major for c in CPU_OF[m][1:] if c}
            tables.update({(major, cpu): dump(exe, cpu) for cpu in sorted(cpus)})
    changed = 0
    for machine in chosen:
        major, cpu, base = CPU_OF[machine]
        path = MACHINES / f"{machine}.toml"
        text = path.read_text()
        if not cpu.endswith(str(version(path))):
            raise SystemExit(f"{path}: [vliw] version {version(path)} is not {cpu}'s (CPU_OF)")
        entries, sources, same = {}, {}, 0
        for d in forms:
            info = tables[(major, cpu)].get(d.attrs["llvm"])
            if info is None:
                raise SystemExit(f"{d.name}: LLVM {releases[major]} has no opcode {d.attrs['llvm']}")
            e = class_entry(_Named(d), info)
            old = entries.get(d.sched_class)
            if old is not None and old != e:
                # forms sharing an opcode (an alias reading a pair where the instruction reads one
                # register, e.g. vlo/vhi as V6_vassign): keep the longest stage list, whose prefix
                # is the shorter one
                short, long_ = sorted((old, e), key=lambda x: len(x["use_stages"]))
                if long_["use_stages"][:len(short["use_stages"])] != short["use_stages"] or \
                        {k: v for k, v in old.items() if k != "use_stages"} != \
                        {k: v for k, v in e.items() if k != "use_stages"}:
                    raise SystemExit(f"{d.sched_class}: forms disagree ({old} vs {e})")
                e = long_
            entries[d.sched_class] = e
            tag = f"[llvm{major}-itin {cpu}" + ("" if major == 19 else f" @llvmorg-{releases[major]}") + "]"
            note = ""
            if base is not None:
                ref = tables[(major, base)][d.attrs["llvm"]]
                equal = (ref["stages"], ref["cycles"]) == (info["stages"], info["cycles"])
                same += equal
                note = f"; {'equal to' if equal else 'differs from'} {base}'s itinerary"
            sources[d.sched_class] = (f"{tag} {d.attrs['llvm']}: operand cycles "
                                      f"{','.join(map(str, info['cycles']))}{note}")
        header = f"LLVM {releases[major]} {cpu}"
        if base is not None:
            v = cpu.removeprefix("hexagon").upper()
            header += (f": llvmorg-{releases[major]} llvm/lib/Target/Hexagon/HexagonSchedule{v}.td over the "
                       f"DepHVXItin{v}/DepScalarItin{v} lists of HexagonDepIICHVX.td/HexagonDepIICScalar.td; "
                       f"{same} of {len(forms)} forms' itineraries equal its {base}'s")
        block = render(entries, header, sources)
        if "# BEGIN classes" not in text:
            raise SystemExit(f"{path}: no '# BEGIN classes' ... '# END classes' block")
        new = re.sub(r"# BEGIN classes.*?# END classes", lambda _: block, text, flags=re.S)
        if base is not None:
            print(f"{path.relative_to(ROOT)}: {same} of {len(forms)} forms' {cpu} itineraries equal {base}'s "
                  f"(LLVM {releases[major]})")
        if new != text:
            changed += 1
            print(f"{path.relative_to(ROOT)}: {len(entries)} classes" + (" (would change)" if args.check else ""))
            if not args.check:
                path.write_text(new)
    skipped = [m for m in CPU_OF if m not in chosen]
    print(f"{changed} machine file(s) {'differ' if args.check else 'rewritten'}"
          + (f"; not regenerated: {', '.join(skipped)}" if skipped else ""))
    return 1 if args.check and changed else 0


class _Named:
    """A form with its LLVM opcode as ``.llvm`` (for messages)."""

    def __init__(self, d):
        self._d, self.llvm = d, d.attrs["llvm"]

    def __getattr__(self, name):
        return getattr(self._d, name)


if __name__ == "__main__":
    sys.exit(main())

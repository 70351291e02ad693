"""Shared part of the model-only kernel tables: every kernel of an ISA on every machine of it.

Benchmark layer, beside `_common` (run as ``python benchmarks/<script>.py``, so this directory is
on sys.path). `kernel_rows` times every registered kernel of one ISA on every machine file of
that ISA and every 2B-4T projection shape with `time_program` as one decode token does
(``cold=True``: weights streamed from DRAM), and puts each result beside its DRAM roofline (the
packed weight bytes over the machine's per-core DRAM bandwidth). `render_kernel_table` writes the
Markdown (a machine facts table, a 2560x2560 summary, one long table per machine; ISA-specific
columns come from the caller's ``extra`` hook). Used by benchmarks/kernels_model.py (any ISA) and
benchmarks/hvx_kernels.py (adds packets, unit utilisation and the VLIW engine's speed).
"""

from __future__ import annotations

import time
from typing import Callable

from isa_models.core.machine import load_machine, machine_names
from isa_models.core.timing import time_program
from kernels import registry
from workbench.errors import UserError
from workbench.formats import FORMATS, get_format
from workbench.reference import PROJECTIONS, get_preset

__all__ = ["MODEL", "SUMMARY_SHAPE", "shapes_of_model", "parse_shapes", "program_for", "weight_bytes",
           "time_row", "kernel_rows", "machine_facts_table", "summary_table", "render_kernel_table"]

MODEL = "bitnet-b1.58-2B-4T"
#: the shape of the summary table (q and o of 2B-4T)
SUMMARY_SHAPE = (2560, 2560)


def shapes_of_model(model: str = MODEL) -> list[tuple[int, int]]:
    """The distinct (M, K) projection shapes of `model`, sorted (2B-4T: four)."""
    config = get_preset(model)
    return sorted({config.projection_shape(p) for p in PROJECTIONS})


def parse_shapes(text: str) -> list[tuple[int, int]]:
    """``"2560x2560,640x2560"`` -> [(2560, 2560), (640, 2560)]; empty -> the model's shapes.

    Raises
    ------
    UserError : an item is not ``<M>x<K>`` with positive integers.
    """
    out = []
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        parts = item.lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise UserError(f"shape {item!r} is not MxK with positive integers (e.g. 2560x2560)")
        out.append((int(parts[0]), int(parts[1])))
    return out or shapes_of_model()


def program_for(spec, M: int, K: int, machine_name: str):
    """(Program, params) of kernel `spec` for (M, K) on machine `machine_name` (filled into the
    kernel's machine parameter when it has one); a shape it cannot take raises ValueError."""
    params = spec.resolve(**({spec.machine_param: machine_name} if spec.machine_param else {}))
    spec.check_shape(M, K, **params)
    return spec.build(M, K, **params), params


def weight_bytes(spec, M: int, K: int, params: dict) -> int | None:
    """Packed bytes of an (M, K) weight matrix in the kernel's weight format (its layout keys taken
    from the kernel's parameters when set, else the format's default layout); None when the
    format is not one of `workbench.formats.FORMATS` (the NPU's tiles)."""
    if spec.weight_format not in FORMATS:
        return None
    fmt = get_format(spec.weight_format)
    layout = {**fmt.default_layout(M, K),
              **{k: params[k] for k in fmt.layout_keys if params.get(k) is not None}}
    return int(fmt.nbytes(M, K, **layout))


def time_row(spec, machine, shape: tuple[int, int], *, extra: Callable | None = None) -> dict:
    """One kernel x machine x shape: the cold timing, its roofline and `extra(result)`'s fields.

    Returns
    -------
    dict with kernel, exactness, machine, shape, cycles, compute (compute cycles), us (time at the
    machine clock), binding, weight_bytes (None: the bytes the Program moves, ``weight_source``
    says which), roofline (cycles at the per-core DRAM bandwidth), over_roofline, wall (host
    seconds of `time_program`); or kernel, machine, shape and ``skip`` (why it did not run).
    """
    M, K = shape
    base = {"kernel": spec.name, "exactness": spec.exactness, "machine": machine.name, "shape": (M, K)}
    try:
        program, params = program_for(spec, M, K, machine.name)
    except (ValueError, UserError) as exc:
        return {**base, "skip": str(exc)}
    missing = machine.missing_extensions(program)
    if missing:
        return {**base, "skip": "the machine lacks " + ", ".join(sorted(missing))}
    t0 = time.perf_counter()
    r = time_program(program, machine, cold=True)
    wall = time.perf_counter() - t0
    nbytes = weight_bytes(spec, M, K, params)
    source = f"packed weights ({spec.weight_format})"
    if nbytes is None:
        nbytes, source = r.bytes_moved, "bytes the Program moves"
    roof = nbytes / machine.dram_bytes_per_cycle
    row = {**base, "cycles": r.cycles, "compute": r.compute_cycles, "us": r.seconds * 1e6, "binding": r.binding,
           "weight_bytes": nbytes, "weight_source": source, "roofline": roof,
           "over_roofline": r.cycles / roof if roof else float("nan"), "wall": wall}
    if extra is not None:
        row.update(extra(r))
    return row


def kernel_rows(isa: str, shapes, *, extra: Callable | None = None, kernels=None, machines=None) -> list[dict]:
    """`time_row` of every registered kernel of `isa` (or those named in `kernels`) on every
    machine of `isa` (or those named in `machines`) and every shape, kernel-major. Batched
    (prefill) kernels are left out unless named: one of their calls serves N tokens, so their
    cycles are not a matrix-vector product's (benchmarks/prefill_kernels.py times them per token)."""
    specs = ([registry.get(n, isa) for n in kernels] if kernels
             else [s for s in registry.kernels(isa) if not s.batched])
    loaded = [load_machine(n, isa=isa) for n in (machines or machine_names(isa))]
    return [time_row(spec, machine, shape, extra=extra) for spec in specs for machine in loaded for shape in shapes]


def machine_facts_table(machines) -> list[str]:
    """Markdown lines: per machine its engine, clock, per-core DRAM bandwidth and bytes per cycle."""
    lines = ["| machine | engine | clock (GHz) | DRAM per core (GB/s) | DRAM bytes / cycle | description |",
             "|---|---|---|---|---|---|"]
    for m in machines:
        lines.append(f"| {m.name} | {m.engine} | {m.clock_ghz:g} | {m.dram_gbps_core:g} | "
                     f"{m.dram_bytes_per_cycle:.2f} | {m.description} |")
    return lines


def summary_table(rows: list[dict], shape: tuple[int, int] = SUMMARY_SHAPE) -> list[str]:
    """Markdown lines: predicted cycles of every kernel (rows) on every machine (columns) for
    `shape`, the fastest per machine in bold, and a last row naming it with its lead over the
    next kernel. Empty when no row has that shape."""
    timed = [r for r in rows if "skip" not in r and r["shape"] == shape]
    if not timed:
        return []
    machines = list(dict.fromkeys(r["machine"] for r in timed))
    kernels = list(dict.fromkeys(r["kernel"] for r in timed))
    cell = {(r["kernel"], r["machine"]): r for r in timed}
    exactness = {r["kernel"]: r["exactness"] for r in timed}
    best = {m: sorted((r["cycles"], r["kernel"]) for r in timed if r["machine"] == m) for m in machines}
    lines = ["| kernel | " + " | ".join(machines) + " |", "|---" * (len(machines) + 1) + "|"]
    for k in kernels:
        cells = []
        for m in machines:
            r = cell.get((k, m))
            text = "-" if r is None else f"{r['cycles']:.0f}"
            cells.append(f"**{text}**" if r is not None and best[m][0][1] == k else text)
        lines.append(f"| {k} ({exactness[k]}) | " + " | ".join(cells) + " |")
    lead = []
    for m in machines:
        first = best[m][0]
        if len(best[m]) > 1:
            cycles, runner_up = best[m][1]
            tag = "" if exactness[runner_up] == "exact" else f" ({exactness[runner_up]})"
            lead.append(f"{first[1]}, {cycles / first[0]:.2f}x over {runner_up}{tag}")
        else:
            lead.append(first[1])
    lines.append("| fastest (lead over the next) | " + " | ".join(lead) + " |")
    return lines


def render_kernel_table(rows: list[dict], *, title: str, intro: str, machines, shapes,
                        columns: tuple = ()) -> str:
    """The Markdown section: title, intro, machine facts, the 2560x2560 summary, then per machine
    a table kernel x shape with cycles, time, the caller's `columns` (``(header, row -> str)``),
    binding bound, roofline and cycles over it; rows that did not run are listed with the reason."""
    lines = [title, "", intro, ""] + machine_facts_table(machines)
    timed = [r for r in rows if "skip" not in r]
    if not timed:
        lines += ["", "No kernel of this ISA is registered (`kernels/<family>/<isa>.py`): nothing to time."]
    summary = summary_table(rows)
    if summary:
        lines += ["", f"Predicted cycles, {SUMMARY_SHAPE[0]}x{SUMMARY_SHAPE[1]} (q and o), weights from DRAM; "
                      "fastest per machine in bold:", ""] + summary
    for m in machines:
        mine = [r for r in timed if r["machine"] == m.name]
        if not mine:
            continue
        lines += ["", f"#### {m.name}", "",
                  "| kernel | shape | cycles | compute cycles | time (us) | "
                  + "".join(f"{h} | " for h, _ in columns)
                  + "binding bound | weight bytes | DRAM roofline (cycles) | cycles / roofline |",
                  "|---|---|---|---|---|" + "---|" * len(columns) + "---|---|---|---|"]
        for r in mine:
            lines.append(f"| {r['kernel']} ({r['exactness']}) | {r['shape'][0]}x{r['shape'][1]} | {r['cycles']:.0f} | "
                         f"{r['compute']:.0f} | {r['us']:.1f} | " + "".join(f"{fn(r)} | " for _, fn in columns)
                         + f"{r['binding']} | {r['weight_bytes']} | {r['roofline']:.0f} | {r['over_roofline']:.2f} |")
    skipped = [r for r in rows if "skip" in r]
    if skipped:
        lines += ["", "Not run:"]
        lines += [f"- {r['kernel']} on {r['machine']} {r['shape'][0]}x{r['shape'][1]}: {r['skip']}" for r in skipped]
    sources = sorted({r["weight_source"] for r in timed if r["weight_source"] != "bytes the Program moves"})
    if any(r["weight_source"] == "bytes the Program moves" for r in timed):
        lines += ["", "Weight bytes of a format outside `workbench.formats` are the bytes the Program moves."]
    lines += ["", f"Shapes: {', '.join(f'{a}x{b}' for a, b in shapes)}."
              + (f" Weight bytes: {'; '.join(sources)}." if sources else "")]
    return "\n".join(lines)

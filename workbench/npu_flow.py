"""`workbench simulate --isa npu`: a model's projections on the NPU model, optionally against the RTL.

Top of the flow. For each projection of a layer (or of every layer: the whole token) it builds
the NPU kernel's Program (kernels.npu), runs it functionally on the layer's weights and the
reference forward pass's int8 activations, compares every int32 accumulator with
`workbench.reference.ternary_matvec` (equality), and times the lowered command stream with the
NPU cycle model once per unique shape: cycles, stalls by cause, utilization, SRAM words and DRAM
bytes, and tokens/s of the projections at the machine clock. With ``--rtl`` one layer's
command streams also run on the Amaranth RTL in cocotb (`workbench.npu_cosim`, sims/player.py) and the DRAM
integers and cycle counts are put side by side with the model's.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["simulate_npu", "NpuProjection", "NpuRun", "run_npu", "cosimulate_layer", "NPU_VIEWS",
           "RTL_PROJECTIONS"]

NPU_VIEWS = ("summary", "timeline")
#: Projections `simulate --isa npu --rtl` co-simulates when args carry no ``rtl_projections``
#: (None: every projection of the layer).
RTL_PROJECTIONS: tuple[str, ...] | None = None


@dataclass
class NpuProjection:
    """One projection: shape, functional check, and (shared per shape) its cycle-model figures."""

    layer: int
    proj: str
    m: int
    k: int
    status: str
    mismatch: str | None
    timing: dict

    def to_json(self) -> dict:
        return {"layer": self.layer, "proj": self.proj, "M": self.m, "K": self.k, "status": self.status,
                "mismatch": self.mismatch, "cycles": self.timing["total_cycles"],
                "utilization": self.timing["utilization"]}


@dataclass
class NpuRun:
    """Results of `run_npu`: projections, per-shape timings and whole-run totals."""

    machine: object
    model: str
    kernel: str
    layers: list[int]
    projections: list[NpuProjection] = field(default_factory=list)
    shapes: dict = field(default_factory=dict)        # "MxK" -> timing dict (+ plan)
    programs: dict = field(default_factory=dict)      # (M, K) -> (Program, lowered)

    @property
    def verified(self) -> bool:
        return all(p.status == "VERIFIED" for p in self.projections)

    def totals(self) -> dict:
        p = self.machine
        cycles = sum(pr.timing["total_cycles"] for pr in self.projections)
        ideal = sum(pr.timing["ideal_cycles"] for pr in self.projections)
        stalls: dict[str, int] = {}
        dram = {"read": 0, "write": 0}
        sram: dict[str, int] = {}
        for pr in self.projections:
            for key, v in pr.timing["stall_cycles"].items():
                stalls[key] = stalls.get(key, 0) + v
            for key in dram:
                dram[key] += pr.timing["dram"][key]
            for key, v in pr.timing["sram"].items():
                sram[key] = sram.get(key, 0) + v
        seconds = cycles / (p.clock_mhz * 1e6)
        return {"cycles": cycles, "seconds": seconds, "ideal_cycles": ideal,
                "utilization": ideal / cycles if cycles else 0.0, "stall_cycles": stalls,
                "stall_total": sum(stalls.values()), "dram_bytes": dram, "sram_words": sram,
                "macs": sum(pr.m * pr.k for pr in self.projections),
                "tokens_per_s": (1.0 / seconds) if seconds and self.whole_token else None,
                "layer_per_s": (len(self.layers) / seconds) if seconds else None}

    @property
    def whole_token(self) -> bool:
        return len(self.layers) == self.machine_layers

    machine_layers: int = 0

    def to_json(self) -> dict:
        return {"machine": self.machine.to_dict(), "model": self.model, "kernel": self.kernel,
                "layers": self.layers, "verified": self.verified,
                "projections": [p.to_json() for p in self.projections],
                "shapes": {k: {kk: vv for kk, vv in v.items() if kk != "_timing"} for k, v in self.shapes.items()},
                "totals": self.totals()}


def _timing_dict(program, lowered) -> dict:
    from isa_models.npu import time_lowered

    t = time_lowered(lowered)
    d = t.to_dict()
    d["plan"] = program.meta.get("plan")
    d["_timing"] = t
    return d


def run_npu(*, machine: str, model: str, layer: int | None, kernel: str = "npu_gemm", seed: int = 0,
            activations: str = "trace", token_id: int | None = None, progress: bool = True) -> NpuRun:
    """Check and time every projection of `layer` (or all layers) of `model` on NPU `machine`."""
    from isa_models.npu import load_npu_machine, lower
    from kernels.registry import get, read_result
    from workbench.flow import activation_rows, first_mismatch, load_model_weights
    from workbench.reference import PROJECTIONS, ternary_matvec

    params = load_npu_machine(machine)
    spec = get(kernel, "npu")
    weights = load_model_weights(model, seed=seed)
    n_layers = weights.config.num_layers
    if layer is not None and not 0 <= layer < n_layers:
        raise ValueError(f"--layer {layer}: model {model} has layers 0..{n_layers - 1}")
    layers = [layer] if layer is not None else list(range(n_layers))
    rows = activation_rows(weights, source=activations, token_id=token_id, seed=seed)
    run = NpuRun(params, model, kernel, layers, machine_layers=n_layers)
    from isa_models.core.execute import execute

    total = len(layers) * len(PROJECTIONS)
    done = 0
    for li in layers:
        for proj in PROJECTIONS:
            codes = weights.layers[li].projection(proj).codes
            q = rows(li, proj)
            m, k = codes.shape
            if (m, k) not in run.programs:
                prog = spec.build(m, k, machine=params)
                run.programs[(m, k)] = (prog, lower(prog))
                run.shapes[f"{m}x{k}"] = _timing_dict(prog, run.programs[(m, k)][1])
            prog, _ = run.programs[(m, k)]
            state = execute(prog, spec.prepare(codes, q, machine=params))
            acc = read_result(spec, state, M=m, K=k, machine=params)
            ref = ternary_matvec(q[None, :], codes)[0]
            text, _ = first_mismatch(ref, acc)
            run.projections.append(NpuProjection(li, proj, m, k, "FAILED" if text else "VERIFIED", text,
                                                 run.shapes[f"{m}x{k}"]))
            done += 1
            if progress:
                print(f"\r  npu {params.name}: {done}/{total} projections checked", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    return run


def render_npu(run: NpuRun, *, views=("summary",)) -> str:
    p = run.machine
    lines = [f"workbench simulate --isa npu: machine {p.name} ({p.rows}x{p.cols} {p.weight_encoding}, "
             f"{p.clock_mhz:g} MHz, DRAM {p.dram_bytes_per_s / 1e9:.1f} GB/s), model {run.model}, "
             f"kernel {run.kernel}, layers {run.layers[0]}..{run.layers[-1]}",
             f"{'layer':>5} {'proj':<5} {'M x K':>11} {'check':<9} {'cycles':>10} {'util':>6} "
             f"{'stalls':>9} {'DRAM rd B':>11} {'binding':>8}"]
    for pr in run.projections:
        t = pr.timing
        lines.append(f"{pr.layer:>5} {pr.proj:<5} {f'{pr.m}x{pr.k}':>11} {pr.status:<9} "
                     f"{t['total_cycles']:>10,} {100 * t['utilization']:>5.1f}% {t['stall_total']:>9,} "
                     f"{t['dram']['read']:>11,} {t['binding_unit']:>8}"
                     + (f"  {pr.mismatch}" if pr.mismatch else ""))
    tot = run.totals()
    lines.append(f"total: {tot['cycles']:,} cycles = {1e6 * tot['seconds']:,.1f} us at {p.clock_mhz:g} MHz, "
                 f"utilization {100 * tot['utilization']:.1f}% ({tot['macs']:,} MACs), "
                 f"stalls {tot['stall_total']:,}")
    lines.append("  stalls by cause: " + (", ".join(f"{k} {v:,}" for k, v in
                                                     sorted(tot["stall_cycles"].items(), key=lambda kv: -kv[1]))
                                          or "none"))
    lines.append(f"  DRAM bytes: read {tot['dram_bytes']['read']:,}, write {tot['dram_bytes']['write']:,}; "
                 "SRAM words: " + ", ".join(f"{k} {v:,}" for k, v in tot["sram_words"].items()))
    if tot["tokens_per_s"]:
        lines.append(f"  tokens/s (ternary projections only, one array, decode): {tot['tokens_per_s']:,.1f}")
    else:
        lines.append(f"  layers/s (projections of one layer, decode): {tot['layer_per_s']:,.1f}")
    lines.append("  verification: " + ("VERIFIED: every accumulator equals workbench.reference.ternary_matvec"
                                       if run.verified else
                                       f"FAILED in {sum(p.status != 'VERIFIED' for p in run.projections)} "
                                       "projection(s)"))
    for shape, t in run.shapes.items():
        if "summary" in views:
            lines.append(f"-- shape {shape}: plan {json.dumps(t['plan'])}")
            lines.append(t["_timing"].render_text(timeline=12 if "timeline" in views else 0))
    return "\n".join(lines)


def cosimulate_layer(run: NpuRun, layer: int, *, sim: str = "icarus", waves: bool = False,
                     seed: int = 0, activations: str = "trace", token_id: int | None = None,
                     projections=None) -> list[dict]:
    """Run each projection of `layer` (or the named `projections`, in layer order) on the RTL.

    Returns one side-by-side record per projection; an unknown projection name raises ValueError.
    """
    from isa_models.npu import run_commands
    from kernels.registry import get, read_result
    from workbench.flow import activation_rows, first_mismatch, load_model_weights
    from workbench.npu_cosim import run_job
    from workbench.reference import PROJECTIONS, ternary_matvec

    if projections is not None:
        unknown = [p for p in projections if p not in PROJECTIONS]
        if unknown or not projections:
            raise ValueError(f"rtl projections: {unknown[0] if unknown else '(none)'!r} is not a projection; "
                             f"valid: {', '.join(PROJECTIONS)}")
    chosen = [p for p in PROJECTIONS if projections is None or p in projections]
    params = run.machine
    spec = get(run.kernel, "npu")
    weights = load_model_weights(run.model, seed=seed)
    rows = activation_rows(weights, source=activations, token_id=token_id, seed=seed)
    streams, checks = [], []
    for proj in chosen:
        codes = weights.layers[layer].projection(proj).codes
        q = rows(layer, proj)
        prog, lowered = run.programs[codes.shape]
        inputs = spec.prepare(codes, q, machine=params)
        dram = np.zeros(lowered.dram_bytes, dtype=np.uint8)
        for name, arr in inputs.items():
            dram[lowered.dram_base[name]:lowered.dram_base[name] + arr.size] = arr
        streams.append({"name": f"L{layer}.{proj}", "words": lowered.words(), "dram": dram})
        checks.append((proj, codes, q, prog, lowered, inputs))
    results, info = run_job(params, streams, sim=sim, waves=waves)
    out = []
    for (proj, codes, q, prog, lowered, inputs), res in zip(checks, results):
        model_state = run_commands(lowered, inputs)
        base = lowered.dram_base["y"]
        rtl_y = {"y": res["dram"][base:base + prog.buffers["y"].size]}
        rtl_acc = read_result(spec, rtl_y, M=codes.shape[0], K=codes.shape[1], machine=params)
        ref = ternary_matvec(q[None, :], codes)[0]
        text, _ = first_mismatch(ref, rtl_acc)
        if text is None and res["refused_beat"] is not None:
            text = f"the RTL refused a DMA beat at cycle {res['refused_beat']}"
        if text is None and not np.array_equal(rtl_y["y"], model_state["y"]):
            bad = int(np.flatnonzero(rtl_y["y"] != model_state["y"])[0])
            text = f"y byte {bad}: model {model_state['y'][bad]}, RTL {rtl_y['y'][bad]}"
        timing = run.shapes[f"{codes.shape[0]}x{codes.shape[1]}"]["_timing"]
        model_issue = [s.issue for s in timing.schedule]
        first_cycle_diff = next((i for i, (a, b) in enumerate(zip(res["issue"], model_issue)) if a != b), None)
        out.append({"proj": proj, "M": codes.shape[0], "K": codes.shape[1], "commands": len(model_issue),
                    "integers_identical": text is None and res["completed"], "first_mismatch": text,
                    "model_cycles": timing.total_cycles, "rtl_cycles": res["total"],
                    "issue_cycles_identical": res["issue"] == model_issue,
                    "first_issue_difference": first_cycle_diff, "sim_seconds": res["sim_seconds"],
                    "completed": res["completed"]})
    for r in out:
        r["simulator"] = sim
        r["build_seconds"] = info["build_seconds"]
        r["log"] = info["log"]
    return out


def render_cosim(records: list[dict], *, machine: str, layer: int, subset: bool = False) -> str:
    sim = records[0]["simulator"] if records else "?"
    which = ("projections " + ", ".join(r["proj"] for r in records) + ": each one's") if subset else \
        "every projection's"
    lines = [f"RTL co-simulation ({sim}, cocotb) of layer {layer} on {machine}: {which} full command stream",
             f"{'proj':<5} {'M x K':>11} {'cmds':>6} {'integers identical':<19} {'model cyc':>10} "
             f"{'RTL cyc':>10} {'cycles equal':<12} {'sim s':>7}"]
    for r in records:
        ident = "yes" if r["integers_identical"] else f"no: {r['first_mismatch'] or 'did not complete'}"
        equal = "yes" if r["model_cycles"] == r["rtl_cycles"] and r["issue_cycles_identical"] else \
            f"no (cmd {r['first_issue_difference']})"
        lines.append(f"{r['proj']:<5} {str(r['M']) + 'x' + str(r['K']):>11} {r['commands']:>6} {ident:<19} "
                     f"{r['model_cycles']:>10,} {r['rtl_cycles']:>10,} {equal:<12} {r['sim_seconds']:>7.1f}")
    ok = all(r["integers_identical"] and r["model_cycles"] == r["rtl_cycles"] for r in records)
    if records:
        lines.append(f"simulator log: {records[0]['log']}")
    lines.append("co-simulation: " + ("integers and cycle counts identical" if ok else "MISMATCH"))
    return "\n".join(lines)


def simulate_npu(args: argparse.Namespace) -> int:
    """Handler of `workbench simulate --isa npu`; returns 0 verified, 1 mismatch, 2 bad input."""
    views = tuple(v.strip() for v in (getattr(args, "views", None) or "summary").split(",") if v.strip())
    for v in views:
        if v not in NPU_VIEWS:
            raise ValueError(f"--views: {v!r} is not available for --isa npu; valid: {', '.join(NPU_VIEWS)}")
    sim = getattr(args, "simulator", None) or "icarus"
    if getattr(args, "rtl", False):
        from sims.runner import simulator_available

        why = simulator_available(sim)
        if why:
            raise OSError(f"--rtl: {why}")
    activations = getattr(args, "activations", "trace")
    token_id = getattr(args, "token_id", None)
    seed = getattr(args, "seed", 0) or 0
    progress = not getattr(args, "no_progress", False)
    run = run_npu(machine=args.machine, model=args.model, layer=args.layer,
                  kernel=getattr(args, "kernel", None) or "npu_gemm", seed=seed, activations=activations,
                  token_id=token_id, progress=progress)
    print(render_npu(run, views=views))
    result = run.to_json()
    status = 0 if run.verified else 1
    if getattr(args, "rtl", False):
        layer = args.layer if args.layer is not None else 0
        if args.layer is None:
            run_layer = run_npu(machine=args.machine, model=args.model, layer=0, kernel=run.kernel, seed=seed,
                                activations=activations, token_id=token_id, progress=False)
        else:
            run_layer = run
        rtl_projections = getattr(args, "rtl_projections", None) or RTL_PROJECTIONS
        if isinstance(rtl_projections, str):
            rtl_projections = tuple(p.strip() for p in rtl_projections.split(",") if p.strip())
        records = cosimulate_layer(run_layer, layer, sim=sim, seed=seed, activations=activations,
                                   token_id=token_id, projections=rtl_projections)
        print(render_cosim(records, machine=run.machine.name, layer=layer, subset=rtl_projections is not None))
        result["rtl"] = records
        if not all(r["integers_identical"] and r["model_cycles"] == r["rtl_cycles"] for r in records):
            status = 1
    for key in ("json",):
        path = getattr(args, key, None)
        if path:
            Path(path).write_text(json.dumps(result, indent=2, default=_json_default))
            print(f"wrote {path}")
    out_dir = getattr(args, "out", None)
    if out_dir:
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        (d / "simulate.json").write_text(json.dumps(result, indent=2, default=_json_default))
        (d / "config.json").write_text(json.dumps({"machine": run.machine.to_dict(), "model": run.model,
                                                   "kernel": run.kernel, "layers": run.layers, "seed": seed,
                                                   "activations": activations}, indent=2, default=_json_default))
        print(f"wrote {d / 'simulate.json'}, {d / 'config.json'}")
    return status


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)

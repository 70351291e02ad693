"""RTL co-simulation of NPU Programs: lowered command streams played on the generated Verilog.

Sims layer (imports `rtl`, `isa_models.npu` and sims/player.py), used by the simulate pipeline's
"rtl" cross-check (`workbench.flow.crosscheck.rtl`) and benchmarks/rtl_speed.py. `cosimulate`
lowers each Program to its command words, builds its DRAM image from the prepared input
buffers, plays every stream on `rtl.top.NpuTop` (`run_job`: a job file for sims/player.py's
`play_job`, run inside Icarus or Verilator by `sims.runner.build_and_test`) and returns, per
stream, the output buffers read back from the RTL's DRAM and its cycles beside the NPU cycle
model's issue schedule. It asserts nothing: the caller compares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isa_models.npu import NpuParams, lower, time_lowered

__all__ = ["run_job", "cosimulate", "COSIM_ROOT"]

COSIM_ROOT = Path(__file__).resolve().parent / "build"


def run_job(params: NpuParams, streams: list[dict], *, sim: str = "icarus", waves: bool = False,
            tag: str = "cosim") -> tuple[list[dict], dict]:
    """Build NpuTop(params) for `sim`, play `streams` on it, return (results, info).

    Parameters
    ----------
    streams : [{name, words (list of int), dram (uint8 DRAM image)}].

    Returns
    -------
    results : per stream, `sims.player.play_stream`'s record plus ``name`` and the final ``dram``.
    info : build_seconds, run_seconds, build_dir, log (the simulator's output goes to build.log
        and sim.log there, not to the terminal).

    Raises
    ------
    OSError : the simulator is missing. RuntimeError : the simulation produced no results (its
        log is in the build directory).
    """
    from sims.player import read_results, write_job
    from sims.runner import build_and_test

    build_dir = COSIM_ROOT / f"{tag}_{params.name}_{params.weight_encoding}_{sim}"
    job = write_job(build_dir / "job.npz", streams)
    out = build_dir / "result.npz"
    if out.exists():
        out.unlink()
    env = {"NPU_COSIM_JOB": str(job), "NPU_COSIM_OUT": str(out),
           "NPU_COSIM_LATENCY": str(params.dma_latency_cycles),
           "NPU_COSIM_BUS": str(params.dma_bytes_per_cycle)}
    try:
        _, build_s, run_s = build_and_test(params, sim=sim, build_dir=build_dir, test_module="sims.player",
                                           extra_env=env, waves=waves, log_files=True)
    except OSError as exc:
        raise OSError(f"rtl co-simulation: {exc}") from None
    if not out.exists():
        raise RuntimeError(f"rtl co-simulation on {sim} produced no results; see {build_dir}")
    return read_results(out), {"build_seconds": build_s, "run_seconds": run_s, "build_dir": str(build_dir),
                               "log": str(build_dir / "sim.log")}


def _params(machine) -> NpuParams:
    return machine if isinstance(machine, NpuParams) else NpuParams.from_machine(machine)


def cosimulate(machine, streams: list[tuple[str, object, dict]], *, sim: str = "icarus",
               waves: bool = False) -> tuple[list[dict], dict]:
    """Play NPU Programs on the RTL of `machine`.

    Parameters
    ----------
    machine : an NPU machine (`isa_models.core.machine.Machine`) or its `NpuParams`.
    streams : [(name, Program, inputs)], inputs being the prepared DRAM buffers (name -> uint8).
    sim : "icarus" or "verilator".

    Returns
    -------
    records : per stream, ``name``; ``outputs`` (each output buffer of the Program as the RTL left
        it in DRAM); ``commands``; ``rtl_cycles`` (busy cycles from the first issue) and
        ``model_cycles`` (the cycle model's total); ``issue_cycles_identical`` and
        ``first_issue_difference`` (command index or None) against the model's schedule;
        ``completed``; ``refused_beat`` (the first cycle a DMA beat was refused, or None);
        ``sim_seconds``.
    info : as `run_job`'s, plus ``simulator``.
    """
    params = _params(machine)
    played, lowered_all = [], []
    for name, program, inputs in streams:
        lowered = lower(program, params)
        dram = np.zeros(lowered.dram_bytes, dtype=np.uint8)
        for buf, arr in inputs.items():
            raw = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
            dram[lowered.dram_base[buf]:lowered.dram_base[buf] + raw.size] = raw
        played.append({"name": name, "words": lowered.words(), "dram": dram})
        lowered_all.append((program, lowered))
    results, info = run_job(params, played, sim=sim, waves=waves)
    records = []
    for (program, lowered), res in zip(lowered_all, results):
        timing = time_lowered(lowered)
        model_issue = [s.issue for s in timing.schedule]
        outputs = {}
        for buf, spec in program.buffers.items():
            if spec.role == "output":
                base = lowered.dram_base[buf]
                outputs[buf] = np.asarray(res["dram"][base:base + spec.size], dtype=np.uint8)
        first_diff = next((i for i, (a, b) in enumerate(zip(res["issue"], model_issue)) if a != b), None)
        if first_diff is None and len(res["issue"]) != len(model_issue):
            first_diff = min(len(res["issue"]), len(model_issue))
        records.append({"name": res.get("name"), "outputs": outputs, "commands": len(model_issue),
                        "rtl_cycles": int(res["total"]), "model_cycles": int(timing.total_cycles),
                        "issue_cycles_identical": list(res["issue"]) == model_issue,
                        "first_issue_difference": first_diff, "completed": bool(res["completed"]),
                        "refused_beat": res["refused_beat"], "sim_seconds": float(res["sim_seconds"])})
    return records, {**info, "simulator": sim}

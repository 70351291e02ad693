"""RTL co-simulation of NPU command streams: lowered streams played on the generated Verilog.

Top layer (used by `workbench.npu_flow` for `simulate --isa npu --rtl` and by
benchmarks/rtl_speed.py). `run_job` stores lowered command streams (command words + DRAM images)
in a job file (`sims.player.write_job`), builds `rtl.top.NpuTop` Verilog for the machine and runs
sims/player.py's `play_job` inside Icarus or Verilator through `sims.runner.build_and_test` (the
same player and runner as the cocotb testbench sims/tb_npu.py). It asserts nothing: the caller
compares the returned DRAM images and issue cycles with the NPU model.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_job", "COSIM_ROOT"]

COSIM_ROOT = Path(__file__).resolve().parent.parent / "sims" / "build"


def run_job(params, streams: list[dict], *, sim: str = "icarus", waves: bool = False,
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

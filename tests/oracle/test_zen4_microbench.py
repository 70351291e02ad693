"""The Zen 4 calibration machinery (benchmarks/probes/x86/zen4_calibration.py) runs, and zen4.toml holds its fit.

No timed assertions: a microkernel compiles, runs natively to a positive cycle count and gets a
model figure; its native run equals the functional run byte for byte (so the measured loop is
the modelled Program); the compiled loop has no instructions beyond the Program's; and the
fitted cap in isa_models/machines/avx2/zen4.toml is the one the script's latest run wrote into
zen4_calibration.json beside it. Needs an x86-64 AVX2 host with clang (native runs).
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from isa_models.core.machine import load_machine

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "probes" / "x86" / "zen4_calibration.py"


def _script():
    if "zen4_calibration" in sys.modules:
        return sys.modules["zen4_calibration"]
    spec = importlib.util.spec_from_file_location("zen4_calibration", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["zen4_calibration"] = module          # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _native_or_skip():
    from kernels.codegen.host import missing_cpu_flags

    if platform.machine() not in ("x86_64", "AMD64") or missing_cpu_flags(["avx2"]):
        pytest.skip("native microkernels need an x86-64 AVX2 host")
    if shutil.which("clang") is None:
        pytest.skip("the calibration compiles with clang, which is not on PATH")


def test_zen4_toml_holds_the_latest_fitted_cap():
    z = _script()
    data = json.loads(z.DATA.read_text())
    fitted = data["fitted"][f"issue_caps.{z.CAP}"]["per_cycle"]
    machine = load_machine("avx2/zen4")
    cap = next(c for c in machine.issue_caps if c.name == z.CAP)
    assert cap.per_cycle == fitted
    assert SCRIPT.relative_to(ROOT).as_posix() in cap.source        # the source cites the script
    assert fitted in z.CAP_GRID
    # every row of the data file is a microkernel the script defines, with both figures
    names = {m.name for m in z.MIXES}
    assert data["rows"] and all(r["name"] in names and r["measured"] > 0 and r["model"] > 0
                                for r in data["rows"])


@pytest.mark.parametrize("name", ["vpshufb + vpaddsb", "vpmaddubsw[m] + vpaddw"])
def test_microkernel_compiles_measures_and_models(name):
    _native_or_skip()
    z = _script()
    mix = next(m for m in z.MIXES if m.name == name)
    measured = z.measure_native(mix, batches=2, repeats=3)
    assert measured["cycles_per_iteration"] > 0
    model = z.model_cycles(mix, load_machine("avx2/zen4"))
    assert model > 0
    assert z.asm_extras(mix) == 0          # the measured loop is exactly the modelled Program


def test_microkernel_native_run_equals_functional_run():
    _native_or_skip()
    from isa_models.core.execute import execute
    from kernels.codegen.native import NativeKernel

    z = _script()
    mix = next(m for m in z.MIXES if m.name == "vpshufb + vpaddsb + store")
    program = z.build_mix(mix, outer=2, inner=16)
    buffers = z._buffers(program, seed=3)
    native = NativeKernel(program, compiler=z.COMPILER)(buffers)
    functional = execute(program, buffers)
    for buf in ("out", "stream"):
        np.testing.assert_array_equal(native[buf], functional[buf], err_msg=buf)


def test_bad_mix_is_refused_by_name():
    z = _script()
    with pytest.raises(ValueError, match="unknown op 'vpfoo'"):
        z.build_mix(z.Mix("bad", ("vpfoo",)), outer=1)
    with pytest.raises(ValueError, match="15 chains"):
        z.build_mix(z.Mix("wide", ("vpaddb",), chains=15), outer=1)

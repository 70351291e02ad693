"""`workbench tune` on the machine modelling this CPU: the top configurations run natively.

Oracle tier (native execution on the host). `workbench tune --kernel vnni --machine host --shape
256x2560 --native` ranks vnni's configurations by the model, then compiles the top ones for this
CPU, compares every buffer with the functional run byte for byte and times them with the target's
clock; the report sets the measured order beside the model's. Skips when no machine of the
kernel's ISA models this CPU, or the native run is impossible here (no compiler, a missing CPU
feature), saying why.
"""

from __future__ import annotations

import json

import pytest

from kernels import registry
from kernels.codegen import host
from workbench.cli import main
from workbench.sweep.tune import native_problem

KERNEL, SHAPE = "vnni", (256, 2560)


@pytest.fixture(scope="module")
def machine():
    spec = registry.get(KERNEL)
    found, reason = host.host_check(None, spec.isa)
    if found is None:
        pytest.skip(reason)
    problem = native_problem(spec.isa, found, [spec.build(*SHAPE, **spec.params)])
    if problem is not None:
        pytest.skip(problem)
    return found


@pytest.mark.slow
def test_tune_runs_the_top_configurations_natively(machine, tmp_path, capsys):
    out = tmp_path / "tune.json"
    code = main(["tune", "--kernel", KERNEL, "--machine", "host", "--shape", "x".join(map(str, SHAPE)), "--native",
                 "--cache", str(tmp_path / "cache"), "--no-progress", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    data = json.loads(out.read_text())
    assert data["machine"] == machine.name and data["points"]["ranked"] >= 2
    native = data["native"]
    records = native["records"]
    assert len(records) == min(3, data["points"]["ranked"])
    assert [r["model_rank"] for r in records] == list(range(1, len(records) + 1))
    assert sorted(r["measured_rank"] for r in records) == list(range(1, len(records) + 1))
    assert native["outputs_equal"] and all(r["check"]["status"] == "VERIFIED" for r in records)
    assert all(r["measured_cycles"] > 0 and r["ratio"] > 0 for r in records)
    # the model's top configuration is the ranked best, and its cycles are the ranked ones
    assert records[0]["params"] == data["best"]["params"]
    assert records[0]["model_cycles"] == data["ranked"][0]["cycles"]
    assert native["kendall_tau"] is None or -1.0 <= native["kendall_tau"] <= 1.0
    assert f"native check of the top {len(records)}" in text and "rank agreement: " in text

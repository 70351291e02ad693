"""workbench.projection.engines: ternary ops timed by the ISA engine, rooflines, shared DRAM, threads."""

from __future__ import annotations

import dataclasses

import pytest

from isa_models.core.timing import time_program
from kernels import registry
from workbench.errors import UserError
from workbench.projection import engines as eng
from workbench.projection.assumptions import load_assumptions
from workbench.projection.ops import decode_ops
from workbench.reference import get_preset
from workbench.soc import load_soc

TINY = get_preset("tiny")
ASSUME = load_assumptions()


def _ops(config=TINY, **kw):
    return {o.name: o for o in decode_ops(config, context=kw.pop("context", 16), ternary_bytes=lambda m, k: m * k // 4,
                                           embed_format="f16", head_format="f16", **kw)}


def _kernel(name, isa, machine):
    spec = registry.get(name, isa)
    return eng.KernelChoice(spec, spec.resolve(**({spec.machine_param: machine.name} if spec.machine_param else {})))


def test_units_fill_the_biggest_clusters_first():
    soc = load_soc("snapdragon-8-gen-3")
    units = eng.cpu_units(soc, 5)
    assert [(u.name, u.count) for u in units] == [(soc.clusters[0].name, 1), (soc.clusters[1].name, 3),
                                                 (soc.clusters[2].name, 1)]
    assert units[0].machine.clock_ghz == soc.clusters[0].clock_ghz
    assert units[0].machine.dram_gbps_chip == pytest.approx(soc.dram.sustained_gbps)
    with pytest.raises(UserError, match="--threads 9"):
        eng.cpu_units(soc, 9)
    with pytest.raises(UserError, match="no npu engine"):
        eng.accelerator_unit(soc, "npu")


def test_ternary_time_is_the_engines_time_program():
    soc = load_soc("snapdragon-8-gen-3")
    (unit,) = eng.cpu_units(soc, 1)
    kernel = _kernel("rowdot", "neon", unit.machine)
    op = _ops()["gate"]
    t = eng.time_ternary(op, [unit], kernel, soc=soc, assumptions=ASSUME)
    want = time_program(kernel.spec.build(512, 256, **kernel.params), unit.machine, cold=True)
    assert t.compute_s == want.cycles / (unit.clock_ghz * 1e9)
    assert t.seconds == max(t.compute_s, t.dram_s)          # one thread: no barrier
    assert t.instructions == want.instructions
    assert t.dram_s == op.dram_bytes / (unit.dram_gbps * 1e9)


def test_more_threads_never_slower_on_one_cluster():
    """Per op, the work of more threads on one cluster never takes longer (the barrier that ends a
    multi-threaded op is added on top: a DRAM-bound op can lose by it, as llama.cpp's do)."""
    soc = load_soc("raspberry-pi-5")
    one = eng.cpu_units(soc, 1)[0]
    kernel = _kernel("rowdot", "neon", one.machine)
    ops = _ops(get_preset("bitnet-b1.58-2B-4T"))
    for name in ("k", "gate", "lm_head", "attention"):
        op = ops[name]
        times = []
        for threads in (1, 2, 4):
            units = eng.cpu_units(soc, threads)
            t = (eng.time_ternary(op, units, kernel, soc=soc, assumptions=ASSUME) if op.cls == "ternary"
                 else eng.time_roofline(op, units, soc=soc, assumptions=ASSUME))
            times.append(t.seconds - ASSUME.barrier_seconds(threads))
        assert all(b <= a * (1 + 1e-12) for a, b in zip(times, times[1:])), (name, times)


def test_rows_split_evenly_between_threads():
    soc = load_soc("raspberry-pi-5")
    units = eng.cpu_units(soc, 4)
    kernel = _kernel("rowdot", "neon", units[0].machine)
    assert eng.rows_per_thread(kernel, 512, 256, 4) >= 128
    t = eng.time_ternary(_ops()["gate"], units, kernel, soc=soc, assumptions=ASSUME)
    assert t.detail["rows_per_thread"] == eng.rows_per_thread(kernel, 512, 256, 4)
    assert t.seconds == pytest.approx(max(t.compute_s, t.dram_s) + ASSUME.barrier_seconds(4))


def test_dram_bound_ops_scale_with_bandwidth():
    soc = load_soc("snapdragon-8-gen-3")
    op = _ops(get_preset("bitnet-b1.58-2B-4T"))["lm_head"]
    units = eng.cpu_units(soc, 8)
    t = eng.time_roofline(op, units, soc=soc, assumptions=ASSUME)
    assert t.bound_kind == "DRAM"
    assert t.dram_s == op.dram_bytes / (soc.dram.sustained_gbps * 1e9)
    fast = dataclasses.replace(soc, dram=dataclasses.replace(soc.dram, mt_s=soc.dram.mt_s / 2))
    t2 = eng.time_roofline(op, eng.cpu_units(fast, 8), soc=fast, assumptions=ASSUME)
    assert t2.dram_s == pytest.approx(2 * t.dram_s)
    assert t2.seconds - ASSUME.barrier_seconds(8) == pytest.approx(2 * (t.seconds - ASSUME.barrier_seconds(8)))


def test_roofline_refuses_work_a_unit_has_no_rate_for():
    soc = load_soc("snapdragon-8-gen-3")
    hvx = eng.accelerator_unit(soc, "hvx")
    op = _ops()["rope"]
    assert not eng.can_run(op, hvx) and eng.can_run(op, eng.cpu_units(soc, 1)[0])
    with pytest.raises(UserError, match="no rate for fp32"):
        eng.time_roofline(op, [hvx], soc=soc, assumptions=ASSUME)


def test_kernel_timings_are_cached_in_process_and_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("TERNARY_WORKBENCH_CACHE", str(tmp_path))
    soc = load_soc("raspberry-pi-5")
    (unit,) = eng.cpu_units(soc, 1)
    kernel = _kernel("rowdot", "neon", unit.machine)
    eng.clear_cache()
    a = eng.kernel_timing(kernel, unit.machine, 256, 256)
    assert eng.kernel_timing(kernel, unit.machine, 256, 256) is a
    assert len(list((tmp_path / "projection-timings").glob("*.json"))) == 1
    eng.clear_cache()
    monkeypatch.setattr(eng, "time_program", lambda *a, **k: pytest.fail("timed again"))
    assert eng.kernel_timing(kernel, unit.machine, 256, 256) == a          # read back from disk
    slower = dataclasses.replace(unit.machine, clock_ghz=1.0)               # another machine: another key
    with pytest.raises(pytest.fail.Exception, match="timed again"):
        eng.kernel_timing(kernel, slower, 256, 256)
    eng.clear_cache()


def test_barrier_assumption():
    assert ASSUME.barrier_seconds(1) == 0.0
    assert ASSUME.barrier_seconds(4) == pytest.approx(1.96e-6)
    assert ASSUME.barrier_seconds(8) > ASSUME.barrier_seconds(4)
    assert ASSUME.source_of("barrier.microseconds")

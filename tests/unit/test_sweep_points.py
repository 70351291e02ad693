"""`workbench.sweep.points.expand`: the grid in spec order, parameter axes crossed only with the
kernels that have them, impossible combinations dropped and counted, random search seeded and
without replacement."""

from __future__ import annotations

from workbench.sweep.points import expand
from workbench.sweep.spec import parse_spec


def _spec(sweep=None, **axes):
    return parse_spec({"sweep": sweep or {}, "axes": axes})


def test_grid_crosses_params_only_with_their_kernels_and_drops_impossible_combinations():
    spec = _spec(isa=["avx2", "neon"], kernel=["vnni", "tq2", "rowdot"], machine=["zen4", "cortex-a55"],
                 shape=["256x512", "bitnet-b1.58-2B-4T:k"], param={"chains": [1, 2], "groups": [1, 4]})
    ex = expand(spec)
    # avx2: vnni x 2 chains + tq2 on zen4; neon: tq2 + rowdot x 2 groups on cortex-a55; x 2 shapes
    assert len(ex.configs) == (2 + 1 + 1 + 2) * 2 == ex.grid
    assert ex.dropped == {"kernel not registered for that ISA": 2 * 2 * 2,
                          "machine of another ISA": (2 + 2) * 2}
    first = ex.configs[0]
    assert first == {"isa": "avx2", "kernel": "vnni", "machine": "zen4", "M": 256, "K": 512,
                     "params": {"chains": 1}, "seed": 0, "cold": False}
    assert ex.labels[0] == {"shape": "256x512"} and ex.configs[2]["M"] == 640    # 2B-4T k is 640x2560
    assert {c["kernel"]: c["params"] for c in ex.configs}["tq2"] == {}
    rowdot = [c["params"] for c in ex.configs if c["kernel"] == "rowdot"]
    assert rowdot == [{"groups": 1}, {"groups": 4}, {"groups": 1}, {"groups": 4}]   # params innermost


def test_without_a_machine_axis_each_isa_takes_its_default_machine():
    ex = expand(_spec(isa=["avx2", "neon"], kernel=["tq2"], shape=["256x512"]))
    assert [c["machine"] for c in ex.configs] == ["zen4", "cortex-x4"]


def test_random_search_is_seeded_without_replacement_in_grid_order():
    axes = dict(isa=["avx2"], kernel=["vnni"], machine=["zen4", "zen3", "skylake"],
                shape=["256x512", "512x512", "1024x512"], param={"chains": [1, 2]})
    grid = expand(_spec({"seed": 1}, **axes)).configs       # the seed is also every point's weight seed
    a = expand(_spec({"search": "random", "samples": 7, "seed": 1}, **axes))
    b = expand(_spec({"search": "random", "samples": 7, "seed": 1}, **axes))
    c = expand(_spec({"search": "random", "samples": 7, "seed": 2}, **axes))
    assert a.configs == b.configs and a.configs != c.configs and a.grid == len(grid) == 18
    assert len(a.configs) == 7 and all(cfg in grid for cfg in a.configs)
    positions = [grid.index(cfg) for cfg in a.configs]
    assert positions == sorted(set(positions))
    everything = expand(_spec({"search": "random", "samples": 100, "seed": 1}, **axes))
    assert everything.configs == grid


def test_projection_grid_drops_engines_and_threads_the_soc_lacks():
    spec = _spec({"kind": "projection"}, soc=["raspberry-pi-5", "snapdragon-8-gen-3"], engine=["cpu", "hvx"],
                 threads=[1, 8], kernel=["rowdot", "fieldmask"])
    ex = expand(spec)
    got = [(c["soc"], c["engine"], c["kernel"], c["threads"]) for c in ex.configs]
    assert got == [("raspberry-pi-5", "cpu", "rowdot", 1),
                   ("snapdragon-8-gen-3", "cpu", "rowdot", 1), ("snapdragon-8-gen-3", "cpu", "rowdot", 8),
                   ("snapdragon-8-gen-3", "hvx", "fieldmask", 1), ("snapdragon-8-gen-3", "hvx", "fieldmask", 8)]
    assert ex.dropped["engine the SoC lacks"] == 4
    assert ex.dropped["more threads than the SoC has cores"] == 2
    assert ex.dropped["kernel not of the engine's ISA"] == 1 + 2 + 2


def test_equivalence_points_carry_model_and_tokens():
    spec = _spec({"kind": "equivalence", "tokens": 3}, isa=["avx2"], kernel=["tmac", "vnni"], machine=["zen4"],
                 shape=["256x512"], model=["tiny"])
    ex = expand(spec)
    assert [(c["kernel"], c["model"], c["tokens"]) for c in ex.configs] == [("tmac", "tiny", 3), ("vnni", "tiny", 3)]

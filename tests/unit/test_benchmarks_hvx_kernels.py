"""benchmarks/hvx_kernels.py: the VLIW engine's own columns and the engine-speed table on a small shape."""

from __future__ import annotations

import pytest
from benchmark_scripts import benchmark_script

from isa_models.core.machine import load_machine
from isa_models.core.timing import time_program
from kernels import registry


@pytest.fixture(scope="module")
def hk():
    with benchmark_script("hvx_kernels") as module:
        yield module


def test_vliw_figures_name_the_busiest_vector_units(hk):
    machine = load_machine("snapdragon-8-gen-3", isa="hvx")
    spec = registry.get("i2s", "hvx")
    result = time_program(spec.build(256, 512, **spec.resolve()), machine, cold=True)
    fig = hk.vliw_figures(result)
    assert fig["packets"] == result.extra["packets_per_iteration"] and fig["packets"] > 0
    assert fig["hot"] == result.extra["hot_loop"] and fig["sim_packets"] > 0
    util = result.extra["unit_utilization"]
    top = max((v, u) for u, v in util.items() if not u.startswith("S"))
    assert fig["busy"].startswith(f"{top[1]} {top[0]:.0%}")


def test_render_has_the_kernel_table_and_every_engine(hk):
    from _kernel_table import kernel_rows   # benchmarks/ is on sys.path inside benchmark_script

    rows = kernel_rows("hvx", [(256, 512)], extra=hk.vliw_figures, kernels=["i2s"], machines=["snapdragon-8-gen-3"])
    speed = [{"isa": "hvx", "engine": "vliw", "what": "packets", "work": 100, "wall": 0.5, "runs": 1},
             {"isa": "neon", "engine": "ooo", "what": "instructions (rowdot)", "work": 30, "wall": 0.1, "runs": 1}]
    text = hk.render(rows, speed, [(256, 512)])
    r = rows[0]
    assert f"| i2s (exact) | 256x512 | {r['cycles']:.0f} |" in text and f"| {r['packets']} ({r['hot']}) |" in text
    assert "| hvx | vliw | packets | 100 | 0.500 | 200 |" in text and "| neon | ooo |" in text

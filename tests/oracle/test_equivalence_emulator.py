"""`workbench equivalence --emulator`: for each ISA whose codegen target this host cannot run but
an emulator can (qemu-aarch64, qemu-hexagon), the ISA's default exact kernel gives
bitwise-identical logits over 16 tokens of tiny with every accumulator from a standalone
executable run under the emulator.

Oracle tier: the emulator executes the compiled target code (`kernels.codegen.StandaloneKernel`),
one process per kernel call. Skips when the emulator or the target's compiler is missing.
"""

from __future__ import annotations

import shutil

import pytest

from isa_models.registry import plugins
from kernels.codegen.targets import target_for_isa
from workbench.equivalence import run_equivalence

EMULATED = [p.name for p in plugins() if p.codegen_target is not None
            and target_for_isa(p.name).native_problem(()) is not None and target_for_isa(p.name).emulator]


@pytest.mark.slow                     # 5-20 s each here: one emulated process per kernel call
@pytest.mark.parametrize("isa", EMULATED)
def test_emulated_default_kernel_gives_identical_logits(isa):
    target = target_for_isa(isa)
    if shutil.which(target.emulator[0]) is None:
        pytest.skip(f"{target.emulator[0]} is not on PATH")
    if not any(shutil.which(c) for c in target.compilers):
        pytest.skip(f"no compiler of codegen target {target.name} on PATH")
    r = run_equivalence(isa=isa, kernel=None, model="tiny", mode="emulator", prompt_ids=(1, 5, 7, 9), tokens=16)
    s = r.summary()
    assert s["mode"] == "emulator" and len(r.steps) == 17 and r.kernel_calls == 14 * (4 + 16)
    assert s["identical"] is True and s["verdict"] == "VERIFIED", s["reason"]

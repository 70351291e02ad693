"""`workbench equivalence --native`: every exact kernel of every ISA this CPU runs natively gives
bitwise-identical logits over 16 tokens of tiny when its accumulators come from its emitted C run
in this process.

Oracle tier: the emitted C (`kernels.codegen.InProcessKernel`) executes on the host CPU, so this
checks the codegen and the compiler against the exact reference through a whole model. ISAs
whose codegen target cannot run here are refused in one line (tested in
tests/unit/test_equivalence_runners.py); a kernel needing a CPU feature this host lacks skips.
"""

from __future__ import annotations

import shutil

import pytest

from isa_models.registry import plugins
from kernels import registry
from kernels.codegen.targets import target_for_isa
from workbench.equivalence import run_equivalence
from workbench.errors import UserError

NATIVE_ISAS = [p.name for p in plugins() if p.codegen_target is not None
               and target_for_isa(p.name).native_problem(()) is None]
CASES = [pytest.param(s.isa, s.name, id=f"{s.name}-{s.isa}") for isa in NATIVE_ISAS
         for s in registry.kernels(isa) if s.exactness == "exact"]


@pytest.mark.skipif(not CASES, reason="no ISA's codegen target runs natively on this host")
@pytest.mark.parametrize("isa,kernel", CASES)
def test_native_exact_kernel_gives_identical_logits(isa, kernel):
    target = target_for_isa(isa)
    if not any(shutil.which(c) for c in target.compilers):
        pytest.skip(f"no compiler of codegen target {target.name} on PATH")
    try:
        r = run_equivalence(isa=isa, kernel=kernel, model="tiny", mode="native", prompt_ids=(1, 5, 7, 9),
                            tokens=16)
    except UserError as exc:
        if "lacks" in str(exc):
            pytest.skip(str(exc))
        raise
    s = r.summary()
    assert s["mode"] == "native" and len(r.steps) == 17
    assert s["identical"] is True and s["verdict"] == "VERIFIED", s["reason"]

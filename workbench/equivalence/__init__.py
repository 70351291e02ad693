"""End-to-end accuracy equivalence: greedy decoding where every ternary projection's int32
accumulators come from a chosen kernel, side by side with the exact reference.

Top of the flow, beside `workbench.flow`. `run.run_equivalence` resolves the names, runs the two
models step by step (`hook` supplies and checks the kernel's accumulators, `runners` picks the
functional, native or emulated execution, `metrics` compares the logits) and returns an
`EquivalenceResult` (`result`: summary and verdict by the kernel's exactness); `report` prints
it and `plot` draws it. ``workbench equivalence`` (`workbench.commands.equivalence`) is the CLI.
"""

from workbench.equivalence.result import EquivalenceResult, Verdict
from workbench.equivalence.run import check_tolerances, run_equivalence

__all__ = ["run_equivalence", "EquivalenceResult", "Verdict", "check_tolerances"]

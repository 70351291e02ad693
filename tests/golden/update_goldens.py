"""Regenerate the golden view reports in tests/golden/ (run after an intended change to a view).

Test support, on top of the engine and the kernels. Each golden file is one view's
``render_text()`` for one kernel Program timed on one machine, under a header saying how it was
produced; tests/golden/test_golden_views.py re-renders every case and compares byte for byte, so
any change to a view's text (columns, rounding, ordering, register names) shows up as a diff.
Usage: ``python tests/golden/update_goldens.py [--check]`` (``--check``: list stale files, write
nothing, exit 1 if any).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from isa_models.core.machine import load_machine
from isa_models.core.timing import time_program
from isa_models.core.views import BottleneckView, PortPressureView, SummaryView, TimelineView
from kernels import registry

GOLDEN_DIR = Path(__file__).resolve().parent
VIEWS = ("summary", "pressure", "timeline", "bottleneck")


@dataclass(frozen=True)
class Case:
    """One golden file: `view` of kernel `kernel`/`isa` built at M x K (default parameters), on `machine`."""

    kernel: str
    isa: str
    M: int
    K: int
    machine: str
    view: str

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"{self.kernel}_{self.isa}_{self.M}x{self.K}_{self.machine}.{self.view}.txt"


#: vnni (one nested loop, small body) in all four views; tl2 (five loops, composed bounds) in the
#: two views whose size does not grow with the loop body; the NPU's GEMV on the tiny array (its
#: command stream timed by the MAC-array engine, rendered by the same views).
CASES = tuple([Case("vnni", "avx2", 64, 256, "zen4", view) for view in VIEWS]
              + [Case("tl2", "avx2", 64, 256, "zen4", view) for view in ("summary", "bottleneck")]
              + [Case("npu_gemm", "npu", 64, 256, "tiny", view) for view in VIEWS])


def _params(spec, machine: str) -> dict:
    """The kernel's default parameters, with its machine parameter (if any) set to `machine`."""
    params = dict(spec.params)
    if spec.machine_param:
        params[spec.machine_param] = machine
    return params


@lru_cache(maxsize=None)
def _texts(kernel: str, isa: str, M: int, K: int, machine: str) -> dict[str, str]:
    """Every view's text from one timing run of the kernel's Program (the views only listen)."""
    spec = registry.get(kernel, isa)
    program = spec.build(M, K, **_params(spec, machine))
    views = {"summary": SummaryView(), "pressure": PortPressureView(), "timeline": TimelineView(),
             "bottleneck": BottleneckView()}
    time_program(program, load_machine(machine, isa=isa), listeners=list(views.values()))
    return {name: view.render_text() for name, view in views.items()}


def render(case: Case) -> str:
    """The golden file's full text for `case`: the header, a blank line, the view's text."""
    spec = registry.get(case.kernel, case.isa)
    extra = {k: v for k, v in _params(spec, case.machine).items() if v != spec.params[k]}
    params = "**spec.params" if not extra else "**{**spec.params, " + ", ".join(
        f"{k!r}: {v!r}" for k, v in extra.items()) + "}"
    cls = {"summary": "SummaryView", "pressure": "PortPressureView", "timeline": "TimelineView",
           "bottleneck": "BottleneckView"}[case.view]
    header = [
        f"# golden: {case.view} view of kernel {case.kernel}/{case.isa} at {case.M}x{case.K} on machine "
        f"{case.machine}",
        "# produced by: python tests/golden/update_goldens.py (tests/golden/test_golden_views.py compares "
        "byte for byte)",
        f"#   spec = kernels.registry.get({case.kernel!r}, {case.isa!r}); "
        f"program = spec.build({case.M}, {case.K}, {params})",
        f"#   view = isa_models.core.views.{cls}(); isa_models.core.timing.time_program(program, "
        f"load_machine({case.machine!r}, isa={case.isa!r}), listeners=[view]); view.render_text()",
    ]
    text = _texts(case.kernel, case.isa, case.M, case.K, case.machine)[case.view]
    return "\n".join(header) + "\n\n" + text.rstrip("\n") + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="list stale golden files, write nothing")
    args = ap.parse_args(argv)
    stale = []
    for case in CASES:
        text = render(case)
        if not case.path.exists() or case.path.read_text() != text:
            stale.append(case.path.name)
            if not args.check:
                case.path.write_text(text)
    verb = "stale" if args.check else "rewrote"
    print(f"{verb}: {', '.join(stale)}" if stale else f"all {len(CASES)} golden files are up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

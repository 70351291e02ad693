"""Helpers of the llvm-mca oracle tests: the LLVM-MCA-BEGIN/END regions of emitted assembly and
llvm-mca's summary of each.

Test support for tests/oracle/test_llvm_mca.py (x86, gcc's assembly) and
tests/oracle/test_neon_kernels_qemu.py (AArch64, clang's). `region_bodies` reads the mnemonics of
every region, whichever comment the markers sit in ("#" as `kernels.codegen.c_emit` writes them,
or "//"); `llvm_mca` runs llvm-mca's summary view and returns one record per region.
"""

from __future__ import annotations

import re
import subprocess

__all__ = ["region_bodies", "llvm_mca"]


def region_bodies(asm: str) -> dict[str, list[str]]:
    """Region name -> mnemonics of its instructions, from the LLVM-MCA-BEGIN/END framing."""
    out, name = {}, None
    for line in asm.splitlines():
        s = line.strip()
        marker = s.lstrip("/#").strip()
        if marker.startswith("LLVM-MCA-BEGIN"):
            name = marker.split(None, 1)[1]
            out[name] = []
        elif marker.startswith("LLVM-MCA-END"):
            name = None
        elif name is not None and s and not s.startswith(("//", "#", ".")) and not s.endswith(":"):
            out[name].append(s.split()[0])
    return out


def llvm_mca(asm: str, cpu: str, *, triple: str = "x86_64", tool: str = "llvm-mca",
             iterations: int = 200) -> list[dict]:
    """Run llvm-mca (`tool`) on `asm` for `triple` and `cpu`; per code region: name, iterations,
    instructions, cycles (totals) and rthroughput (llvm-mca's block reciprocal throughput)."""
    proc = subprocess.run([tool, f"-mtriple={triple}", f"-mcpu={cpu}", f"-iterations={iterations}",
                           "-all-views=false", "-summary-view"], input=asm, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:2000]
    regions = []
    for block in re.split(r"\n\[\d+\] Code Region - ", "\n" + proc.stdout)[1:]:
        num = {k: int(re.search(rf"^{k}:\s+(\d+)", block, re.M).group(1))
               for k in ("Iterations", "Instructions", "Total Cycles")}
        regions.append({"name": block.splitlines()[0].strip(), "iterations": num["Iterations"],
                        "instructions": num["Instructions"], "cycles": num["Total Cycles"],
                        "rthroughput": float(re.search(r"^Block RThroughput:\s+([\d.]+)", block, re.M).group(1))})
    return regions

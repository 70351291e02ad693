"""HVX Programs shared by the packet oracles (tests/oracle/test_hvx_llvm_mc.py, test_hvx_packet_asm_qemu.py).

Hand-built Programs that exercise what the packet renderer writes (hardware loops, a loop nest
deeper than the hardware loops, a trip above the loop immediate, a stride beyond post-increment,
register pairs, stated packets), and the registered HVX kernels.
"""

from __future__ import annotations

from isa_models.core.builder import ProgramBuilder
from isa_models.registry import get_isa

HVX = get_isa("hvx").isa

__all__ = ["hvx_kernels", "lut_program", "deep_program", "nest_program"]


def hvx_kernels():
    """Every registered HVX kernel."""
    from kernels.registry import kernels

    return [k for k in kernels() if k.isa == "hvx"]


def lut_program(*, stated: bool):
    """A LUT loop nest: a table load, two accumulators per row, a .tmp load feeding vlut16."""
    b = ProgramBuilder(HVX, "lut_nest")
    src = b.buffer("src", 128 * 64)
    tab = b.buffer("tab", 128)
    dst = b.buffer("dst", 4 * 128 * 8, role="output")
    t = b.vmem_load(tab[0])
    r = b.tfrsi(2)
    with b.loop("m", 8, parallel=True) as m:
        a0 = b.vxor(t, t)
        a1 = b.vxor(t, t)
        with b.loop("k", 8) as k:
            if stated:
                with b.packet():
                    x = b.vmem_load_tmp(src[m * 1024 + k * 128])
                    lo, hi = b.vlut16(x, t, r)
            else:
                x = b.vmem_load_tmp(src[m * 1024 + k * 128])
                lo, hi = b.vlut16(x, t, r)
            b.vadd_h(a0, lo, out=a0)
            b.vadd_h(a1, hi, out=a1)
        b.vmem_store(dst[m * 512], a0)
        b.vmem_store(dst[m * 512 + 128], a1)
    return b.build()


def deep_program():
    """Three nested loops (a counted branch above two hardware loops), a trip above the loop
    immediate, a stride beyond post-increment (a modifier register), widening pairs."""
    b = ProgramBuilder(HVX, "deep")
    w = b.buffer("w", 128 * 2 * 3 * 1100 * 8)
    out = b.buffer("out", 128 * 2 * 3 * 2, role="output")
    with b.loop("a", 3) as a:
        with b.loop("c", 2) as c:
            acc_lo = b.vxor(b.vmem_load(w[0]), b.vmem_load(w[128]))
            acc_hi = b.vxor(acc_lo, acc_lo)
            with b.loop("k", 1100) as k:
                x = b.vmem_load(w[a * 128 * 2 * 1100 * 8 + c * 128 * 1100 * 8 + k * 128 * 8])
                y = b.vmemu_load(w[a * 128 * 2 * 1100 * 8 + c * 128 * 1100 * 8 + k * 128 * 8 + 3])
                lo, hi = b.vadd_ubh(x, y)
                b.vadd_h(acc_lo, lo, out=acc_lo)
                b.vadd_h(acc_hi, hi, out=acc_hi)
            b.vmem_store(out[a * 512 + c * 256], acc_lo)
            b.vmem_store(out[a * 512 + c * 256 + 128], acc_hi)
    return b.build()


def nest_program():
    """Two hardware loops that end in one packet (``}:endloop0:endloop1``): the outer body is only
    the inner loop, and no address needs an outer step."""
    b = ProgramBuilder(HVX, "endboth")
    src = b.buffer("src", 128 * 6 * 5)
    dst = b.buffer("dst", 128 * 6 * 5, role="output")
    with b.loop("m", 6) as m:
        with b.loop("k", 5) as k:
            x = b.vmem_load(src[m * 640 + k * 128])
            y = b.vadd_b(x, x)
            b.vmem_store(dst[m * 640 + k * 128], y)
    return b.build()

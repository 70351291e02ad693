"""Peak-live register check of ProgramBuilder.build() (isa_models/core/liveness.py)."""

import pytest

from isa_models.core.program import ProgramError
from isa_models.core.builder import ProgramBuilder
from isa_models.core.toy import TOY


def test_straight_line_peak_counts_simultaneous_values():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 64)
    a = b.vload(x[0]); c = b.vload(x[16]); d = b.vload(x[32])   # 3 live
    e = b.vadd(a, c)                                             # a, c die: d, e live
    b.vadd(e, d)
    assert b.build().peak_live == {"v": 3}


def test_value_defined_before_loop_is_live_across_it():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 1024)
    k0 = b.vload(x[0])
    acc = b.vzero()
    with b.loop("i", 8) as i:
        u = b.vadd(k0, k0)         # last textual read of k0, but every iteration reads it again
        t = b.vload(x[i * 16])
        v = b.vadd(u, t)
        b.vadd(acc, v, out=acc)    # acc carried
    assert b.build().peak_live["v"] == 4


def test_too_many_live_registers_names_program_file_peak_limit():
    b = ProgramBuilder(TOY, "hog")
    x = b.buffer("x", 256)
    regs = [b.vload(x[16 * i]) for i in range(9)]     # TOY has 8 "v" registers
    s = regs[0]
    for r in regs[1:]:
        s = b.vadd(s, r)
    with pytest.raises(ProgramError, match=r"program hog: 9 v registers live at once, the ISA toy has 8"):
        b.build()


def test_loop_carried_register_live_over_whole_loop():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 4096)
    accs = [b.vzero() for _ in range(7)]
    with b.loop("i", 4) as i:
        t = b.vload(x[i * 16])
        for a in accs:
            b.vadd(a, t, out=a)
    assert b.build().peak_live["v"] == 8
    b2 = ProgramBuilder(TOY, "p2")
    x = b2.buffer("x", 4096)
    accs = [b2.vzero() for _ in range(8)]
    with b2.loop("i", 4) as i:
        t = b2.vload(x[i * 16])
        for a in accs:
            b2.vadd(a, t, out=a)
    with pytest.raises(ProgramError, match="9 v registers"):
        b2.build()


def test_parallel_loop_may_not_carry_registers():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 4096)
    acc = b.vzero()
    with b.loop("t", 4, parallel=True) as t:
        b.vadd(acc, b.vload(x[t * 16]), out=acc)
    with pytest.raises(ProgramError, match="parallel loop 't' carries register"):
        b.build()

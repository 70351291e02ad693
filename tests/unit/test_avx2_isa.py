"""ISA facts of the AVX2 model: names, operand specs, scheduling-class convention, templates.

The scheduling classes are the contract with the machine TOMLs (isa_models/machines/avx2/*.toml),
so their naming rule is checked here: register forms ``avx2.<mnemonic>``, memory-source forms
reuse the register class, pure loads/stores/broadcast loads use the shared memory classes.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from isa_models.avx2 import ISA
from isa_models.core.program import ProgramError
from isa_models.core.builder import ProgramBuilder

MEMORY_CLASSES = {"avx2.load", "avx2.load.x", "avx2.store", "avx2.broadcast_load"}


def test_register_files():
    assert ISA.name == "avx2"
    assert ISA.register_files == {"ymm": (16, 32), "gpr": (16, 8)}


def test_required_mnemonics_present():
    required = """vmovdqu vpxor vpdpbusd vpmaddubsw vpmaddwd vpshufb vpaddw vpaddd vpaddb vpaddsb vpaddsw
    vpsubb vpsubw vpsubd vpsignb vpsignw vpabsb vpand vpandn vpor vpcmpeqb vpsrlw vpsllw vpsraw vpsrld
    vpslld vpsrad vpunpcklbw vpunpckhbw vpunpcklwd vpunpckhwd vpmovsxbw vpmovzxbw vpmovsxwd vpmovzxwd
    vpermq vperm2i128 vpalignr vpacksswb vpackssdw vpackuswb vphaddd vphaddw vpmullw vpmulld vpsadbw
    vpblendvb vpmovmskb vextracti128 vinserti128 vpbroadcastb vpbroadcastw vpbroadcastd""".split()
    have = {d.mnemonic for d in ISA.instructions.values()}
    assert set(required) <= have, sorted(set(required) - have)
    for name in ("vpshufb_xmm", "vpmovsxbw_ymm_m", "vmovdqu_load_xmm", "vmovdqu_store_xmm",
                 "vpbroadcastb_ymm_m", "vpbroadcastd_ymm_m", "vpshufb_ymm_m", "vpmaddubsw_ymm_m"):
        assert name in ISA


def test_sched_class_convention():
    for d in ISA.instructions.values():
        assert d.name.startswith(d.mnemonic + "_"), d.name
        assert d.c and d.asm, d.name
        assert d.asm.split()[0] == d.mnemonic, d.name
        cls = d.sched_class
        if cls in MEMORY_CLASSES or cls == "avx2.zero_idiom":
            continue
        assert re.fullmatch(rf"avx2\.{d.mnemonic}(\.x|\.count)?", cls), (d.name, cls)
        if d.name.endswith("_m"):                                     # memory source: register class
            base = d.name[:-2]
            if base in ISA:
                assert ISA[base].sched_class == cls, d.name
    assert ISA["vpshufb_xmm"].sched_class == "avx2.vpshufb.x"
    assert ISA["vmovdqu_load_ymm"].sched_class == "avx2.load"
    assert ISA["vmovdqu_load_xmm"].sched_class == "avx2.load.x"
    assert ISA["vmovdqu_store_xmm"].sched_class == "avx2.store"
    assert ISA["vpbroadcastb_ymm_m"].sched_class == "avx2.broadcast_load"
    assert ISA["vpmovsxbw_ymm_m"].sched_class == "avx2.vpmovsxbw"


def test_operand_specs():
    d = ISA["vpdpbusd_ymm"]
    assert d.tied == (0,) and d.attrs["requires"] == ("avx512vl", "avx512_vnni")
    assert [s.width for s in ISA["vpmovsxbw_ymm"].ins] == [16]
    assert ISA["vextracti128_ymm"].outs[0].width == 16
    assert ISA["vpmovmskb_ymm"].outs[0].kind == "gpr"
    assert ISA["vmovdqu_store_ymm"].outs[0].is_mem and ISA["vmovdqu_store_ymm"].stores == 1
    assert ISA["vpshufb_ymm_m"].loads == 1


def test_every_form_returns_its_declared_width():
    rng = np.random.default_rng(3)
    for d in ISA.instructions.values():
        args = [1 if s.is_imm else rng.integers(0, 256, (4, s.width), dtype=np.uint8) for s in d.ins]
        out = d.semantics(*args)
        assert out.dtype == np.uint8 and out.shape[1] == d.outs[0].width and out.shape[0] in (1, 4), d.name


def test_builder_uses_forms_and_checks_ties():
    b = ProgramBuilder(ISA, "t")
    buf = b.buffer("x", 64)
    acc = b.vpxor_zero_ymm()
    v = b.vmovdqu_load_ymm(buf[0])
    b.vpdpbusd_ymm(acc, v, v, out=acc)
    with pytest.raises(ProgramError, match="tied"):
        b.vpdpbusd_ymm(acc, v, v)

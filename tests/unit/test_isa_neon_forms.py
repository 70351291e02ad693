"""The NEON ISA's facts: register files, the plug-in, form names, scheduling classes, operand
arrangements, extensions, tied accumulators and the assembly templates.

Covers isa_models.neon (``__init__``: ISA, PLUGIN; forms: define, the naming and class rules,
C_PRELUDE). Semantics are in test_isa_neon_semantics.py; QEMU checks every form in
tests/oracle/test_neon_qemu.py.
"""

from __future__ import annotations

import re

import pytest

from isa_models.neon import C_PRELUDE, ISA, PLUGIN
from isa_models.neon.forms import ARR
from isa_models.registry import get_isa
from kernels.codegen.c_emit import render_asm
from kernels.codegen.targets import get_target

TARGET = get_target("aarch64_neon")

#: the kernel-facing names of the NEON contract (/tmp/neon_contract.md, shared by the helpers)
CONTRACT = """
ld1_16b ld1_8b ld1x2_16b ld1x3_16b ld1x4_16b ld1r_16b ld1r_8h ld1r_4s st1_16b st1x2_16b st1x4_16b
dup_16b dup_8h dup_4s movi_16b movi_zero_16b tbl1_16b tbl2_16b tbl3_16b tbl4_16b tbl1_8b tbx1_16b
tbx2_16b tbx3_16b tbx4_16b sdot_4s udot_4s usdot_4s sdot_lane_4s smmla_4s ummla_4s usmmla_4s
add_16b add_8h add_4s add_2d add_8b add_4h add_2s sub_16b sub_2d neg_16b neg_2s saddl_8h saddl2_8h
saddl_4s saddl2_4s uaddl_8h uaddl2_8h saddw_8h saddw2_8h saddw_4s saddw2_4s sadalp_8h sadalp_4s
uadalp_8h uadalp_4s saddlp_8h saddlp_4s uaddlp_8h addp_16b addp_8h addp_4s addv_16b addv_8h addv_4s
saddlv_16b saddlv_8h smull_8h smull2_8h smull_4s smull2_4s smlal_8h smlal2_8h smlal_4s smlal2_4s
mul_16b mul_8h mul_4s mla_16b mla_8h mla_4s sqadd_16b uqadd_8h sqsub_4s uqsub_2d sqxtn_8b sqxtn2_16b
sqxtn_4h sqxtn2_8h sqxtun_8b sqxtun2_16b xtn_8b shl_16b shl_8h shl_4s sshr_16b ushr_8h sri_4s sli_16b
sshl_16b ushl_4s and_16b orr_16b eor_16b bic_16b bsl_16b bit_16b bif_16b not_16b cnt_16b and_8b
bsl_8b cnt_8b zip1_16b zip2_8h uzp1_4s uzp2_2d trn1_16b trn2_4s ext_16b rev16_16b rev32_16b
rev64_16b cmeq_16b cmgt_8h cmge_4s cmtst_2d scvtf_4s fmul_4s fadd_4s fsub_4s fmla_4s fmul_lane_4s
""".split()

_ARR_NAMES = set(ARR) - {"1d"}


def test_isa_and_plugin():
    assert ISA.register_files == {"v": (32, 16), "x": (31, 8)}
    assert ISA.narrow_write == "zero_extend"
    assert get_isa("neon") is PLUGIN
    assert PLUGIN.isa is ISA and PLUGIN.codegen_target == "aarch64_neon"
    assert PLUGIN.default_machine == "cortex-x4" and PLUGIN.crosschecks == ("emulator",)
    assert "#include <arm_neon.h>" in C_PRELUDE and "WB_BD_s16" in C_PRELUDE


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_forms_exist(name):
    assert name in ISA


def test_names_end_with_an_arrangement_or_scalar_view():
    bad = [n for n in ISA.instructions if n.rsplit("_", 1)[-1] not in _ARR_NAMES | {"x"}]
    assert not bad


def test_sched_classes_follow_the_naming_rule():
    """neon.<mnemonic> for Q forms, .d for D forms, .lane for by-element forms, neon.ld1.<n> /
    st1.<n> / tbl.<n> / tbx.<n> by register count."""
    assert ISA["add_16b"].sched_class == "neon.add" and ISA["add_8b"].sched_class == "neon.add.d"
    assert ISA["ld1x3_16b"].sched_class == "neon.ld1.3" and ISA["ld1_8b"].sched_class == "neon.ld1.1.d"
    assert ISA["ld1_post_16b"].sched_class == "neon.ld1.1" and ISA["ld1_post_16b"].attrs["post_index"] == 16
    assert ISA["st1x4_post_16b"].sched_class == "neon.st1.4" and ISA["st1x4_post_16b"].attrs["post_index"] == 64
    assert ISA["tbl3_8b"].sched_class == "neon.tbl.3.d" and ISA["tbx4_16b"].sched_class == "neon.tbx.4"
    assert ISA["sdot_lane_4s"].sched_class == "neon.sdot.lane" and ISA["fmul_lane_4s"].sched_class == "neon.fmul.lane"
    assert ISA["addv_8b"].sched_class == "neon.addv.d" and ISA["saddl2_8h"].sched_class == "neon.saddl2"
    pattern = re.compile(r"^neon\.[a-z0-9]+(\.(d|lane|x|[1-4]|[1-4]\.d))?$")
    assert all(pattern.match(c) for c in ISA.sched_classes()), sorted(c for c in ISA.sched_classes()
                                                                      if not pattern.match(c))


def test_every_form_states_its_arrangements():
    for d in ISA.instructions.values():
        assert len(d.attrs["arrangements"]) == len(d.outs) + len(d.ins), d.name
        for spec, arr in zip((*d.outs, *d.ins), d.attrs["arrangements"]):
            if arr in ARR:
                assert ARR[arr].nbytes == spec.width, (d.name, arr, spec)


def test_extensions():
    assert ISA["sdot_4s"].attrs["requires"] == ("asimddp",) and ISA["udot_2s"].attrs["requires"] == ("asimddp",)
    for name in ("usdot_4s", "usdot_lane_4s", "sudot_lane_4s", "smmla_4s", "ummla_4s", "usmmla_4s"):
        assert ISA[name].attrs["requires"] == ("i8mm",), name
    assert "requires" not in ISA["tbl1_16b"].attrs and "requires" not in ISA["fmla_4s"].attrs


def test_accumulators_are_tied_input_zero():
    for name in ("sdot_4s", "smmla_4s", "sadalp_8h", "uadalp_4s", "mla_8h", "smlal2_4s", "fmla_4s", "tbx2_16b",
                 "bsl_16b", "bit_8b", "bif_16b", "sri_2d", "sli_16b", "sqxtn2_16b", "usra_4s"):
        d = ISA[name]
        assert d.tied == (0,) and d.ins[0] == d.outs[0], name
    assert ISA["add_16b"].tied == () and ISA["tbl2_16b"].tied == ()


@pytest.mark.parametrize("name, outs, ins, text", [
    ("add_16b", [1], [2, 3], "add v1.16b, v2.16b, v3.16b"),
    ("add_4h", [1], [2, 3], "add v1.4h, v2.4h, v3.4h"),
    ("sdot_4s", [0], [0, 4, 5], "sdot v0.4s, v4.16b, v5.16b"),
    ("sdot_lane_4s", [0], [0, 4, 5, 3], "sdot v0.4s, v4.16b, v5.4b[3]"),
    ("tbl2_16b", [7], [1, 2, 9], "tbl v7.16b, {v1.16b, v2.16b}, v9.16b"),
    ("tbx1_8b", [7], [7, 1, 9], "tbx v7.8b, {v1.16b}, v9.8b"),
    ("ld1x2_16b", [4, 5], ["[x0]"], "ld1 {v4.16b, v5.16b}, [x0]"),
    ("ld1x4_post_16b", [0, 1, 2, 3], ["[x2]"], "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x2], #64"),
    ("st1_16b", ["[x1]"], [6], "st1 {v6.16b}, [x1]"),
    ("ld1r_4s", [2], ["[x3]"], "ld1r {v2.4s}, [x3]"),
    ("dup_8h", [2], [5], "dup v2.8h, w5"),
    ("dup_2d", [2], [5], "dup v2.2d, x5"),
    ("dup_lane_4s", [2], [5, 3], "dup v2.4s, v5.s[3]"),
    ("movi_16b", [0], [255], "movi v0.16b, #255"),
    ("addv_16b", [3], [4], "addv b3, v4.16b"),
    ("saddlv_8h", [3], [4], "saddlv s3, v4.8h"),
    ("saddl2_8h", [3], [4, 5], "saddl2 v3.8h, v4.16b, v5.16b"),
    ("sadalp_4s", [3], [3, 4], "sadalp v3.4s, v4.8h"),
    ("sqxtn2_16b", [3], [3, 4], "sqxtn2 v3.16b, v4.8h"),
    ("shl_2d", [1], [2, 63], "shl v1.2d, v2.2d, #63"),
    ("sri_16b", [1], [1, 2, 8], "sri v1.16b, v2.16b, #8"),
    ("ext_16b", [1], [2, 3, 15], "ext v1.16b, v2.16b, v3.16b, #15"),
    ("cmeq_zero_4s", [1], [2], "cmeq v1.4s, v2.4s, #0"),
    ("fmla_lane_4s", [1], [1, 2, 3, 2], "fmla v1.4s, v2.4s, v3.s[2]"),
    ("ldr_x", [4], ["[x9]"], "ldr x4, [x9]"),
])
def test_asm_templates_render(name, outs, ins, text):
    assert render_asm(ISA[name], outs, ins, target=TARGET) == text


def test_every_asm_template_renders():
    """Every template formats with the target's operands (its specs are known views)."""
    for d in ISA.instructions.values():
        outs = ["[x0]" if s.is_mem else k for k, s in enumerate(d.outs)]
        ins = [1 if s.is_imm else "[x1]" if s.is_mem else 8 + j for j, s in enumerate(d.ins)]
        text = render_asm(d, outs, ins, target=TARGET)
        assert text.startswith(d.mnemonic + " ") and "{" not in text.replace("{v", "").replace("{x", ""), d.name

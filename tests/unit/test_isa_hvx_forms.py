"""The HVX forms' ISA facts: contract names, LLVM opcodes and versions, pairs and ties, templates.

Unit tests of `isa_models.hvx` (forms.py and the family modules) and its `PLUGIN`: every form
names its LLVM opcode, first HVX version and a ``hvx.<opcode>`` class; pairs and ties are
well-formed; the C and assembly templates name only operands the form has; every assembly
template, rendered with a pair-respecting register choice, is accepted by llvm-mc-19 for v73
(skipped when llvm-mc-19 is missing; CI has it).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from isa_models.hvx import ISA, PLUGIN
from isa_models.registry import get_isa

CONTRACT = """vmem_load vmem_load_cur vmem_load_tmp vmemu_load vmem_store vmem_store_new vmemu_store
vsplat_b vsplat_h vsplat_w tfrsi addi vand vor vxor vnot vadd_b vadd_h vadd_w vsub_b vsub_h vsub_w
vadd_b_sat vadd_ub_sat vadd_h_sat vadd_uh_sat vadd_w_sat vsub_b_sat vsub_ub_sat vsub_h_sat vsub_uh_sat vsub_w_sat
vadd_b_dv vadd_h_dv vadd_w_dv vadd_ubh vadd_hw vadd_hw_acc vadd_ubh_acc vasr_h_r vasr_w_r vlsr_h_r vlsr_w_r
vasl_h_r vasl_w_r vasr_h_v vlsr_h_v vasl_h_v vrmpy_ubb_vr vrmpy_ubb_vr_acc vrmpy_ubb_vv vrmpy_ubb_vv_acc
vrmpy_bb_vv vrmpy_bb_vv_acc vrmpy_ubub_vv vrmpy_ubub_vv_acc vrmpy_ubub_vr vrmpy_ubub_vr_acc vmpy_ubb_vv
vmpy_ubb_vv_acc vmpa_ubb vdmpy_ubb_vr vdmpy_ubb_vr_acc vlut16 vlut16_nm vlut16_oracc vlut32 vlut32_nm
vlut32_oracc vshuff_b vdeal_b vshuff_h vdeal_h vshuff_r vdeal_r vdelta vrdelta vcombine vlo vhi vror vzxt_ub
vzxt_uh vsxt_b vsxt_h vpacke_h vpacke_w vpacko_h vpacko_w vsat_hub vsat_wh vcmp_gt_b vcmp_gt_h vcmp_eq_b
vcmp_eq_h vmux vand_qv vassign""".split()


def test_plugin_fields():
    assert get_isa("hvx") is PLUGIN and PLUGIN.isa is ISA
    assert PLUGIN.default_machine == "snapdragon-8-gen-3" and PLUGIN.codegen_target == "hexagon_hvx"
    assert PLUGIN.crosschecks == ("emulator",)
    assert ISA.register_files == {"v": (32, 128), "q": (4, 128), "r": (32, 4)} and ISA.narrow_write == "refuse"


def test_contract_names_exist():
    missing = [n for n in CONTRACT if n not in ISA]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(ISA.instructions))
def test_form_facts(name):
    d = ISA[name]
    llvm = d.attrs["llvm"]
    assert re.fullmatch(r"(V6|A2|S2|M2)_\w+", llvm) and d.sched_class == f"hvx.{llvm}"
    assert d.attrs["since"] in (60, 62, 65, 66, 68, 69, 73)
    for kind, a, b in d.attrs["pairs"]:
        specs = d.outs if kind == "o" else d.ins
        assert b == a + 1 and specs[a].kind == specs[b].kind == "v"
        tied_pair = kind == "i" and a in d.tied      # an accumulator pair is written as the output pair
        assert f"{{{kind}{b}}}:{{{kind}{a}n}}" in d.asm or tied_pair or name in ("vlo", "vhi")
    for j, t in enumerate(d.tied):
        assert d.ins[t].kind == d.outs[j].kind
    fields = set(re.findall(r"\{([oi]\d+)n?\}", d.asm)) | set(re.findall(r"\{([oi]\d+)\}", d.c))
    have = {f"o{k}" for k in range(len(d.outs))} | {f"i{k}" for k in range(len(d.ins))}
    assert fields <= have, fields - have
    # every output is written by the C template, every input read (tied inputs by the intrinsic)
    assert {f"o{k}" for k in range(len(d.outs))} <= set(re.findall(r"\{(o\d+)\}", d.c))
    assert {f"i{k}" for k in range(len(d.ins))} <= set(re.findall(r"\{(i\d+)\}", d.c))
    for k in d.attrs.get("rt8", ()):
        assert d.ins[k].kind == "r"


def _render(d) -> str:
    """The form's assembly with distinct registers (pairs even:odd, ties shared, Rt8 in r0-r7)."""
    nxt = {"v": 2, "q": 0, "r": 1}
    pairs = d.attrs["pairs"]

    def take(kind, pair):
        n = nxt[kind] + (nxt[kind] % 2 if pair else 0)
        nxt[kind] = n + (2 if pair else 1)
        return n
    outs, ins = [], []
    for k, s in enumerate(d.outs):
        if s.is_mem:
            outs.append("r20+#0")
        elif ("o", k - 1, k) in pairs:
            outs.append(outs[k - 1] + 1)
        else:
            outs.append(take(s.kind, ("o", k, k + 1) in pairs))
    for k, s in enumerate(d.ins):
        if s.is_imm:
            ins.append(1)
        elif s.is_mem:
            ins.append("r21+#0")
        elif k in d.tied:
            ins.append(outs[d.tied.index(k)])
        elif ("i", k - 1, k) in pairs:
            ins.append(ins[k - 1] + 1)
        else:
            ins.append(take(s.kind, ("i", k, k + 1) in pairs))
    fields = {}
    for tag, specs, vals in (("o", d.outs, outs), ("i", d.ins, ins)):
        for k, (s, x) in enumerate(zip(specs, vals)):
            fields[f"{tag}{k}"] = x if (s.is_mem or s.is_imm) else f"{s.kind}{x}"
            fields[f"{tag}{k}n"] = x
    text = d.asm.format(**fields)
    if ".new" in text:                       # a .new store needs its producer in the packet
        text = "{ v2.b = vadd(v3.b,v3.b); " + text + " }"
    elif ".cur" in text or ".tmp" in text:   # a .cur/.tmp load needs its consumer in the packet
        text = "{ " + text + "; v9.b = vadd(v2.b,v2.b) }"
    return text


@pytest.mark.skipif(shutil.which("llvm-mc-19") is None, reason="needs llvm-mc-19 (apt install llvm-19)")
def test_every_asm_template_assembles(tmp_path):
    src = tmp_path / "forms.s"
    src.write_text("\n".join(_render(d) for d in ISA.instructions.values()) + "\n")
    proc = subprocess.run(["llvm-mc-19", "-triple=hexagon", "-mcpu=hexagonv73", "-mattr=+hvxv73,+hvx-length128b",
                           "-filetype=obj", "-o", str(tmp_path / "forms.o"), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0 and "error" not in proc.stderr, proc.stderr[:3000]

"""Assembly text of one instruction from its form's ``asm`` template: the filling every renderer shares.

Engine layer (imports nothing of the project but `isa_models.core` and the leaf `workbench.errors`).
An `InstrDef.asm` template names operands ``{o0}``/``{i1}`` (the operand's text; a format spec such
as an arrangement ``{o0:16b}`` is the operand's to interpret) and ``{o0n}`` (a register's number
alone: a register pair is written ``{o1}:{o0n}``). `fill_asm` fills a template from operand values
through an operand function: the codegen targets pass their architectural spelling
(kernels/codegen/packet_asm.py, c_emit.py), `virtual_asm` the Program's own operands (virtual
registers ``%v13``, memory as buffer and affine byte offset ``w[128*k + 128]``), which the VLIW
engine's packet listing prints (isa_models/core/views/packets.py).
"""

from __future__ import annotations

from typing import Callable, Sequence

from isa_models.core.isa import ISA, InstrDef, OperandSpec
from isa_models.core.program import Imm, Instr, Mem, VReg
from workbench.errors import UserError

__all__ = ["AsmTemplateError", "fill_asm", "virtual_asm", "virtual_register", "VirtualRegister"]

#: ``operand(kind, j, spec, value) -> (text, number)``: operand `j` of side `kind` ("o" outputs,
#: "i" inputs) as the template's ``{kj}`` text and ``{kjn}`` number (None: no number field)
OperandFn = Callable[[str, int, OperandSpec, object], tuple[object, object]]


class AsmTemplateError(UserError, ValueError):
    """A form without an assembly template, or a template naming an operand the form lacks."""


def fill_asm(d: InstrDef, outs: Sequence, ins: Sequence, operand: OperandFn) -> str:
    """Form `d`'s ``asm`` template filled with operand values `outs` and `ins`.

    Parameters
    ----------
    d : the instruction form.
    outs, ins : one value per output and input operand, in the form's order (registers, memory
        operands, immediates, in whatever representation `operand` takes).
    operand : ``(kind, j, spec, value) -> (text, number)``; `text` fills ``{kj}`` (a ``str``, or an
        object whose ``__format__`` reads the template's format spec), `number` fills ``{kjn}``
        when not None.

    Raises
    ------
    AsmTemplateError : `d` has no template, or its template names an operand `d` does not have.
    """
    if not d.asm:
        raise AsmTemplateError(f"instruction {d.name!r} has no assembly template")
    fields: dict[str, object] = {}
    for kind, ops, specs in (("o", outs, d.outs), ("i", ins, d.ins)):
        for j, (x, spec) in enumerate(zip(ops, specs)):
            text, number = operand(kind, j, spec, x)
            fields[f"{kind}{j}"] = text
            if number is not None:
                fields[f"{kind}{j}n"] = number
    try:
        return d.asm.format(**fields)
    except (KeyError, IndexError) as exc:
        raise AsmTemplateError(f"assembly template of {d.name!r} names operand {exc} it does not have") from None


class VirtualRegister(str):
    """A virtual register's name (``%v13``); a template's format spec follows it as a view suffix
    (``{o0:16b}`` -> ``%v13.16b``, ``{i0:.s}`` -> ``%v13.s``, ``{o0:w}`` -> ``%v13.w``)."""

    def __format__(self, spec: str) -> str:
        name = str.__str__(self)
        if not spec:
            return name
        return f"{name}{spec}" if spec.startswith(".") else f"{name}.{spec}"


class _Plain(str):
    """A memory operand or immediate: its text whatever format spec a template gives."""

    def __format__(self, spec: str) -> str:
        return str.__str__(self)


def virtual_register(r: VReg) -> VirtualRegister:
    """``%v<id>``: the Program's register without its name (a template's suffixes follow it)."""
    return VirtualRegister(f"%v{r.id}")


def virtual_asm(ins: Instr, isa: ISA) -> str:
    """`ins` in its ISA's assembly syntax with the Program's own operands, or its Program text
    (``str(ins)``) when its form has no ``asm`` template.

    Registers render as `virtual_register` (a pair ``{o1}:{o0n}`` as ``%v3:%v2``), memory operands
    as the buffer and its affine byte offset (``w[4096*kb + 128]``), immediates by the ISA's
    ``asm_immediate`` (the number where templates write the ``#`` themselves; ``$4`` in AT&T).
    The instruction's comment is left out.
    """
    d = isa[ins.op]
    if not d.asm:
        return str(ins)
    imm_fmt = getattr(isa, "asm_immediate", "{}")

    def operand(kind: str, j: int, spec: OperandSpec, x) -> tuple[object, object]:
        if isinstance(x, VReg):
            name = virtual_register(x)
            return name, name
        if isinstance(x, Mem):
            return _Plain(str(x)), None
        if isinstance(x, Imm):
            return _Plain(imm_fmt.format(int(x.value))), None
        raise AsmTemplateError(f"instruction {d.name!r}: operand {kind}{j} is {x!r}, not a register, "
                               f"memory operand or immediate")
    return fill_asm(d, ins.outs, ins.ins, operand)

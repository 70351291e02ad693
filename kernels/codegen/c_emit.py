"""Emit a Program as a C function for its codegen target, and its innermost loops as assembly.

Codegen layer (`kernels.codegen`), the third use of a Program (DESIGN.md §3): `emit_c` writes the
target's prelude and one C function taking one ``uint8_t *`` per buffer (in declaration order);
loops become ``for`` loops, virtual registers locals of the target's C type for their register
file, memory operands pointer arithmetic from their affine byte offsets, and each instruction its
ISA ``c`` template. Innermost loop bodies are framed by ``WB-LOOP-BEGIN/END`` inline-asm comment
markers, which `emit_asm` uses to cut those loops out of the compiler's assembly (the same
compiler and flags the runners build with) for llvm-mca. The target (`kernels.codegen.targets`)
defaults to the Program's ISA's.
"""

from __future__ import annotations

import re

from isa_models.core.asm_text import fill_asm
from isa_models.core.isa import InstrDef
from isa_models.core.program import Imm, Loop, Mem, Program, VReg
from isa_models.registry import get_isa
from kernels.codegen.build import compile_asm
from kernels.codegen.packet_asm import render_packets
from kernels.codegen.targets import Target, get_target, resolve_target

__all__ = ["emit_c", "emit_asm", "render_c", "render_asm", "function_name", "c_identifier", "program_requirements",
           "innermost_loops"]

_IDENT = re.compile(r"[^A-Za-z0-9_]")


def c_identifier(name: str, prefix: str) -> str:
    """A C identifier for a program name (buffer, loop index): `prefix` + sanitized name."""
    return prefix + _IDENT.sub("_", name)


def function_name(program: Program) -> str:
    return c_identifier(program.name, "wb_")


def render_c(d: InstrDef, outs, ins) -> str:
    """Fill `d`'s C template with operand expressions (strings; immediates as ints)."""
    if not d.c:
        raise ValueError(f"codegen: instruction {d.name!r} has no C template")
    fields = {f"o{k}": v for k, v in enumerate(outs)}
    fields.update({f"i{k}": v for k, v in enumerate(ins)})
    try:
        return d.c.format(**fields)
    except (KeyError, IndexError) as exc:
        raise ValueError(f"codegen: C template of {d.name!r} names operand {exc} it does not have") from None


def render_asm(d: InstrDef, outs, ins, *, target: Target | str) -> str:
    """Fill `d`'s assembly template in `target`'s syntax (`Target.asm_operand`; filled by
    `isa_models.core.asm_text.fill_asm`): registers are given as numbers (``{o0n}`` is the
    number alone), memory operands as address strings, immediates as ints."""
    t = get_target(target) if isinstance(target, str) else target
    if not d.asm:
        raise ValueError(f"codegen: instruction {d.name!r} has no assembly template")

    def operand(kind: str, j: int, spec, x) -> tuple[object, object]:
        number = None if spec.is_mem or spec.is_imm else str(x)     # ``{o0n}``: a pair's low half
        return t.asm_operand(spec, x), number
    return fill_asm(d, outs, ins, operand)


def program_requirements(program: Program) -> tuple[str, ...]:
    """CPU features (cpuinfo names) beyond the target's base that the program's instructions
    need: the union of their ``attrs["requires"]``, in first-use order."""
    seen: list[str] = []
    for _, ins in program.instructions():
        for feature in program.isa[ins.op].attrs.get("requires", ()):
            if feature not in seen:
                seen.append(feature)
    return tuple(seen)


def innermost_loops(program: Program) -> list[tuple[Loop, ...]]:
    """Loop stacks (outermost first) of every innermost loop, in program order."""
    return [stack + (node,) for stack, node in program.walk()
            if isinstance(node, Loop) and not any(isinstance(n, Loop) for n in node.body)]


def _operand(x, buffers: dict[str, str]) -> object:
    if isinstance(x, VReg):
        return ("g" if x.cls == "gpr" else "r") + str(x.id)
    if isinstance(x, Imm):
        return int(x.value)
    if isinstance(x, Mem):
        terms = [str(x.offset.const)] if x.offset.const or not x.offset.terms else []
        terms = [f"{c}L * {c_identifier(n, 'ix_')}" for n, c in x.offset.terms] + terms
        return f"({buffers[x.buffer]} + ({' + '.join(terms)}))"
    raise ValueError(f"codegen: cannot render operand {x!r}")


def emit_c(program: Program, *, target: Target | str | None = None, markers: bool = True) -> str:
    """The C source (the target's prelude + one function) of `program`.

    Parameters
    ----------
    program : a Program of an ISA that has a codegen target.
    target : a `Target` or its name (default: the target of the Program's ISA).
    markers : frame innermost loop bodies with ``WB-LOOP-BEGIN/END n`` asm comments.
    """
    t = resolve_target(target, program.isa.name)
    buffers = {name: c_identifier(name, "b_") for name in program.buffers}
    regs: dict[str, str] = {}
    for _, ins in program.instructions():
        for x in (*ins.outs, *ins.ins):
            if isinstance(x, VReg):
                regs[_operand(x, buffers)] = t.c_type(x.cls)
    lines = [t.c_prelude, f"/* program {program.name} ({program.isa.name}, target {t.name}), "
                          f"generated by kernels.codegen */"]
    params = ", ".join(f"uint8_t *restrict {c}" for c in buffers.values())
    lines.append(f"void {function_name(program)}({params or 'void'})")
    lines.append("{")
    for ctype in dict.fromkeys(regs.values()):
        names = [n for n, ct in regs.items() if ct == ctype]
        for k in range(0, len(names), 12):
            lines.append(f"    {ctype} {', '.join(names[k:k + 12])};")
    counter = iter(range(1 << 30))

    def body(nodes, depth):
        pad = "    " * depth
        for node in nodes:
            if isinstance(node, Loop):
                ix = c_identifier(node.index, "ix_")
                innermost = not any(isinstance(n, Loop) for n in node.body)
                tag = next(counter) if innermost and markers else None
                if tag is not None:                 # keep the marked loop a loop (clang unrolls)
                    lines.append(f"{pad}#pragma GCC unroll 1")
                lines.append(f"{pad}for (long {ix} = 0; {ix} < {node.trip}L; {ix}++) {{")
                if tag is not None:
                    lines.append(f'{pad}    __asm__ volatile("{t.asm_comment} WB-LOOP-BEGIN {tag}");')
                body(node.body, depth + 1)
                if tag is not None:
                    lines.append(f'{pad}    __asm__ volatile("{t.asm_comment} WB-LOOP-END {tag}");')
                lines.append(f"{pad}}}")
            else:
                d = program.isa[node.op]
                text = render_c(d, [_operand(x, buffers) for x in node.outs],
                                [_operand(x, buffers) for x in node.ins])
                lines.append(f"{pad}{text}  /* {node.op} */")
    body(program.body, 1)
    lines.append("}")
    return "\n".join(lines) + "\n"


_INSTR = re.compile(r"^\s+([a-z][a-z0-9.]*)\b")

#: The comment leader of the llvm-mca region markers, whatever the target's own: llvm-mca 19 finds
#: ``LLVM-MCA-BEGIN`` only in a line-start ``#`` comment on AArch64 (a ``//`` comment reaches its
#: comment consumer as ``/ LLVM-MCA-BEGIN``, so every region is ignored), and ``#`` is x86's own.
MCA_COMMENT = "#"


def emit_asm(program: Program, *, target: Target | str | None = None, compiler: str | None = None,
             machine=None) -> str:
    """Innermost loops of `program` as assembly text for llvm-mca; for a target whose assembly is
    the workbench's packets (`Target.packet_asm`), the whole Program as those packets.

    A packet target (a VLIW core) renders `kernels.codegen.packet_asm.render_packets` for
    `machine` (default: the ISA plug-in's default machine); `compiler` does not apply.

    The emitted C is compiled with `compiler` (default: the target's first) and the flags the
    runners use (`Target.flags_for`), so the text is exactly the measured loop (register
    allocation, addressing, loop control included). Each innermost loop body, plus its
    loop-control instructions up to the back-branch (`Target.branch_prefixes`), is framed as a
    ``# LLVM-MCA-BEGIN loop<n>:<indices>`` / ``# LLVM-MCA-END`` comment region (`MCA_COMMENT`:
    ``#`` on every target, the comment llvm-mca reads markers from). Marked loops carry
    ``#pragma GCC unroll 1`` so they stay loops; where the compiler unrolls an enclosing loop the
    first copy is taken.

    Why compile rather than render the templates with a register allocator: the compiled text is
    the code the native runner measures, so llvm-mca's figure and the measured figure describe
    the same instructions (addressing modes, the compiler's register copies around tied
    accumulators, loop control).
    """
    t = resolve_target(target, program.isa.name)
    if t.packet_asm is not None:
        if machine is None:
            plugin = get_isa(program.isa.name)
            machine = plugin.load_machine(plugin.default_machine)
        return render_packets(program, machine, t.packet_asm)
    compiler = compiler or t.compilers[0]
    text = compile_asm(emit_c(program, target=t), flags=t.flags_for(program_requirements(program), compiler),
                       compiler=compiler)
    loops = innermost_loops(program)
    source = text.splitlines()
    out: list[str] = []
    for tag, stack in enumerate(loops):
        begins = [k for k, s in enumerate(source) if s.strip() == f"{t.asm_comment} WB-LOOP-BEGIN {tag}"]
        ends = [k for k, s in enumerate(source) if s.strip() == f"{t.asm_comment} WB-LOOP-END {tag}"]
        if not begins or len(begins) != len(ends) or any(e < b for b, e in zip(begins, ends)):
            raise RuntimeError(f"codegen: loop {tag} of {program.name!r} is not intact in {compiler}'s "
                               f"assembly ({len(begins)} begin and {len(ends)} end markers)")
        begin, end = begins[0], ends[0]           # outer unrolling copies the loop: take the first
        region = [s for s in source[begin + 1:end] if _keep(s, t.asm_comment)]
        for s in source[end + 1:]:
            if "WB-LOOP-" in s:
                break
            if _keep(s, t.asm_comment):
                region.append(s)
                m = _INSTR.match(s)
                if m and (m.group(1) + " ").startswith(t.branch_prefixes):   # "b " matches b, not bic
                    break
        label = ",".join(f"{lp.index}<{lp.trip}" for lp in stack)
        out += [f"{MCA_COMMENT} LLVM-MCA-BEGIN loop{tag}:{label}", *region, f"{MCA_COMMENT} LLVM-MCA-END", ""]
    return "\n".join(out)


def _keep(line: str, comment: str) -> bool:
    s = line.strip()
    if not s or s.startswith(comment) or (s.startswith(".") and not s.endswith(":")):
        return False
    return s not in ("#APP", "#NO_APP")        # gcc's inline-asm brackets (any target's syntax)

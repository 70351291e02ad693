"""Hexagon packet-assembly syntax: what `kernels.codegen.packet_asm` needs to print Hexagon packets.

Codegen target helper (no ``TARGET`` of its own; `targets/hexagon_hvx.py` names `SYNTAX` as its
``packet_asm``). The generic renderer forms the packets, allocates registers and plans address
streams; this module spells them: ``{ ... }`` packets, ``v3``/``q0``/``r4`` registers, vector
addresses ``r4+#1`` (offsets in vectors, #s4) and ``r4++#1`` (post-increment, #s3) or
``r4++m0``, ``loop0(.L,#n)`` / ``loop1`` hardware loops closed by ``}:endloop0`` /
``}:endloop1`` / ``}:endloop0:endloop1``, counted branches for deeper loops, and the function
frame of the Hexagon ABI (arguments in r0-r5, then the stack; r16-r27 callee-saved; return with
``jumpr r31``). Ranges and encodings were checked with llvm-mc-19 (-triple=hexagon
-mcpu=hexagonv73): ``vmem(r0+#-8..7)``, ``vmem(r0++#-4..3)``, ``loop0(.L,#0..1023)``.
"""

from __future__ import annotations

from typing import Sequence

from kernels.codegen.packet_asm import PacketSyntax

__all__ = ["HexagonSyntax", "SYNTAX"]

#: the ABI's callee-saved scalar registers (Hexagon ABI: r16-r27)
_CALLEE_SAVED = tuple(range(16, 28))


class HexagonSyntax(PacketSyntax):
    """Hexagon's packet syntax for HVX Programs (128-byte vectors)."""

    comment = "//"
    registers = {"v": tuple(range(32)), "q": tuple(range(4)), "r": tuple(range(29))}   # r29-r31: sp, fp, lr
    address_file = "r"
    argument_registers = tuple(range(6))
    scratch_registers = (*range(8, 16), 28, 6, 7, *range(16, 28))   # caller-saved first, r0-r7 last
    offset_range = (-8, 7)
    postinc_range = (-4, 3)
    modifier_registers = ("m0", "m1")
    hardware_loops = 2
    max_loop_immediate = 1023

    def register(self, file: str, number: int) -> str:
        return f"{file}{number}"

    def operand(self, spec, value) -> str:
        return str(int(value)) if spec.is_imm else str(value)

    def address(self, base: str, offset: int, *, postinc: bool, modifier: str | None = None) -> str:
        if postinc:
            return f"{base}++{modifier}" if modifier else f"{base}++#{offset}"
        return f"{base}+#{offset}"

    def add(self, dst: str, src: str, imm: int) -> str:
        return f"{dst} = add({src},#{imm})" if -32768 <= imm <= 32767 else f"{dst} = add({src},##{imm})"

    def const(self, dst: str, imm: int) -> str:
        return f"{dst} = #{imm}" if -32768 <= imm <= 32767 else f"{dst} = ##{imm}"

    def slots_taken(self, line: str) -> int:
        """A ``##`` immediate needs a constant extender word, which takes a slot of its own."""
        return 2 if "##" in line else 1

    def set_modifier(self, modifier: str, src: str) -> str:
        return f"{modifier} = {src}"

    def load_argument(self, dst: str, index: int) -> str:
        return f"{dst} = memw(r29+#{4 * index})"

    def loop_setup(self, level: int, label: str, trip) -> str:
        return f"loop{level}({label},#{trip})" if isinstance(trip, int) else f"loop{level}({label},{trip})"

    def register_limits(self, d) -> dict[tuple[str, int], int]:
        """``Rt8`` operands (``attrs["rt8"]``, input indices: vlut, vshuff/vdeal, valign, narrowing
        vasr) encode r0-r7 only."""
        return {("i", k): 8 for k in d.attrs.get("rt8", ())}

    def loop_end(self, levels: Sequence[int]) -> str:
        return "".join(f":endloop{n}" for n in sorted(levels))

    def counted_branch(self, counter: str, label: str) -> list[str]:
        return [f"p0 = cmp.gt({counter},#1)", f"{counter} = add({counter},#-1)", f"if (p0.new) jump:t {label}"]

    def packet(self, lines: Sequence[str], suffix: str = "") -> list[str]:
        if not lines:
            return [f"\t{{ nop }}{suffix}"]
        return ["\t{", *(f"\t  {line}" for line in lines), f"\t}}{suffix}"]

    def label(self, name: str) -> str:
        return f"{name}:"

    def callee_saved(self) -> tuple[int, ...]:
        return _CALLEE_SAVED

    def function(self, name: str, body: list[str], *, saved: Sequence[int]) -> list[str]:
        pairs = sorted({n - n % 2 for n in saved})
        frame = 8 * len(pairs)
        head = ["\t.text", f"\t.globl {name}", f"\t.type {name},@function", "\t.p2align 4", f"{name}:"]
        if pairs:
            head += self.packet([f"allocframe(#{frame})"])
            for k, n in enumerate(pairs):
                head += self.packet([f"memd(r29+#{8 * k}) = r{n + 1}:{n}"])
        tail = []
        for k, n in enumerate(pairs):
            tail += self.packet([f"r{n + 1}:{n} = memd(r29+#{8 * k})"])
        tail += self.packet(["dealloc_return"] if pairs else ["jumpr r31"])
        return [*head, *body, *tail, f"\t.size {name}, .-{name}"]


#: the syntax the hexagon_hvx target names as its ``packet_asm``
SYNTAX = HexagonSyntax()

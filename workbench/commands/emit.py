"""`workbench emit`: print a registered kernel's generated C intrinsics or inner-loop assembly.

Top of the flow: builds the kernel's Program for one shape (`kernels.registry`) and prints
`kernels.codegen.emit_c` (the C function `NativeKernel` compiles) or `emit_asm` (the innermost
loops cut from the compiler's assembly, framed as llvm-mca regions).
"""

from __future__ import annotations

import argparse

from isa_models.registry import get_isa, isa_names
from workbench.commands import isa_name, parse_params
from workbench.errors import UserError

__all__ = ["register", "run", "parse_shape"]


def _examples() -> str:
    """Help examples from the registry: a kernel of the first ISA with a codegen target."""
    from isa_models.registry import plugins

    coded = [p for p in plugins() if p.codegen_target and p.kernel_preference]
    if not coded:
        return "examples:\n  workbench emit --kernel KERNEL --lang program"
    isa, kernel = coded[0].name, coded[0].kernel_preference[0]
    return (f"examples:\n  workbench emit --kernel {kernel} --isa {isa} --lang c\n"
            f"  workbench emit --kernel {kernel} --isa {isa} --lang asm --shape 640,2560 | llvm-mca\n"
            f"  workbench emit --kernel {kernel} --lang program --shape 64,256")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emit", help="print a kernel's generated C or assembly",
                       description="Build the kernel's Program for one shape and print it as C with "
                                   "intrinsics (--lang c), as the innermost loops' assembly from the "
                                   "compiled C, framed for llvm-mca (--lang asm), or as the Program "
                                   "itself (--lang program).",
                       epilog=_examples(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True, help="registered kernel (see `workbench kernels`)")
    p.add_argument("--isa", type=isa_name, metavar="ISA",
                   help=f"ISA ({', '.join(isa_names())}; default: the ISA of the only kernel of that name)")
    p.add_argument("--lang", choices=("c", "asm", "program"), default="c", help="what to print (default: c)")
    p.add_argument("--shape", default="2560,2560", metavar="M,K",
                   help="projection shape: rows M, reduction K (default: 2560,2560)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="kernel build parameter (tile size), repeatable")
    p.add_argument("--compiler", default=None,
                   help="for --lang asm: one of the codegen target's compilers (default: its first)")
    p.set_defaults(handler=run)


def parse_shape(text: str) -> tuple[int, int]:
    """'640,2560' -> (640, 2560); ValueError naming the bad text otherwise."""
    parts = text.replace("x", ",").split(",")
    try:
        M, K = (int(p) for p in parts)
    except ValueError:
        raise UserError(f"--shape {text!r}: expected M,K (two positive integers)") from None
    if M <= 0 or K <= 0:
        raise UserError(f"--shape {text!r}: M and K must be positive")
    return M, K


def run(args: argparse.Namespace) -> int:
    from kernels.registry import get

    spec = get(args.kernel, args.isa)
    plugin = get_isa(spec.isa)
    M, K = parse_shape(args.shape)
    params = spec.resolve(**parse_params(args.param))
    spec.require_shape(M, K, **params)
    program = spec.build(M, K, **params)
    if args.lang == "program":
        print(program.to_text())
        return 0
    if plugin.codegen_target is None:
        from isa_models.registry import plugins

        have = ", ".join(p.name for p in plugins() if p.codegen_target) or "(none)"
        raise UserError(f"--lang {args.lang}: ISA {spec.isa} has no codegen target; ISAs with one: {have}")
    from kernels.codegen import emit_asm, emit_c, target_for_isa

    target = target_for_isa(spec.isa)
    if args.compiler is not None and args.compiler not in target.compilers:
        raise UserError(f"--compiler {args.compiler!r}: codegen target {target.name} builds with "
                        f"{', '.join(target.compilers)}")
    print(emit_c(program) if args.lang == "c" else emit_asm(program, compiler=args.compiler), end="")
    return 0

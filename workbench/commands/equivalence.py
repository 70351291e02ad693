"""`workbench equivalence`: greedy decoding with a kernel's accumulators against the exact reference.

Top of the flow: parses the arguments, checks the output paths before any work, runs
`workbench.equivalence.run_equivalence` and prints its report (`workbench.equivalence.report`),
optionally writing the JSON record and the plot. Exit code 1 when the verdict is FAILED (an exact
kernel whose logits are not bitwise identical, a bounded kernel that broke its contract without
tolerances met, a tolerance violated), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.commands import check_input_path, check_output_path, isa_name, nonnegative_int, parse_params

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    from isa_models.registry import isa_names

    p = sub.add_parser(
        "equivalence", help="greedy decoding with a kernel's accumulators against the exact reference",
        description="Run two models on the same tokens: one whose every ternary projection takes its int32 "
                    "accumulators from KERNEL (functional run, --native, or --emulator), picking each next "
                    "token greedily, and the exact reference fed the same tokens. Per step: max |logit "
                    "difference|, KL(reference || kernel), top-1 agreement, the max accumulator error of each "
                    "projection. An exact kernel must give bitwise-identical logits; a bounded kernel too "
                    "unless --max-kl / --min-top1 are given and met; a lossy kernel is judged against them "
                    "when given. Exit 1 when the verdict is FAILED.",
        epilog="examples:\n"
               "  workbench equivalence --isa ISA --kernel EXACT_KERNEL --model tiny\n"
               "  workbench equivalence --isa ISA --kernel LOSSY_KERNEL --max-kl 1e-3 --plot eq.png\n"
               "  workbench equivalence --isa ISA --kernel KERNEL --emulator --tokens 4\n"
               "  workbench equivalence --isa ISA --model-file ckpt_dir/ --prompt-ids 1,2,3 --json eq.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", required=True, metavar="ISA", type=isa_name, help=f"the ISA: {', '.join(isa_names())}")
    p.add_argument("--kernel", default=None,
                   help="registered kernel (see `workbench kernels`; default: the ISA's fastest exact kernel "
                        "the machine runs)")
    p.add_argument("--machine", default=None,
                   help="machine (default: the one modelling this CPU, else the ISA's default); fills a "
                        "machine-dependent kernel's parameter")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", default=None, metavar="PRESET",
                     help="model preset with deterministic random weights (default: tiny)")
    src.add_argument("--model-file", metavar="PATH",
                     help="GGUF file, or Hugging Face checkpoint directory / config.json / model.safetensors")
    p.add_argument("--prompt-ids", metavar="IDS", help="comma-separated prompt token ids (default: the model's BOS)")
    p.add_argument("--tokens", type=nonnegative_int, default=16, metavar="N",
                   help="decode steps after the prompt (default: 16)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="kernel parameter, repeatable (a batched kernel's tokens parameter fixes N for "
                        "every call; by default each call uses its own row count when the kernel takes it)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the preset's weights (default: 0)")
    p.add_argument("--convention", choices=("hf", "bitnet_cpp"), default="hf",
                   help="activation-scale and dequantization convention (default: hf)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--native", action="store_true", help="run the emitted C on this CPU")
    how.add_argument("--emulator", action="store_true",
                     help="run standalone executables under the codegen target's emulator")
    p.add_argument("--max-kl", type=float, default=None, metavar="X",
                   help="tolerance: largest KL(reference || kernel) of any step, nats")
    p.add_argument("--min-top1", type=float, default=None, metavar="F",
                   help="tolerance: smallest fraction of steps whose greedy tokens agree, in [0, 1]")
    p.add_argument("--json", metavar="FILE", help="also write everything as JSON")
    p.add_argument("--plot", metavar="FILE", help="plot the steps (.png, .svg or .pdf)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.commands.run import parse_token_ids
    from workbench.equivalence import check_tolerances, run_equivalence
    from workbench.equivalence.plot import PLOT_SUFFIXES, plot_equivalence
    from workbench.equivalence.report import render

    check_tolerances(args.max_kl, args.min_top1)
    prompt = parse_token_ids(args.prompt_ids) if args.prompt_ids is not None else None
    params = parse_params(args.param)
    if args.json:
        check_output_path(args.json, flag="--json")
    if args.plot:
        check_output_path(args.plot, flag="--plot", suffixes=PLOT_SUFFIXES)
    if args.model_file:
        check_input_path(args.model_file, flag="--model-file", directory=None)
    mode = "native" if args.native else "emulator" if args.emulator else "functional"
    model = None if args.model_file else (args.model or "tiny")
    result = run_equivalence(isa=args.isa, kernel=args.kernel, model=model,
                             model_file=args.model_file, machine=args.machine, params=params, mode=mode,
                             prompt_ids=prompt, tokens=args.tokens, seed=args.seed, convention=args.convention,
                             progress=not args.quiet, max_kl=args.max_kl, min_top1=args.min_top1)
    print(render(result))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result.to_json(), fh, indent=2)
        print(f"wrote {args.json}")
    if args.plot:
        plot_equivalence(result, args.plot)
        print(f"wrote {args.plot}")
    sys.stdout.flush()
    return result.verdict().exit_code

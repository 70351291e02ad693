"""`workbench project`: one model on one SoC -> decode tok/s, time to first token, J/token, and why.

Top of the flow: argument parsing and dispatch only. Names (SoC, model, engine, kernel, formats)
and ranges (threads, context, prompt) are checked by `workbench.projection.project` and the
output paths before any work starts; `workbench.projection.report` renders the result,
`workbench.projection.plot` draws it.
"""

from __future__ import annotations

import argparse
import json

from workbench.commands import check_input_path, check_output_path, positive_int

__all__ = ["register", "run"]

_EXAMPLES = """examples:
  workbench project --soc snapdragon-8-gen-3 --model bitnet-b1.58-2B-4T
  workbench project --soc kirin-9000 --model bitnet-100B --engine cpu --threads 4
  workbench project --soc raspberry-pi-5 --model bitnet-b1.58-3B --threads 1 --context 128
  workbench project --soc snapdragon-8-gen-3 --model bitnet-b1.58-2B-4T --weight-format f16 --json out.json
  workbench project --soc snapdragon-8-gen-3 --model-file ggml-model-i2_s.gguf --plot token.png"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "project", help="project a whole model on a SoC: decode tok/s, time to first token, J/token",
        description="Every op of one decode token and of a prompt's prefill on a named SoC "
                    "(`workbench socs`): the ternary projections timed by the ISA engines' simulation "
                    "of the kernel (rows split between threads, the slowest core setting each op's "
                    "time), the embedding, lm_head, attention over the KV cache, norms, RoPE, "
                    "quantization and sampling as a roofline on the cores or accelerator running them, "
                    "DRAM bandwidth shared between cores. Prints decode tok/s, time to first token, "
                    "J/token with its range, the memory footprint and a breakdown per op class with "
                    "each one's binding bound; the first lines say which defaults were taken and why.",
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--soc", required=True, metavar="NAME",
                   help="SoC name (see `workbench socs`) or a SoC TOML path")
    p.add_argument("--model", default=None, metavar="PRESET",
                   help="model preset (see `workbench models`; default: bitnet-b1.58-2B-4T)")
    p.add_argument("--model-file", default=None, metavar="FILE",
                   help="a GGUF or safetensors model file instead of a preset: its shapes and formats")
    p.add_argument("--engine", default="auto", metavar="ENGINE",
                   help="cpu, the kind of an accelerator the SoC has (`workbench socs` lists them), or "
                        "auto: the fastest decode of those (default: auto)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads, biggest cores first (default: the fastest decode among the cluster "
                        "boundaries)")
    p.add_argument("--context", type=positive_int, default=None,
                   help="KV-cache positions one decode token attends to (default: 1024, at most the model's "
                        "maximum)")
    p.add_argument("--prompt-tokens", type=positive_int, default=None,
                   help="prompt length of the prefill, for the time to first token (default: 128, at most the "
                        "model's maximum)")
    p.add_argument("--kernel", default=None,
                   help="ternary GEMV kernel of the engine's ISA (default: its fastest exact kernel the "
                        "machines run; see `workbench kernels`); needs --engine")
    p.add_argument("--head-format", default=None, metavar="FORMAT",
                   help="lm_head format: f32, f16, bf16, q8_0, q6_K, q4_0, q4_K (default: the embedding's)")
    p.add_argument("--embed-format", default=None, metavar="FORMAT",
                   help="embedding format (default: the model file's, else f16 as the official 2B-4T GGUF)")
    p.add_argument("--weight-format", default=None, metavar="FORMAT",
                   help="store the projections dense in this format instead of ternary (f16: the FP16 "
                        "baseline)")
    p.add_argument("--json", metavar="FILE", help="write the projection (results and resolved inputs) as JSON")
    p.add_argument("--plot", metavar="FILE", help="roofline + time/energy breakdown plot (PNG/SVG/PDF)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.projection import project
    from workbench.projection.plot import PLOT_SUFFIXES, plot_projection
    from workbench.projection.report import render_text

    if args.json:
        check_output_path(args.json, flag="--json")
    if args.plot:
        check_output_path(args.plot, flag="--plot", suffixes=PLOT_SUFFIXES)
    if args.model_file:
        check_input_path(args.model_file, flag="--model-file")
    r = project(soc=args.soc, model=args.model, model_file=args.model_file, engine=args.engine,
                threads=args.threads, context=args.context, prompt_tokens=args.prompt_tokens, kernel=args.kernel,
                head_format=args.head_format, embed_format=args.embed_format, weight_format=args.weight_format)
    print(render_text(r))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(r.to_json(), fh, indent=2)
        print(f"\nJSON: {args.json}")
    if args.plot:
        plot_projection(r, args.plot)
        print(f"plot: {args.plot}")
    return 0

"""`workbench claims`: the seed's numeric claims (or a user's), each checked by the projection.

Top of the flow: reads the claims file (`workbench/claims/claims.toml`, or ``--file``) through
`workbench.claims.load_claims`, which refuses a bad file in one line before anything runs;
projects every claim on the hardware it names (`workbench.claims.evaluate`) and prints one table:
claim, hardware, model, claimed range, the workbench's figure, the hardware's limit, the binding
bound and the verdict, then each verdict in words with the quoted text and the number's origin.
``--json PATH`` writes everything.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.commands import check_input_path, check_output_path

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("claims", help="check numeric claims (tok/s, GB, J/token, %% less) on named hardware",
                       description="Project each numeric claim of a claims file on the SoC and model it names "
                                   "and print the workbench's figure, the hardware's limit, the binding bound "
                                   "and a verdict: consistent; possible only if <what it takes>; impossible "
                                   "because <the limit>. The default file holds the seed's claims "
                                   "(workbench/claims/claims.toml).",
                       epilog="examples:\n  workbench claims\n  workbench claims --only 100b-tok-s-kirin-9000\n"
                              "  workbench claims --file my_claims.toml --json claims.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--file", metavar="F", help="a TOML file of [[claim]] tables (default: the seed's claims)")
    p.add_argument("--only", metavar="ID", help="only the claim with this id")
    p.add_argument("--json", metavar="PATH", help="write the claims, figures and verdicts as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.claims import load_claims
    from workbench.claims.evaluate import evaluate, render_table, to_json

    path = check_input_path(args.file, flag="--file") if args.file is not None else None
    out = check_output_path(args.json, flag="--json") if args.json is not None else None
    claims = load_claims(path, only=args.only)
    results = evaluate(claims, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(render_table(results))
    if out is not None:
        out.write_text(json.dumps(to_json(results), indent=2) + "\n")
        print(f"wrote {out}")
    return 0

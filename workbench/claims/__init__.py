"""Numeric claims about BitNet on named hardware, checked by the projection.

Top of the flow, beside `workbench.projection` (which it calls). `schema` reads and checks a
claims file (`claims.toml` holds the seed's claims: 100B at 5-7 tok/s on Kirin and Snapdragon
phones, about 20 GB, 0.028 J against 0.347 J, over 70% less memory than FP16, 55-70% and 72-82%
less energy); `evaluate` projects each claim on the hardware it names; `verdict` judges it:
"consistent", "possible only if ..." or "impossible because ...". CLI: `workbench claims`.
"""

from workbench.claims.schema import DEFAULT_FILE, QUANTITIES, Claim, ClaimsError, load_claims
from workbench.claims.verdict import KINDS, Figures, Part, Verdict, judge

__all__ = ["Claim", "ClaimsError", "QUANTITIES", "DEFAULT_FILE", "load_claims", "Figures", "Part", "Verdict",
           "KINDS", "judge", "evaluate", "render_table"]


def evaluate(claims, **kwargs):
    """`workbench.claims.evaluate.evaluate` (imported on first use: it pulls in the projection)."""
    from workbench.claims.evaluate import evaluate as _evaluate

    return _evaluate(claims, **kwargs)


def render_table(results):
    """`workbench.claims.evaluate.render_table`."""
    from workbench.claims.evaluate import render_table as _render

    return _render(results)

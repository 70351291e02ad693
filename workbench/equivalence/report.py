"""The text report of an equivalence run: header, per-step table, contract break or error
statistics, summary and verdict line.

Top of the flow (`workbench.equivalence`), printed by ``workbench equivalence``. Up to
`FULL_TABLE` steps are listed one per line; longer runs list the first steps, the steps around
the first divergence and the last steps, with the elided ranges summarised in one line each.
"""

from __future__ import annotations

from workbench.equivalence.result import EquivalenceResult

__all__ = ["render", "FULL_TABLE"]

#: runs with at most this many steps list every step
FULL_TABLE = 24


def _row(s) -> str:
    mark = "=" if s.identical else ("yes" if s.top1 else "NO")
    return (f"{s.step:>5}  {s.position:>5}  {s.input_token:>7}  {s.kernel_token:>7}  {s.reference_token:>7}  "
            f"{mark:>5}  {s.max_abs_logit_diff:>12.4g}  {s.kl:>10.3g}  {s.max_acc_error:>9}")


def _elided(steps) -> str:
    agree = sum(s.top1 for s in steps)
    return (f"  ... steps {steps[0].step}-{steps[-1].step}: top-1 {agree}/{len(steps)}, max |diff| "
            f"{max(s.max_abs_logit_diff for s in steps):.4g}, max KL {max(s.kl for s in steps):.3g}")


def _table(result: EquivalenceResult) -> list[str]:
    steps = result.steps
    lines = [f"{'step':>5}  {'pos':>5}  {'input':>7}  {'kernel':>7}  {'ref':>7}  {'top1':>5}  "
             f"{'max|dlogit|':>12}  {'KL':>10}  {'max|dacc|':>9}"]
    if len(steps) <= FULL_TABLE:
        return lines + [_row(s) for s in steps]
    keep = set(range(5)) | set(range(len(steps) - 3, len(steps)))
    first = result.first_divergence
    if first is not None:
        keep |= set(range(max(0, first - 2), min(len(steps), first + 3)))
    run: list = []
    for i, s in enumerate(steps):
        if i in keep:
            if run:
                lines.append(_elided(run))
                run = []
            lines.append(_row(s))
        else:
            run.append(s)
    if run:
        lines.append(_elided(run))
    return lines


def _errors(result: EquivalenceResult) -> list[str]:
    """Per projection (summed over layers): relative RMS and max |error| of the accumulators."""
    by_proj: dict[str, list] = {}
    for key, stats in result.errors.items():
        layer, proj = key.split(".", 1)
        by_proj.setdefault(proj, []).append((int(layer), stats))
    lines = ["accumulator error per projection (over every layer and step):",
             f"  {'proj':<5}  {'rel RMS':>9}  {'max|err|':>8}  {'differ':>7}  {'worst layer':>11}"]
    for proj, items in by_proj.items():
        sq_err = sum(s.sq_err for _, s in items)
        sq_ref = sum(s.sq_ref for _, s in items)
        values = sum(s.values for _, s in items)
        differ = sum(s.differing for _, s in items)
        worst_layer, worst = max(items, key=lambda t: t[1].max_abs)
        rel = (sq_err / sq_ref) ** 0.5 if sq_ref else 0.0
        lines.append(f"  {proj:<5}  {rel:>9.2e}  {worst.max_abs:>8}  {differ / max(values, 1):>7.1%}  "
                     f"{worst_layer:>11}")
    return lines


def render(result: EquivalenceResult) -> str:
    """The report (see the module docstring)."""
    r = result
    params = ", ".join(f"{k}={v}" for k, v in r.params.items()) or "none"
    lines = [f"equivalence: kernel {r.kernel}/{r.isa} ({r.exactness}) on {r.machine}, model {r.model}, "
             f"{r.mode} run, convention {r.convention}",
             f"  params: {params}",
             f"  prompt: {','.join(map(str, r.prompt_ids))}; {len(r.steps)} steps (0: prefill's last position, "
             f"then {len(r.steps) - 1} decode), {r.kernel_calls} kernel calls in {r.seconds:.1f} s"]
    lines += [f"  default {d}" for d in r.defaults]
    if r.bound:
        lines.append(f"  bound: {r.bound}")
    lines += ["", *_table(r), ""]
    if r.first_break is not None:
        lines.append(f"first contract break: {r.first_break.describe()}")
    if r.exactness == "lossy" or (r.first_break is not None and r.errors):
        lines += _errors(r)
    s = r.summary()
    first = "none" if s["first_divergence"] is None else f"step {s['first_divergence']}"
    lines += [f"summary: identical {s['identical']}, max |logit diff| {s['max_abs_logit_diff']:.4g}, "
              f"KL mean {s['mean_kl']:.3g} max {s['max_kl']:.3g}, top-1 agreement {s['top1_agreement']:.1%}, "
              f"first divergence {first}",
              f"  kernel tokens:    {','.join(map(str, r.kernel_tokens))}",
              f"  reference picks:  {','.join(map(str, r.reference_tokens))} (on the kernel's prefix)",
              r.verdict().line()]
    return "\n".join(lines)

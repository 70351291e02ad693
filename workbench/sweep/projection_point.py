"""One SoC projection point: a model on a SoC with an engine, threads and context -> one flat row.

Sweep layer (`workbench.sweep`), the evaluate function of ``kind = "projection"`` sweeps. It calls
`workbench.projection.project` (the ternary projections timed by the ISA engines' simulation of
the kernel's Program, the other ops as rooflines) and flattens its `Projection` into JSON scalars:
decode tok/s, J/token with its range, time to first token, prefill tok/s, the memory footprint and
the binding bound. A combination the projection refuses is an UNSUPPORTED row with the reason.
"""

from __future__ import annotations

from workbench.errors import UserError

__all__ = ["evaluate_projection_point", "CONFIG_KEYS", "RESULT_KEYS"]

CONFIG_KEYS = ("soc", "model", "engine", "kernel", "threads", "context", "prompt_tokens", "weight_format")

RESULT_KEYS = ("verdict", "reason", "resolved_engine", "resolved_kernel", "resolved_threads", "resolved_context",
               "kernel_exactness", "tok_s", "decode_s", "j_per_token", "j_low", "j_high", "ttft_s", "prefill_tok_s",
               "footprint_bytes", "dram_bytes_per_token", "bound", "warnings")


def evaluate_projection_point(config: dict) -> dict:
    """Project one configuration; the config's keys (`CONFIG_KEYS`, None: the projection's
    default) followed by `RESULT_KEYS`. verdict is PROJECTED or UNSUPPORTED (with reason).

    Raises
    ------
    UserError : a config key that is not in `CONFIG_KEYS`.
    """
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise UserError(f"projection point: unknown key {unknown[0]!r}; valid: {', '.join(CONFIG_KEYS)}")
    from workbench.projection import project

    row = {key: config.get(key) for key in CONFIG_KEYS}
    row.update({key: None for key in RESULT_KEYS})
    kwargs = {key: value for key, value in row.items() if key in CONFIG_KEYS and value is not None}
    kwargs.setdefault("engine", "auto")
    try:
        r = project(**kwargs)
    except UserError as exc:
        row.update(verdict="UNSUPPORTED", reason=str(exc).splitlines()[0])
        return row
    kernel = r.config.get("kernel") or {}
    row.update(verdict="PROJECTED", resolved_engine=r.config.get("engine"), resolved_kernel=kernel.get("name"),
               resolved_threads=r.config.get("threads"), resolved_context=r.config.get("context"),
               kernel_exactness=kernel.get("exactness"), tok_s=float(r.decode_tokens_per_s),
               decode_s=float(r.decode_seconds), j_per_token=float(r.energy.joules), j_low=float(r.energy.low),
               j_high=float(r.energy.high), ttft_s=float(r.ttft_s), prefill_tok_s=float(r.prefill_tokens_per_s),
               footprint_bytes=int(r.memory["total"]), dram_bytes_per_token=float(r.dram_bytes_per_token),
               bound=r.bound, warnings="; ".join(r.warnings) or None)
    return row

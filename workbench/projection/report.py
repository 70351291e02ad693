"""Text report of a `Projection`: what ran where, the op-class table, the totals, published figures.

Top of the projection (`workbench.projection`), read by `workbench project`. `render_text` is read
top to bottom in a minute: the header (SoC, device, engine, units and threads, kernels, formats,
context and prompt), the defaults taken and why, one row per op class of a decode token (time,
share, binding bound, DRAM bytes, operations, energy, where it ran), the totals (decode tok/s and
its binding bound, time to first token and prefill tok/s, J/token with its range, DRAM bytes per
token, the memory footprint against the device's RAM), then the SoC's published figures for the
same model beside the projection's.
"""

from __future__ import annotations

__all__ = ["render_text", "render_header", "render_classes", "render_totals", "render_published"]

_MB = 1e6


def render_header(r) -> str:
    c = r.config
    soc, model = c["soc"], c["model"]
    lines = [f"Projection: {model['name']} on {soc['name']}"
             + (f" ({soc['device']})" if soc.get("device") else ""),
             f"  engine {c['engine']}, {c['threads']} CPU thread{'s' if c['threads'] != 1 else ''}: "
             + " + ".join(f"{u['name']} ({u['count']} x {u['machine']} @ {u['clock_ghz']:g} GHz)"
                          for u in c["cpu_units"])]
    if c.get("accelerator"):
        a = c["accelerator"]
        lines.append(f"  accelerator {a['name']}: {a['machine']} @ {a['clock_ghz']:g} GHz, "
                     f"DRAM share {a['dram_gbps']:g} GB/s")
    k, pk = c.get("kernel"), c.get("prefill_kernel")
    if k:
        lines.append(f"  ternary kernel {k['name']} ({k['isa']}, weights {k['format']}); prefill: "
                     + (f"{pk['name']} (N={pk['tokens_per_call']} tokens per call)" if pk and pk.get("tokens_per_call")
                        else f"{pk['name'] if pk else k['name']} once per prompt token"))
    f = c["formats"]
    lines.append(f"  projections {f['weights']}, embedding {f['embedding']}, lm_head {f['lm_head']}"
                 f"{' (tied)' if f['lm_head_tied'] else ''}, KV cache {f['kv_cache']}; context {c['context']}, "
                 f"prompt {c['prompt_tokens']} tokens")
    d = soc["dram"]
    lines.append(f"  DRAM {d['type']}-{d['mt_s']:g}, {d['bus_bits']}-bit: {d['peak_gbps']:.1f} GB/s peak, "
                 f"{d['sustained_gbps']:.1f} GB/s sustained; {soc['node_nm']:g} nm")
    if c.get("defaults"):
        lines.append("Defaults taken:")
        lines += [f"  {line}" for line in c["defaults"]]
    return "\n".join(lines)


def render_classes(r, *, phase: str = "decode") -> str:
    """One row per op class: time, share, bound, DRAM MB, GOP, mJ, where it ran."""
    rows = r.by_class(phase=phase)
    title = "one decode token" if phase == "decode" else f"the prefill of {r.prompt_tokens} tokens"
    lines = [f"Op classes of {title}:",
             f"  {'class':<12} {'time ms':>10} {'share':>6} {'DRAM MB':>9} {'GOP':>9} {'mJ':>9}  bound (where)"]
    for cls, v in rows.items():
        lines.append(f"  {cls:<12} {v['seconds'] * 1e3:>10.3f} {100 * v['share']:>5.1f}% {v['dram_bytes'] / _MB:>9.2f} "
                     f"{v['ops'] / 1e9:>9.3f} {v['joules'] * 1e3:>9.2f}  {v['bound']}")
    engines = sorted({v["engine"] for v in rows.values()})
    lines.append("  where: " + "; ".join(f"{e}: {', '.join(c for c, v in rows.items() if v['engine'] == e)}"
                                          for e in engines))
    return "\n".join(lines)


def render_totals(r) -> str:
    e = r.energy
    mem = r.memory
    top = sorted(e.breakdown.items(), key=lambda kv: -kv[1])[:4]
    ram = r.config["soc"]["ram_gb"]
    lines = ["Totals:",
             f"  decode: {r.decode_tokens_per_s:.2f} tok/s ({r.decode_seconds * 1e3:.2f} ms per token at context "
             f"{r.config['context']}); bound by {r.bound}",
             f"  time to first token: {r.ttft_s:.3f} s (prefill of {r.prompt_tokens} tokens, "
             f"{r.prefill_tokens_per_s:.1f} tok/s)",
             f"  energy: {e.joules:.4f} J/token (range {e.low:.4f} - {e.high:.4f}); "
             + ", ".join(f"{k} {100 * v / e.joules:.0f}%" for k, v in top if e.joules),
             f"  DRAM bytes per token: {r.dram_bytes_per_token / _MB:.1f} MB",
             "  memory: " + ", ".join(f"{k} {v / _MB:.1f} MB" for k, v in mem.items() if k != "total")
             + f"; total {mem['total'] / 1e9:.3f} GB of {ram:g} GB RAM"]
    lines += [f"  WARNING: {w}" for w in r.warnings]
    return "\n".join(lines)


def render_published(r) -> str:
    """The SoC's published figures for this model beside the projection (empty when none)."""
    c = r.config
    dense = c.get("formats", {}).get("weights") if c.get("formats", {}).get("ternary") is None else None
    figures = [p for p in c["soc"].get("published", []) if p["model"] == c["model"]["name"]
               and p.get("weight_format") == dense]     # a ternary run beside ternary figures, FP16 beside FP16
    if not figures:
        return ""
    lines = ["Published figures on this SoC, same model:"]
    for p in figures:
        if p.get("tokens_per_s") and p.get("phase") == "prefill":
            ours, theirs, unit = r.prefill_tokens_per_s, p["tokens_per_s"], "prefill tok/s"
        elif p.get("tokens_per_s"):
            ours, theirs, unit = r.decode_tokens_per_s, p["tokens_per_s"], "tok/s"
        else:
            ours, theirs, unit = r.energy.joules, p["joules_per_token"], "J/token"
        same = p["threads"] == c["threads"] and p["engine"] == c["engine"]
        lines += [f"  {p['what']}: {theirs:g} {unit} ({p['threads']} threads, engine {p['engine']})",
                  f"    covers: {p['includes']}",
                  f"    source: {p['source']}",
                  f"    this projection: {ours:.3g} {unit} = {100 * ours / theirs:.0f}% of the published figure"
                  + ("" if same else f" (but run with {c['threads']} threads on engine {c['engine']}: "
                                     f"pass --threads {p['threads']} --engine {p['engine']} to compare)")]
    return "\n".join(lines)


def render_text(r) -> str:
    """The whole report (see the module docstring)."""
    blocks = [render_header(r), render_classes(r), render_totals(r), render_published(r)]
    return "\n\n".join(b for b in blocks if b)

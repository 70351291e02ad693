"""Every op of one decode token, and of a prefill of P tokens, of a BitNet b1.58 model.

Projection layer (`workbench.projection`), the first step: from a `ModelConfig` alone, the list
of ops a token runs (research/reference.md §1.2: embedding row, per layer attn RMSNorm, activation
quantization, q/k/v, RoPE, KV-cache write, attention over the context, attn_sub_norm, o, residual,
ffn RMSNorm, quantization, gate/up, relu^2 x up, ffn_sub_norm, quantization, down, residual; final
norm, lm_head, argmax). Each `Op` carries its arithmetic work by kind (`WORK_KINDS`), its DRAM
bytes (weights, KV cache) and on-chip bytes, and for a matrix op its (M, K, N); `engines` times
them. Nothing here depends on a machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from workbench.errors import UserError
from workbench.projection.dense_formats import WORK_KINDS, get_dense_format
from workbench.reference import PROJECTIONS

__all__ = ["Op", "OP_CLASSES", "EXP_FP32_OPS", "KV_BYTES", "ACT_BYTES", "decode_ops", "prefill_ops",
           "kv_cache_bytes", "activation_bytes"]

#: op classes, in the order reports list them
OP_CLASSES = ("ternary", "dense_proj", "lm_head", "embedding", "attention", "norm", "rope", "quantize",
              "elementwise", "kv_write", "sampling")

#: fp32 operations of one exp() in a vectorised softmax. Assumption: ggml's ggml_v_expf (NEON and
#: AVX2) is a range reduction, a degree-5 polynomial and an exponent scaling, about 20 vector
#: instructions per vector of results; softmax is a small share of a decode token at any context here.
EXP_FP32_OPS = 20.0

#: bytes of one cached K or V element: f16, llama.cpp's and bitnet.cpp's default cache type
KV_BYTES = 2
#: bytes of one activation element between ops (fp32)
ACT_BYTES = 4


@dataclass(frozen=True)
class Op:
    """One op of a token, repeated `count` times (once per layer for layer ops).

    Attributes
    ----------
    name : "q", "attn_norm", "lm_head", ... (unique in a token).
    cls : one of `OP_CLASSES`.
    count : instances per token (or per prefill).
    work : work kind (`WORK_KINDS`) -> operations of one instance.
    dram_bytes : bytes one instance reads or writes in DRAM (weights, KV cache).
    onchip_bytes : bytes one instance reads and writes in caches (activations, scores).
    shape : (M, K) of a matrix op (ternary, dense_proj, lm_head), else None.
    tokens : activation rows per instance (N of a batched matrix op; 1 for decode).
    weight_format : the format of the op's weights (a dense format name, or "ternary").
    note : what the op counts, in words.
    """

    name: str
    cls: str
    count: int
    work: Mapping[str, float]
    dram_bytes: float = 0.0
    onchip_bytes: float = 0.0
    shape: tuple[int, int] | None = None
    tokens: int = 1
    weight_format: str | None = None
    note: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cls not in OP_CLASSES:
            raise ValueError(f"op {self.name}: class {self.cls!r} is not one of {', '.join(OP_CLASSES)}")
        bad = sorted(set(self.work) - set(WORK_KINDS))
        if bad:
            raise ValueError(f"op {self.name}: unknown work kind {bad[0]!r}; valid: {', '.join(WORK_KINDS)}")

    @property
    def ops(self) -> float:
        """Operations of one instance, every kind counted (a MAC is one)."""
        return float(sum(self.work.values()))

    def to_json(self) -> dict:
        return {"name": self.name, "cls": self.cls, "count": self.count, "work": dict(self.work),
                "dram_bytes": self.dram_bytes, "onchip_bytes": self.onchip_bytes,
                "shape": list(self.shape) if self.shape else None, "tokens": self.tokens,
                "weight_format": self.weight_format, "note": self.note}


def kv_cache_bytes(config, positions: int) -> int:
    """Bytes of the K and V cache of every layer holding `positions` tokens (f16)."""
    return 2 * config.num_layers * config.kv_size * positions * KV_BYTES


def activation_bytes(config, context: int) -> int:
    """Bytes of the working activations of one decode step: the residual stream, the largest
    intermediate vector (fp32 and its int8 copy), q/k/v, one head's scores over the context per
    head, and the logits."""
    h, i = config.hidden_size, config.intermediate_size
    vectors = (2 * h + 2 * i + config.q_size + 2 * config.kv_size) * ACT_BYTES + max(h, i)
    return vectors + config.num_heads * context * ACT_BYTES + config.vocab_size * ACT_BYTES


def _norm(name: str, n: int, count: int, tokens: int) -> Op:
    """RMSNorm over n elements: sum of squares, scale by rsqrt, multiply by the weight."""
    return Op(name, "norm", count, {"fp32_fma": n * tokens, "fp32_op": 2.0 * n * tokens},
              dram_bytes=float(n * ACT_BYTES), onchip_bytes=2.0 * n * tokens * ACT_BYTES,
              tokens=tokens, note=f"RMSNorm over {n} (fp32), weights {n} x 4 B")


def _quant(name: str, n: int, count: int, tokens: int) -> Op:
    """Per-token absmax int8 quantization: |x| and max, scale, round and clamp, narrow."""
    return Op(name, "quantize", count, {"fp32_op": 4.0 * n * tokens}, onchip_bytes=(ACT_BYTES + 1) * n * tokens,
              tokens=tokens, note=f"absmax int8 quantization of {n} activations per token")


def _projection(proj: str, config, count: int, tokens: int, *, ternary_bytes: Callable[[int, int], float],
                weight_format: str | None) -> Op:
    M, K = config.projection_shape(proj)
    if weight_format is None:
        return Op(proj, "ternary", count, {"int8_mac": float(M) * K * tokens, "fp32_op": 2.0 * M * tokens},
                  dram_bytes=float(ternary_bytes(M, K)), onchip_bytes=float(K + ACT_BYTES * M) * tokens,
                  shape=(M, K), tokens=tokens, weight_format="ternary",
                  note=f"ternary {M}x{K} x {tokens} token(s), int32 accumulators scaled to fp32")
    fmt = get_dense_format(weight_format)
    work = {k: v * tokens for k, v in fmt.dot_work(M, K).items()}
    return Op(proj, "dense_proj", count, work, dram_bytes=float(fmt.matrix_bytes(M, K)),
              onchip_bytes=float(ACT_BYTES * (K + M)) * tokens, shape=(M, K), tokens=tokens,
              weight_format=weight_format, note=f"dense {weight_format} {M}x{K} x {tokens} token(s)")


def _layer_ops(config, *, tokens: int, score_pairs: float, kv_read_positions: float,
               ternary_bytes, weight_format) -> list[Op]:
    """The ops of every decoder layer (count = layers) for `tokens` rows.

    score_pairs : (query token, cached position) pairs attention computes per head group.
    kv_read_positions : cached positions whose K and V are read from DRAM per layer.
    """
    L, h, i = config.num_layers, config.hidden_size, config.intermediate_size
    qs, kv, hd, heads = config.q_size, config.kv_size, config.head_dim, config.num_heads
    proj = {p: _projection(p, config, L, tokens, ternary_bytes=ternary_bytes, weight_format=weight_format)
            for p in PROJECTIONS}
    attention = Op(
        "attention", "attention", L,
        {"fp16_fma": 2.0 * heads * hd * score_pairs,                       # q.k and the weighted V sum on f16 K, V
         "fp32_op": heads * score_pairs * (EXP_FP32_OPS + 3.0)},           # max, exp, sum, scale
        dram_bytes=2.0 * kv * kv_read_positions * KV_BYTES,
        onchip_bytes=(heads * score_pairs + (qs * 2) * tokens) * ACT_BYTES,
        tokens=tokens,
        note=f"GQA {heads} query heads on {config.num_kv_heads} KV heads, head_dim {hd}: q.k scores, "
             f"softmax, weighted V sum on the f16 cache (llama.cpp's vec_dot_f16 per head)")
    rope = Op("rope", "rope", L, {"fp32_fma": float(qs + kv) * tokens, "fp32_op": float(qs + kv) * tokens},
              onchip_bytes=2.0 * (qs + kv) * tokens * ACT_BYTES, tokens=tokens,
              note="rotate q and k: x*cos - y*sin per element (a multiply and a multiply-add)")
    kv_write = Op("kv_write", "kv_write", L, {"fp32_op": 2.0 * kv * tokens},
                  dram_bytes=2.0 * kv * tokens * KV_BYTES, onchip_bytes=2.0 * kv * tokens * ACT_BYTES,
                  tokens=tokens, note="K and V of the new token(s) narrowed to f16 and stored in the cache")
    return [
        _norm("attn_norm", h, L, tokens), _quant("attn_quant", h, L, tokens),
        proj["q"], proj["k"], proj["v"], rope, kv_write, attention,
        _norm("attn_sub_norm", qs, L, tokens), _quant("attn_sub_quant", qs, L, tokens), proj["o"],
        Op("attn_residual", "elementwise", L, {"fp32_op": float(h) * tokens},
           onchip_bytes=3.0 * h * tokens * ACT_BYTES, tokens=tokens, note="residual add"),
        _norm("ffn_norm", h, L, tokens), _quant("ffn_quant", h, L, tokens), proj["gate"], proj["up"],
        Op("relu2_mul", "elementwise", L, {"fp32_op": 3.0 * i * tokens},
           onchip_bytes=3.0 * i * tokens * ACT_BYTES, tokens=tokens, note="relu(gate)^2 x up"),
        _norm("ffn_sub_norm", i, L, tokens), _quant("ffn_sub_quant", i, L, tokens), proj["down"],
        Op("ffn_residual", "elementwise", L, {"fp32_op": float(h) * tokens},
           onchip_bytes=3.0 * h * tokens * ACT_BYTES, tokens=tokens, note="residual add"),
    ]


def _embedding(config, fmt_name: str, tokens: int) -> Op:
    fmt = get_dense_format(fmt_name)
    h = config.hidden_size
    work = {k: v * h * tokens for k, v in fmt.work.items() if k in ("fp16_convert", "int8_op")}
    work["fp32_op"] = float(h) * tokens                                   # scale to fp32
    return Op("embedding", "embedding", 1, work, dram_bytes=float(fmt.row_bytes(h)) * tokens,
              onchip_bytes=float(h * ACT_BYTES) * tokens, tokens=tokens, weight_format=fmt_name,
              note=f"{tokens} row(s) of {h} read from the {fmt_name} embedding table")


def _head(config, fmt_name: str) -> Op:
    fmt = get_dense_format(fmt_name)
    M, K = config.vocab_size, config.hidden_size
    return Op("lm_head", "lm_head", 1, fmt.dot_work(M, K), dram_bytes=float(fmt.matrix_bytes(M, K)),
              onchip_bytes=float(ACT_BYTES * (K + M)), shape=(M, K), weight_format=fmt_name,
              note=f"{M}x{K} {fmt_name} matrix-vector product (last token only)")


def _tail(config, head_format: str) -> list[Op]:
    return [_norm("final_norm", config.hidden_size, 1, 1), _head(config, head_format),
            Op("sampling", "sampling", 1, {"fp32_op": float(config.vocab_size)},
               onchip_bytes=float(config.vocab_size * ACT_BYTES), note="argmax over the vocabulary")]


def _check_formats(embed_format: str, head_format: str, weight_format: str | None) -> None:
    for flag, name in (("--embed-format", embed_format), ("--head-format", head_format),
                       ("--weight-format", weight_format)):
        if name is not None:
            try:
                get_dense_format(name)
            except UserError as exc:
                raise UserError(f"{flag}: {exc}") from None


def decode_ops(config, *, context: int, ternary_bytes: Callable[[int, int], float], embed_format: str,
               head_format: str, weight_format: str | None = None) -> list[Op]:
    """The ops of one decode token attending to `context` positions (its own included).

    Parameters
    ----------
    config : the model (`workbench.reference.ModelConfig`).
    context : positions in the KV cache the token attends to (1..max_position).
    ternary_bytes : ``(M, K) -> bytes`` of one ternary matrix in the kernel's format.
    embed_format, head_format : dense formats of the embedding table and the lm_head.
    weight_format : a dense format for the projections (the FP16 baseline), or None (ternary).
    """
    _check_formats(embed_format, head_format, weight_format)
    if not 1 <= context <= config.max_position:
        raise UserError(f"--context {context}: model {config.name} takes 1..{config.max_position} positions")
    return [_embedding(config, embed_format, 1),
            *_layer_ops(config, tokens=1, score_pairs=float(context), kv_read_positions=float(context),
                        ternary_bytes=ternary_bytes, weight_format=weight_format),
            *_tail(config, head_format)]


def prefill_ops(config, *, prompt_tokens: int, ternary_bytes: Callable[[int, int], float], embed_format: str,
                head_format: str, weight_format: str | None = None) -> list[Op]:
    """The ops of a prefill of `prompt_tokens` tokens into an empty cache.

    Matrix ops are batched over the P tokens (weights read once per batch: the caller splits the
    batch into kernel calls), attention is causal (token t attends to t positions: P(P+1)/2
    query-position pairs, the P new K/V rows read once), the lm_head and sampling run for the
    last token only (time to first token = prefill time).
    """
    _check_formats(embed_format, head_format, weight_format)
    P = prompt_tokens
    if not 1 <= P <= config.max_position:
        raise UserError(f"--prompt-tokens {P}: model {config.name} takes 1..{config.max_position} positions")
    return [_embedding(config, embed_format, P),
            *_layer_ops(config, tokens=P, score_pairs=P * (P + 1) / 2.0, kv_read_positions=float(P),
                        ternary_bytes=ternary_bytes, weight_format=weight_format),
            *_tail(config, head_format)]

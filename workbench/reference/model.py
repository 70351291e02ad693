"""The BitNet b1.58 forward pass: prefill and decode with a KV cache, greedy generation.

Ground-truth layer: the oracle that kernels are checked against. Block order as Hugging Face
`modeling_bitnet.py` (research/reference.md §1.2): input RMSNorm -> q/k/v BitLinear -> RoPE (half
split) -> causal GQA attention -> attn_sub_norm -> o_proj -> residual; post-attention RMSNorm ->
gate/up BitLinear -> relu(gate)^2 * up -> ffn_sub_norm -> down_proj -> residual; final norm ->
lm_head (tied embedding unless the config unties it). Each BitLinear quantizes its input per token
(`workbench.quant`), takes exact int32 accumulators (`ops.ternary_matvec`, or a caller's
`acc_hook`), then dequantizes per convention, so substituted accumulators flow through the SAME
float code and logits compare bitwise. The float kernels and their fixed orders are in `ops`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from workbench.errors import UnknownNameError, UserError
from workbench.quant import dequantize_output, quantize_activations, CONVENTIONS
from workbench.reference import ops
from workbench.reference.config import ModelConfig
from workbench.reference.weights import ModelWeights, TernaryLinear

__all__ = ["KVCache", "Trace", "ProjectionRecord", "AccHook", "forward", "generate"]

AccHook = Callable[[int, str, np.ndarray, TernaryLinear], "np.ndarray | None"]


class KVCache:
    """Keys (after RoPE) and values of every layer for the positions seen so far.

    Arrays are (num_layers, capacity, num_kv_heads, head_dim) fp32; the capacity grows by doubling
    up to ``config.max_position``. `length` is the number of cached positions.
    """

    def __init__(self, config: ModelConfig, *, capacity: int = 64) -> None:
        self.config = config
        self.length = 0
        self._allocate(max(1, min(capacity, config.max_position)))

    def _allocate(self, capacity: int) -> None:
        c = self.config
        shape = (c.num_layers, capacity, c.num_kv_heads, c.head_dim)
        k, v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        if hasattr(self, "k"):
            k[:, :self.length] = self.k[:, :self.length]
            v[:, :self.length] = self.v[:, :self.length]
        self.k, self.v = k, v

    @property
    def capacity(self) -> int:
        return self.k.shape[1]

    def reserve(self, new_tokens: int) -> None:
        """Make room for `new_tokens` more positions (UserError past max_position)."""
        need = self.length + new_tokens
        if need > self.config.max_position:
            raise UserError(f"model {self.config.name!r}: position {need - 1} exceeds max_position "
                             f"{self.config.max_position}")
        if need > self.capacity:
            self._allocate(min(self.config.max_position, max(need, 2 * self.capacity)))


@dataclass
class ProjectionRecord:
    """What one BitLinear computed: int8 input q (T, K), fp32 scales s (T,), int32 acc (T, M)."""

    q: np.ndarray
    s: np.ndarray
    acc: np.ndarray


@dataclass
class Trace:
    """Collects a `ProjectionRecord` per (layer, projection) of the latest `forward` call.

    ``trace[(layer, "q")]`` gives the record; `records` is the dict itself.
    """

    records: dict[tuple[int, str], ProjectionRecord] = field(default_factory=dict)

    def __getitem__(self, key: tuple[int, str]) -> ProjectionRecord:
        return self.records[key]

    def __len__(self) -> int:
        return len(self.records)


def _bitlinear(layer: int, proj: str, linear: TernaryLinear, q: np.ndarray, s: np.ndarray, *,
               convention: str, acc_hook: AccHook | None, trace: Trace | None) -> np.ndarray:
    acc = None
    if acc_hook is not None:
        acc = acc_hook(layer, proj, q, linear)
        if acc is not None:
            want = (q.shape[0], linear.shape[0])
            acc = np.asarray(acc)
            if acc.dtype != np.int32 or acc.shape != want:
                raise ValueError(f"acc_hook layer {layer} {proj}: returned {acc.dtype} {acc.shape}, "
                                 f"expected int32 {want}")
    if acc is None:
        acc = ops.ternary_matvec(q, linear.codes)
    if trace is not None:
        trace.records[(layer, proj)] = ProjectionRecord(q=q, s=s, acc=acc)
    return dequantize_output(acc, s, linear.gamma, convention=convention,
                             weight_scale=linear.weight_scale)


_ROPE_CACHE: dict[tuple[int, float, int], tuple[np.ndarray, np.ndarray]] = {}


def _rope(config: ModelConfig, positions: int) -> tuple[np.ndarray, np.ndarray]:
    # Tables cover a power of two >= positions, so decode reuses one table.
    size = min(config.max_position, 1 << max(6, (positions - 1).bit_length()))
    key = (config.head_dim, float(config.rope_theta), size)
    if key not in _ROPE_CACHE:
        _ROPE_CACHE[key] = ops.rope_tables(config.head_dim, config.rope_theta, size)
    return _ROPE_CACHE[key]


def _check_tokens(config: ModelConfig, token_ids) -> np.ndarray:
    ids = np.asarray(token_ids)
    if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise UserError(f"token_ids must be a non-empty 1-D sequence of integers, got {ids!r}")
    bad = ids[(ids < 0) | (ids >= config.vocab_size)]
    if bad.size:
        raise UserError(f"token id {int(bad[0])} is outside the vocabulary 0..{config.vocab_size - 1} "
                         f"of model {config.name!r}")
    return ids.astype(np.int64)


def forward(weights: ModelWeights, token_ids, *, cache: KVCache | None = None, convention: str = "hf",
            acc_hook: AccHook | None = None, trace: Trace | None = None,
            last_only: bool = False) -> np.ndarray:
    """Run T tokens through the model, appending them to `cache` (prefill, or decode with T = 1).

    Parameters
    ----------
    weights : ModelWeights
    token_ids : sequence of int, length T, at positions ``cache.length ..`` (0.. without a cache)
    cache : KVCache, optional; extended in place. None: a fresh cache for these tokens only.
    convention : "hf" (default) or "bitnet_cpp": activation scale and dequantization
        (`workbench.quant`).
    acc_hook : callable ``(layer, proj, q, linear) -> int32 (T, M) or None``, optional. Supplies the
        accumulators of a projection instead of `ops.ternary_matvec` (None keeps the reference's).
    trace : Trace, optional; receives q, s and acc of every projection of every layer.
    last_only : if True, compute the lm_head only for the last token (returns shape (1, V)).

    Returns
    -------
    np.ndarray of float32, shape (T, vocab_size) (or (1, vocab_size) with `last_only`)
    """
    if convention not in CONVENTIONS:
        raise UnknownNameError(f"unknown scale convention {convention!r}; valid: {', '.join(CONVENTIONS)}")
    c = weights.config
    ids = _check_tokens(c, token_ids)
    tokens = ids.size
    if cache is None:
        cache = KVCache(c, capacity=tokens)
    elif cache.config != c:
        raise ValueError(f"KVCache was built for model {cache.config.name!r}, not {c.name!r}")
    cache.reserve(tokens)
    start = cache.length
    cos, sin = _rope(c, start + tokens)
    eps = c.rms_norm_eps
    step = dict(convention=convention, acc_hook=acc_hook, trace=trace)

    x = np.ascontiguousarray(weights.embed[ids], dtype=np.float32)
    for li, lw in enumerate(weights.layers):
        a = ops.rms_norm(x, lw.input_norm, eps)
        qa, sa = quantize_activations(a, convention=convention)
        q = _bitlinear(li, "q", lw.q, qa, sa, **step)
        k = _bitlinear(li, "k", lw.k, qa, sa, **step)
        v = _bitlinear(li, "v", lw.v, qa, sa, **step)
        q = ops.apply_rope(q, heads=c.num_heads, head_dim=c.head_dim, cos=cos, sin=sin, start=start)
        k = ops.apply_rope(k, heads=c.num_kv_heads, head_dim=c.head_dim, cos=cos, sin=sin, start=start)
        end = start + tokens
        cache.k[li, start:end] = k.reshape(tokens, c.num_kv_heads, c.head_dim)
        cache.v[li, start:end] = v.reshape(tokens, c.num_kv_heads, c.head_dim)
        o = ops.attention(q, cache.k[li, :end], cache.v[li, :end], start=start, heads=c.num_heads,
                          kv_heads=c.num_kv_heads, head_dim=c.head_dim)
        o = ops.rms_norm(o, lw.attn_sub_norm, eps)
        qo, so = quantize_activations(o, convention=convention)
        x = x + _bitlinear(li, "o", lw.o, qo, so, **step)

        b = ops.rms_norm(x, lw.post_attn_norm, eps)
        qb, sb = quantize_activations(b, convention=convention)
        gate = _bitlinear(li, "gate", lw.gate, qb, sb, **step)
        up = _bitlinear(li, "up", lw.up, qb, sb, **step)
        m = ops.rms_norm(ops.relu2_gate(gate, up), lw.ffn_sub_norm, eps)
        qm, sm = quantize_activations(m, convention=convention)
        x = x + _bitlinear(li, "down", lw.down, qm, sm, **step)
    cache.length = start + tokens

    if last_only:
        x = x[-1:]
    h = ops.rms_norm(x, weights.final_norm, eps)
    return ops.dense_matvec_f32(h, weights.output_embedding)


def generate(weights: ModelWeights, prompt_ids, *, max_new_tokens: int, convention: str = "hf",
             eos_token_id: int | None = None, acc_hook: AccHook | None = None,
             on_token: Callable[[int], None] | None = None) -> list[int]:
    """Greedy decoding: prefill the prompt, then one token at a time through the KV cache.

    Returns the generated ids (not the prompt): exactly `max_new_tokens` of them, or fewer if
    `eos_token_id` is given and produced (it is included). Ties in the argmax go to the lowest id.
    `on_token(id)` is called after each token (progress display).
    """
    if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
        raise UserError(f"max_new_tokens must be a non-negative integer, got {max_new_tokens!r}")
    ids = _check_tokens(weights.config, prompt_ids)
    cache = KVCache(weights.config, capacity=ids.size + max_new_tokens)
    out: list[int] = []
    if max_new_tokens == 0:
        return out
    logits = forward(weights, ids, cache=cache, convention=convention, acc_hook=acc_hook, last_only=True)
    while True:
        token = int(np.argmax(logits[-1]))
        out.append(token)
        if on_token is not None:
            on_token(token)
        if len(out) == max_new_tokens or token == eos_token_id:
            return out
        logits = forward(weights, [token], cache=cache, convention=convention, acc_hook=acc_hook,
                         last_only=True)

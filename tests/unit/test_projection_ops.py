"""workbench.projection.ops: the ops of a decode token and of a prefill, counted by hand for tiny."""

from __future__ import annotations

import pytest

from workbench.errors import UserError
from workbench.projection.ops import (ACT_BYTES, EXP_FP32_OPS, OP_CLASSES, decode_ops, kv_cache_bytes,
                                      prefill_ops)
from workbench.reference import PROJECTIONS, get_preset

TINY = get_preset("tiny")      # vocab 512, hidden 256, ffn 512, 2 layers, 4 heads, 2 KV heads, head_dim 64


def _tbytes(M, K):
    return M * K // 4


def _ops(**kw):
    return {o.name: o for o in decode_ops(TINY, ternary_bytes=_tbytes, embed_format="f16", head_format="f16", **kw)}


def test_every_op_of_a_decode_token_once():
    ops = _ops(context=16)
    want = ["embedding", "attn_norm", "attn_quant", "q", "k", "v", "rope", "kv_write", "attention",
            "attn_sub_norm", "attn_sub_quant", "o", "attn_residual", "ffn_norm", "ffn_quant", "gate", "up",
            "relu2_mul", "ffn_sub_norm", "ffn_sub_quant", "down", "ffn_residual", "final_norm", "lm_head",
            "sampling"]
    assert list(ops) == want
    assert all(o.cls in OP_CLASSES for o in ops.values())
    assert {n: o.count for n, o in ops.items() if o.count != 1} == {n: 2 for n in want[1:-3]}


def test_ternary_projections_by_hand():
    ops = _ops(context=16)
    shapes = {"q": (256, 256), "k": (128, 256), "v": (128, 256), "o": (256, 256), "gate": (512, 256),
              "up": (512, 256), "down": (256, 512)}
    for p in PROJECTIONS:
        op = ops[p]
        M, K = shapes[p]
        assert op.cls == "ternary" and op.shape == (M, K)
        assert op.work["int8_mac"] == M * K and op.dram_bytes == M * K // 4


def test_attention_at_a_context_by_hand():
    att = _ops(context=16)["attention"]
    # q.k and the weighted V sum: 4 heads x 64 x 16 positions each; softmax per score
    assert att.work["fp16_fma"] == 2 * 4 * 64 * 16
    assert att.work["fp32_op"] == 4 * 16 * (EXP_FP32_OPS + 3)
    # K and V of 2 KV heads x 64, f16, 16 positions: 2 x 128 x 16 x 2 bytes
    assert att.dram_bytes == 2 * 128 * 16 * 2
    assert att.count * att.dram_bytes == kv_cache_bytes(TINY, 16) == 2 * 2 * 128 * 16 * 2


def test_embedding_lm_head_norms_by_hand():
    ops = _ops(context=1)
    assert ops["embedding"].dram_bytes == 256 * 2
    head = ops["lm_head"]
    assert head.shape == (512, 256) and head.dram_bytes == 512 * 256 * 2 and head.work == {"fp16_fma": 512 * 256}
    norm = ops["ffn_sub_norm"]
    assert norm.work == {"fp32_fma": 512, "fp32_op": 1024} and norm.dram_bytes == 512 * ACT_BYTES
    q8 = {o.name: o for o in decode_ops(TINY, context=1, ternary_bytes=_tbytes, embed_format="q8_0",
                                         head_format="q4_0")}
    assert q8["embedding"].dram_bytes == 8 * 34 and q8["lm_head"].dram_bytes == 512 * 8 * 18


def test_weight_format_turns_projections_dense():
    ops = {o.name: o for o in decode_ops(TINY, context=4, ternary_bytes=_tbytes, embed_format="f16",
                                          head_format="f16", weight_format="f16")}
    assert ops["gate"].cls == "dense_proj" and ops["gate"].dram_bytes == 512 * 256 * 2


def test_prefill_batches_matrices_causal_attention_last_token_head():
    P = 8
    ops = {o.name: o for o in prefill_ops(TINY, prompt_tokens=P, ternary_bytes=_tbytes, embed_format="f16",
                                           head_format="f16")}
    assert ops["q"].tokens == P and ops["q"].work["int8_mac"] == 256 * 256 * P
    assert ops["q"].dram_bytes == 256 * 256 // 4                        # read once per batch
    assert ops["attention"].work["fp16_fma"] == 2 * 4 * 64 * (P * (P + 1) / 2)
    assert ops["lm_head"].tokens == 1 and ops["sampling"].count == 1
    assert ops["embedding"].dram_bytes == P * 256 * 2


def test_ranges_and_formats_are_user_errors():
    with pytest.raises(UserError, match="--context 257"):
        _ops(context=257)
    with pytest.raises(UserError, match="--head-format"):
        decode_ops(TINY, context=1, ternary_bytes=_tbytes, embed_format="f16", head_format="q9")
    with pytest.raises(UserError, match="--prompt-tokens 0"):
        prefill_ops(TINY, prompt_tokens=0, ternary_bytes=_tbytes, embed_format="f16", head_format="f16")

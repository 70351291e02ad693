"""Model shapes: the `ModelConfig` record and the named presets.

Ground-truth layer (imports only the leaf `workbench.errors`). A preset fixes every shape the
reference transformer, the kernels and the whole-token projections need; weights for a preset are
generated deterministically from a seed by `workbench.reference.weights`, so nothing is downloaded.
Sources for each preset are given next to it (research/reference.md §1.1, research/kernels.md §1.3).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, replace

from workbench.errors import UnknownNameError, UserError

__all__ = ["ModelConfig", "PRESETS", "get_preset", "PROJECTIONS", "check_prompt"]

# The seven BitLinear projections of a decoder layer, in execution order.
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")


def _is_int(value) -> bool:
    """True for an integer that is not a bool (JSON ``true`` must not pass as 1)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_float(value) -> float | None:
    """`value` as a float if it is a real number (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


@dataclass(frozen=True)
class ModelConfig:
    """Shapes and float constants of a BitNet b1.58 decoder-only model.

    Every projection is ternary (one fp32 scale per tensor); embedding, norms and lm_head are fp32.
    """

    name: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rope_theta: float = 500000.0
    rms_norm_eps: float = 1e-5
    max_position: int = 4096
    tie_embeddings: bool = True
    bos_token_id: int = 128000
    eos_token_id: int = 128001
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        """Check every field's type and range (UserError naming the model and the field)."""
        if not isinstance(self.name, str) or not self.name:
            raise UserError(f"model name must be a non-empty string, got {self.name!r}")
        for key in ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_heads",
                    "num_kv_heads", "head_dim", "max_position"):
            value = getattr(self, key)
            if not _is_int(value) or value <= 0:
                raise UserError(f"model {self.name!r}: {key} must be a positive integer, got {value!r}")
            object.__setattr__(self, key, int(value))
        for key in ("bos_token_id", "eos_token_id"):
            value = getattr(self, key)
            if not _is_int(value) or value < 0:
                raise UserError(f"model {self.name!r}: {key} must be a non-negative integer, "
                                f"got {value!r}")
            object.__setattr__(self, key, int(value))
        for key in ("rope_theta", "rms_norm_eps"):
            value = getattr(self, key)
            number = _as_float(value)
            if number is None or not math.isfinite(number) or number <= 0:
                raise UserError(f"model {self.name!r}: {key} must be a finite number > 0, got {value!r}")
            object.__setattr__(self, key, number)
        if not isinstance(self.tie_embeddings, bool):
            raise UserError(f"model {self.name!r}: tie_embeddings must be true or false, "
                            f"got {self.tie_embeddings!r}")
        if self.num_heads % self.num_kv_heads:
            raise UserError(f"model {self.name!r}: num_heads {self.num_heads} is not a multiple of "
                            f"num_kv_heads {self.num_kv_heads}")
        if self.head_dim % 2:
            raise UserError(f"model {self.name!r}: head_dim {self.head_dim} must be even for RoPE")

    @property
    def q_size(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_size(self) -> int:
        return self.num_kv_heads * self.head_dim

    def projection_shape(self, proj: str) -> tuple[int, int]:
        """(out_features, in_features) of one projection: rows M, reduction length K."""
        h, i = self.hidden_size, self.intermediate_size
        shapes = {"q": (self.q_size, h), "k": (self.kv_size, h), "v": (self.kv_size, h),
                  "o": (h, self.q_size), "gate": (i, h), "up": (i, h), "down": (h, i)}
        if proj not in shapes:
            raise UnknownNameError(f"unknown projection {proj!r}; valid: {', '.join(PROJECTIONS)}")
        return shapes[proj]

    def projection_shapes(self) -> dict[str, tuple[int, int]]:
        return {p: self.projection_shape(p) for p in PROJECTIONS}

    def ternary_params(self) -> int:
        """Number of ternary weights in all layers."""
        return self.num_layers * sum(m * k for m, k in self.projection_shapes().values())

    def to_dict(self) -> dict:
        return asdict(self)


# bitnet.cpp's dummy models (the model sizes of its paper's charts, 125M..100B: research/kernels.md
# §1.7). microsoft/BitNet utils/generate-dummy-bitnet-model.py `model_config` sets hidden_size,
# intermediate_size, num_hidden_layers and num_attention_heads per size, and num_key_value_heads =
# num_attention_heads (BitnetModel.set_params); everything else comes from the checkpoint directory
# given on the command line, bitnet_b1_58-large in the README's example (vocab 32002, RoPE theta
# 10000, 2048 positions, LLaMA-2 tokenizer ids, arch "bitnet" with tied output).
_DUMMY_SHAPES = {        # size: (hidden, ffn, layers, heads)
    "125M": (768, 3072, 11, 12), "350M": (1024, 3072, 24, 16), "1B": (2048, 3584, 24, 32),
    "1.5B": (1536, 9216, 28, 32), "2.7B": (3072, 7680, 24, 32), "3.8B": (3840, 8192, 24, 32),
    "7B": (4096, 12032, 32, 32), "13B": (5120, 13824, 40, 40), "30B": (6656, 16384, 60, 52),
    "70B": (8192, 24576, 80, 64),
}
_LARGE = ModelConfig("bitnet-b1.58-large", vocab_size=32002, hidden_size=1536, intermediate_size=4096,
                     num_layers=24, num_heads=16, num_kv_heads=16, head_dim=96, rope_theta=10000.0,
                     max_position=2048, bos_token_id=1, eos_token_id=2,
                     source="1bitLLM/bitnet_b1_58-large config (kernels.md §1.3 shapes 1536x4096)")
_DUMMIES = tuple(
    replace(_LARGE, name=f"bitnet-{size}", hidden_size=h, intermediate_size=f, num_layers=n,
            num_heads=a, num_kv_heads=a, head_dim=h // a,
            source=f"microsoft/BitNet utils/generate-dummy-bitnet-model.py '{size}' (MHA; vocab, "
                   "RoPE and tokenizer of bitnet_b1_58-large, the README's base)")
    for size, (h, f, n, a) in _DUMMY_SHAPES.items()
)

PRESETS: dict[str, ModelConfig] = {
    cfg.name: cfg
    for cfg in (
        # Small enough for every test to run the whole model in well under a second, and with
        # K a multiple of 256 so every weight format (TQ1_0/TQ2_0 blocks of 256) can hold it.
        ModelConfig("tiny", vocab_size=512, hidden_size=256, intermediate_size=512, num_layers=2,
                    num_heads=4, num_kv_heads=2, head_dim=64, max_position=256,
                    bos_token_id=1, eos_token_id=2, source="workbench test preset"),
        # research/reference.md §1.1 (microsoft/BitNet gpu/model.py ModelArgs; HF config of the -bf16 repo).
        ModelConfig("bitnet-b1.58-2B-4T", vocab_size=128256, hidden_size=2560, intermediate_size=6912,
                    num_layers=30, num_heads=20, num_kv_heads=5, head_dim=128,
                    source="microsoft/bitnet-b1.58-2B-4T config (research/reference.md §1.1)"),
        # 1bitLLM/bitnet_b1_58-large: LLaMA-2 tokenizer, MHA, theta 10000 (kernels.md §1.3 shapes).
        _LARGE,
        # T-MAC's BitNet-3B. lm_head tied: 1bitLLM checkpoints ship no lm_head.weight, since
        # llama.cpp's converter for them (conversion/bitnet.py BitnetModel, "BitnetForCausalLM" ->
        # MODEL_ARCH.BITNET) maps every tensor and gguf-py's MODEL_TENSORS[BITNET] has no OUTPUT;
        # the fork's build_bitnet graph multiplies by tok_embd (research/reference.md §3.2).
        ModelConfig("bitnet-b1.58-3B", vocab_size=32002, hidden_size=3200, intermediate_size=8640,
                    num_layers=26, num_heads=32, num_kv_heads=32, head_dim=100, rope_theta=10000.0,
                    max_position=2048, bos_token_id=1, eos_token_id=2, tie_embeddings=True,
                    source="1bitLLM/bitnet_b1_58-3B config (kernels.md §1.3 shapes 3200x8640); tied "
                           "lm_head (gguf-py MODEL_TENSORS[BITNET] has no output tensor)"),
        # HF1BitLLM/Llama3-8B-1.58-100B-tokens: Llama-3-8B shapes, untied lm_head.
        ModelConfig("llama3-8B-1.58", vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                    num_layers=32, num_heads=32, num_kv_heads=8, head_dim=128, max_position=8192,
                    tie_embeddings=False, source="HF1BitLLM/Llama3-8B-1.58-100B-tokens (Llama-3-8B shapes)"),
        # The "700M" of bitnet.cpp's charts: bitnet_b1_58-large's shapes (729M parameters), the
        # checkpoint the dummy-model README command starts from (kernels.md §1.7 chart table).
        replace(_LARGE, name="bitnet-700M",
                source="bitnet.cpp charts' 700M = 1bitLLM/bitnet_b1_58-large (microsoft/BitNet README "
                       "'dummy model' command; research/kernels.md §1.7)"),
        *_DUMMIES,
        # bitnet.cpp's "100B" dummy model for throughput projections
        # (microsoft/BitNet utils/generate-dummy-bitnet-model.py: hidden 8192, ffn 45568, 72 layers, 64 heads).
        ModelConfig("bitnet-100B", vocab_size=128256, hidden_size=8192, intermediate_size=45568,
                    num_layers=72, num_heads=64, num_kv_heads=64, head_dim=128,
                    source="microsoft/BitNet utils/generate-dummy-bitnet-model.py '100B'"),
    )
}


def get_preset(name: str) -> ModelConfig:
    """Return the preset called `name`; an unknown name raises UnknownNameError listing the valid ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown model preset {name!r}; valid: {', '.join(PRESETS)}") from None


def check_prompt(prompt: list[int], config: ModelConfig, new_tokens: int, *,
                 what: str = "--prompt-ids", steps_flag: str = "--max-new-tokens") -> None:
    """Refuse token ids outside `config`'s vocabulary and a prompt plus `new_tokens` that exceeds
    its context (UserError naming the flags `what` and `steps_flag` and the id or the lengths)."""
    bad = [i for i in prompt if not 0 <= i < config.vocab_size]
    if bad:
        raise UserError(f"{what}: token id {bad[0]} is outside the vocabulary "
                        f"0..{config.vocab_size - 1} of model {config.name!r}")
    if len(prompt) + new_tokens > config.max_position:
        raise UserError(f"{what} / {steps_flag}: {len(prompt)} prompt tokens + "
                        f"{new_tokens} new tokens exceed the context of model {config.name!r} "
                        f"({config.max_position} positions)")

"""The BitNet b1.58 reference transformer (Numba): configs, weights and the forward pass.

Ground-truth layer: imports nothing else of the project but `workbench.quant`. `ternary_matvec`
is the exact int32 product every kernel must reproduce; `forward` / `generate` run the model with
a `KVCache`, an optional `Trace` of every projection's (q, s, acc) and an optional `acc_hook` that
substitutes a kernel's accumulators.
"""

from workbench.reference.config import PRESETS, PROJECTIONS, ModelConfig, get_preset
from workbench.reference.model import AccHook, KVCache, ProjectionRecord, Trace, forward, generate
from workbench.reference.ops import ternary_matvec
from workbench.reference.weights import (LayerWeights, ModelWeights, TernaryLinear, random_layer,
                                         random_linear, random_weights)

__all__ = ["PRESETS", "PROJECTIONS", "ModelConfig", "get_preset", "LayerWeights", "ModelWeights",
           "TernaryLinear", "random_layer", "random_linear", "random_weights", "ternary_matvec",
           "forward", "generate", "KVCache", "Trace", "ProjectionRecord", "AccHook"]

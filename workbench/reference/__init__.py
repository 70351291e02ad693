"""The BitNet b1.58 reference transformer (Numba): configs, weights and the forward pass.

Ground-truth layer: imports nothing else of the project but `workbench.quant`.
"""

from workbench.reference.config import PRESETS, PROJECTIONS, ModelConfig, get_preset
from workbench.reference.weights import (LayerWeights, ModelWeights, TernaryLinear, random_layer,
                                         random_linear, random_weights)

__all__ = ["PRESETS", "PROJECTIONS", "ModelConfig", "get_preset", "LayerWeights", "ModelWeights",
           "TernaryLinear", "random_layer", "random_linear", "random_weights"]

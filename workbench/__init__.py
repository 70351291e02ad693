"""Ternary workbench: kernels, ISA models and RTL for BitNet b1.58, checked bit-exactly against a
Numba reference transformer.

Layers (imports flow one way; see docs/architecture.md): the ground truth (`workbench.quant`,
`workbench.formats`, `workbench.reference`), then `isa_models`, `kernels`, `rtl`, `sims`, and on top
`workbench.flow` and `workbench.cli`.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

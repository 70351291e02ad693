"""prefill_smmla: several tokens against one ternary weight with the Int8 matrix multiply (prefill).

Kernel family; the weights are in the "rows4" format (`workbench.formats.rows4`), the NEON kernel
(FEAT_I8MM ``smmla``) is `kernels/prefill_smmla/neon.py`.
"""

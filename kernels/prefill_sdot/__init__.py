"""prefill_sdot: several tokens against one ternary weight with the dot product (prefill, no i8mm).

Kernel family; the weights are in the "rows4" format (`workbench.formats.rows4`), the NEON kernel
(FEAT_DotProd ``sdot``, for cores without i8mm: Cortex-A55, A76, A77) is
`kernels/prefill_sdot/neon.py`.
"""

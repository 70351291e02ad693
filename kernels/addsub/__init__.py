"""addsub: multiply-free ternary kernels: each activation is selected by its weight's sign and added.

Kernel family (the multiply-free family the workbench's brief names beside the LUT kernels). No
instruction multiplies: the weight's code only selects (a bit mask, or a sign flip) which
activations are added and which subtracted. `neon.py`: cmtst masks straight from the packed
2-bit fields, and/bic selection, sadalp into int16 (exact). `avx2.py`: the vpsignb twin
(bounded: vpsignb cannot represent -(-128)); `lanes.py`: its int8 lane model for the
adversarial search. `hvx.py` (issue 12's HVX helper): vmux predicates, exact.
"""

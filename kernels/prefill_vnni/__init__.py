"""prefill_vnni: several tokens against one ternary weight with vpdpbusd (prefill, AVX512-VNNI).

Kernel family; the weights are in the "i2s_x86" format, the AVX2 kernel (EVEX vpdpbusd ymm) is
`kernels/prefill_vnni/avx2.py`; its twin without VNNI is `kernels/prefill_maddubs/avx2.py`.
"""

"""prefill_maddubs: several tokens against one ternary weight with vpmaddubsw (prefill, plain AVX2).

Kernel family; the weights are in the "i2s_x86" format, the AVX2 kernel (vpmaddubsw + vpmaddwd,
for cores without VNNI: Zen 3, Skylake; Alder Lake's AVX-VNNI is not modelled) is
`kernels/prefill_maddubs/avx2.py`; it shares its Program with `kernels/prefill_vnni/avx2.py`.
"""

"""prefill_vrmpy: several tokens against one ternary weight with HVX vrmpy (prefill).

Kernel family (ours); the weights are in the "rows128" format (`workbench.formats.vector_tiles`),
the HVX kernel is `kernels/prefill_vrmpy/hvx.py`: the fieldmask scheme (three vand, four vrmpy
per weight vector) with each masked weight vector multiplied against several tokens' activations.
"""

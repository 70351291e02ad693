"""Searches over kernels' inputs, generic over ISAs and kernel families.

`adversarial`: activations or weight rows that overflow a kernel's narrow accumulator lanes,
confirmed by a functional run against `workbench.reference`. `lanes`: the `LaneModel` a kernel
family declares in ``kernels/<family>/lanes.py`` and its discovery (`lane_model`).
"""

"""fieldmask: this workbench's vrmpy kernel on HVX: 2-bit fields multiplied in place, no shifts.

Kernel family (ours). The four 2-bit fields of a weight byte are four rows sharing one activation
(the rows128 tiles); masking a field in place leaves 4**f times its code, the whole byte weighs
the fourth row by 64, so three vand and four vrmpy per vector replace bitnet.cpp's shift/mask
unpack. `hvx.py` is the kernel.
"""

"""rowdot: four rows per weight byte, nested masks and one sdot per row (this workbench's design).

Kernel family; the weights are in the "rows4" format (`workbench.formats.rows4`), the NEON kernel
is `kernels/rowdot/neon.py`.
"""

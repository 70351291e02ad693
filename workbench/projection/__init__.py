"""Whole models on named SoCs: every op of a decode token and of a prefill, timed and priced.

Top of the flow, beside `workbench.flow`. `ops` lists the ops of a token from the model's shapes,
`dense_formats` the bytes and work of the dense formats (embedding, lm_head, the FP16 baseline),
`rates` the compute rates of a machine from its class table, `engines` times an op on the SoC's
units (ternary projections simulated by the ISA engines, the rest a roofline), `project` sums a
token (`project(soc=..., model=...)` -> `Projection`), `report` renders it and `plot` draws it.
"""

from workbench.projection.project import EnergyFigure, OpResult, Projection, engine_names, project

__all__ = ["project", "Projection", "OpResult", "EnergyFigure", "engine_names"]

"""The simulate flow, one pipeline for every ISA: a registered kernel, a machine and a model ->
checked integers and cycles.

Top of the flow (DESIGN.md §6, §8), under `workbench simulate`. Modules, in pipeline order:
`defaults` (ISA -> machine -> kernel, what the user left out and why), `activations` (weights of
the layers needed, activation rows, reference accumulators), `checks` (functional runs judged by
`kernels.verify`), `simulate` (`plan` / `execute` / `simulate`), `token` (tokens/s for 1..N
cores), `records` (what a run returns) and `crosscheck/` (native, emulator and RTL cross-checks
as plug-ins). The text and JSON reports are `workbench.report`, plots `workbench.plots`.
"""

from workbench.flow.activations import ACTIVATION_SOURCES, Activations, activation_rows, load_weights
from workbench.flow.checks import KernelRunner, run_checks
from workbench.flow.defaults import DEFAULT_MODEL, Resolved, resolve
from workbench.flow.records import ProjectionResult, ShapeTiming, SimulationRun
from workbench.flow.simulate import (ALL_VIEWS, VIEW_NAMES, SimulationPlan, compared_against, engine_views,
                                     execute, kernel_info, make_views, plan, simulate)
from workbench.flow.token import TokenProjection, project_token, token_weight_bytes

__all__ = ["ACTIVATION_SOURCES", "Activations", "activation_rows", "load_weights", "KernelRunner", "run_checks",
           "DEFAULT_MODEL", "Resolved", "resolve", "ProjectionResult", "ShapeTiming", "SimulationRun",
           "VIEW_NAMES", "ALL_VIEWS", "engine_views", "SimulationPlan", "compared_against", "execute",
           "kernel_info", "make_views", "plan", "simulate", "TokenProjection", "project_token", "token_weight_bytes"]

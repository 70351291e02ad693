"""What a simulate run runs on: the ISA, then its machine, kernel, model and kernel parameters.

Top of the flow (`workbench.flow`), the first step of the pipeline: names are checked in the
order a user reads a command line (ISA, machine, kernel, model, parameters), so an unknown name
is the first error, one line listing the valid ones. What the user leaves out is filled from the
ISA's plug-in (`isa_models.registry`): the machine that models this CPU when one does
(`kernels.codegen.host.host_machine`), else the ISA's default machine; the first kernel of the
ISA's preference list whose Program the machine can run (its ISA extensions); the 2B-4T model.
Every default taken is recorded as one line saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

from isa_models.registry import get_isa
from kernels import registry
from kernels.codegen import host
from workbench.errors import UserError
from workbench.flow.checks import KernelRunner
from workbench.reference import PROJECTIONS, get_preset

__all__ = ["DEFAULT_MODEL", "Resolved", "resolve", "resolve_machine", "choose_kernel"]

DEFAULT_MODEL = "bitnet-b1.58-2B-4T"


@dataclass(frozen=True)
class Resolved:
    """The resolved names of a run.

    Attributes
    ----------
    plugin : the ISA's `isa_models.registry.IsaPlugin`.
    machine : the loaded `isa_models.core.machine.Machine`.
    runner : a `workbench.flow.checks.KernelRunner` of the kernel with its resolved parameters
        (the machine's name filled into the kernel's ``machine_param``), Programs cached.
    config : the model's `workbench.reference.ModelConfig`.
    defaults : one line per default taken and why.
    """

    plugin: object
    machine: object
    runner: KernelRunner
    config: object
    defaults: tuple[str, ...]

    @property
    def spec(self):
        return self.runner.spec

    @property
    def params(self) -> dict:
        return self.runner.params


def resolve_machine(plugin, name: str | None) -> tuple[object, str | None]:
    """(machine, why) for ISA `plugin`: `name`, "host" (the machine modelling this CPU), or None
    (that machine when one exists, else the ISA's default machine); `why` is None when named."""
    isa = plugin.name
    if name == "host":
        found, reason = host.host_check(None, isa)
        if found is None:
            raise UserError(f"--machine host: {reason}")
        return found, None
    if name is not None:
        return plugin.load_machine(name), None
    found = host.host_machine(isa)
    if found is not None:
        return found, f"--machine {found.name}: models this CPU ({host.describe_host()})"
    machine = plugin.load_machine(plugin.default_machine)
    return machine, (f"--machine {machine.name}: the default machine of ISA {isa} (no {isa} machine "
                     f"models this CPU)")


def _params_for(spec, machine, params: dict) -> dict:
    """`params` with the machine's name in the kernel's ``machine_param`` (a conflicting
    ``--param`` is a UserError)."""
    out = dict(params)
    key = spec.machine_param
    if key:
        given = out.get(key)
        if given is not None and given != machine.name:
            raise UserError(f"--param {key}={given} conflicts with --machine {machine.name}: kernel {spec.name} "
                            f"is built for the machine it runs on; drop one")
        out[key] = machine.name
    return out


def _cannot_run(runner: KernelRunner, machine, config) -> str | None:
    """Why `machine` cannot run the kernel on `config`'s shapes (a missing ISA extension or an
    unsupported shape), or None."""
    for proj in PROJECTIONS:
        M, K = config.projection_shape(proj)
        try:
            program = runner.program(M, K)
        except UserError as exc:
            return str(exc)
        missing = machine.missing_extensions(program)
        if missing:
            lacking = sorted({f for fs in missing.values() for f in fs})
            return f"{runner.spec.name} needs {', '.join(lacking)}, which {machine.name} lacks"
    return None


def choose_kernel(plugin, machine, config, params: dict) -> tuple[KernelRunner, str]:
    """(runner, why) of the first kernel of the ISA's preference list (else its exact kernels by
    name) that `machine` can run on `config`'s shapes; UserError naming each refusal if none."""
    registered = {s.name: s for s in registry.kernels(plugin.name)}
    order = [n for n in plugin.kernel_preference if n in registered]
    if not order:
        order = [n for n, s in sorted(registered.items()) if s.exactness == "exact" and not s.batched]
    skipped = []
    for name in order:
        spec = registered[name]
        runner = KernelRunner(spec, **_params_for(spec, machine, params))
        problem = _cannot_run(runner, machine, config)
        if problem is None:
            why = f"--kernel {name}: fastest exact {plugin.name} kernel {machine.name} runs"
            if skipped:
                why += f" ({'; '.join(skipped)})"
            return runner, why
        skipped.append(problem)
    if not order:
        raise UserError(f"ISA {plugin.name}: no exact kernel is registered; name one with --kernel "
                        f"(registered: {', '.join(registered) or 'none'})")
    raise UserError(f"no {plugin.name} kernel runs on {machine.name} for model {config.name}: "
                    f"{'; '.join(skipped)}")


def resolve(*, isa: str, machine: str | None = None, kernel: str | None = None, model: str | None = None,
            params: dict | None = None, config=None) -> Resolved:
    """Check the names in command-line order and fill the defaults (see the module docstring).

    `config` : a `ModelConfig` to run on instead of the preset `model` (a model file's).

    Raises
    ------
    UnknownNameError : an unknown ISA, machine, kernel or model, listing the valid names.
    UserError : ``--machine host`` on a CPU no machine models; a kernel parameter the kernel
        does not take; a kernel the machine cannot run (an ISA extension it lacks, a shape).
    """
    plugin = get_isa(isa)
    mach, machine_why = resolve_machine(plugin, machine)
    spec = registry.get(kernel, plugin.name) if kernel is not None else None
    given = config is not None
    config = config if given else get_preset(model or DEFAULT_MODEL)
    params = dict(params or {})
    defaults = [machine_why] if machine_why else []
    if spec is None:
        runner, why = choose_kernel(plugin, mach, config, params)
        defaults.append(why)
    else:
        runner = KernelRunner(spec, **_params_for(spec, mach, params))
        for proj in PROJECTIONS:
            mach.check_program(runner.program(*config.projection_shape(proj)))
    if model is None and not given:
        defaults.append(f"--model {config.name}: the default model")
    return Resolved(plugin, mach, runner, config, tuple(defaults))

"""The ISA registry: every ISA plug-in, discovered from the `isa_models/<isa>/` packages.

Plug-in layer between the engines (`isa_models.core`) and everything above them (DESIGN.md §8). An
ISA is a package and nothing more: its ``__init__`` declares ``PLUGIN``, an `IsaPlugin` naming its
instruction set, its machine folder, its default machine and kernel preference, its codegen target
and the cross-checks that apply to it. The kernel registry, the codegen targets, the simulate flow
and every CLI list, ``choices=`` and error message derive their ISA names from here, so nothing
above the engines names an ISA. Tests register toy ISAs with `register_isa`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from isa_models.core.isa import ISA
from isa_models.core.machine import load_machine
from workbench.errors import UnknownNameError, UserError

__all__ = ["IsaPlugin", "register_isa", "unregister_isa", "isa_names", "get_isa", "plugins", "rtl_plugin",
           "MACHINES_ROOT",
           "CROSSCHECKS"]

#: where the machine TOMLs of the built-in ISAs live: one folder per ISA
MACHINES_ROOT = Path(__file__).resolve().parent / "machines"

#: the cross-check kinds a plug-in may declare (workbench.flow.crosscheck implements them)
CROSSCHECKS = ("native", "emulator", "rtl")

#: packages of isa_models that are not ISAs
_NOT_ISAS = ("core", "machines")


@dataclass(frozen=True)
class IsaPlugin:
    """One ISA as the layers above the engines see it.

    Attributes
    ----------
    name : the ISA's name ("avx2"), its package and its machine folder.
    description : one line for listings.
    default_machine : the machine a run uses when none is named and no machine of this ISA models
        the CPU underneath (`kernels.codegen.host_machine`).
    kernel_preference : kernel names, fastest exact kernel first; a run without ``--kernel`` takes
        the first one registered for this ISA that the machine can run.
    isa : the instruction set, or None when it depends on the machine (an NPU command set sized
        by its array): then `isa_for` builds it.
    isa_for : ``machine -> ISA`` for machine-dependent instruction sets (default: `isa`).
    codegen_target : the module name under `kernels/codegen/targets/` that emits and runs this
        ISA's Programs as C, or None.
    crosschecks : cross-checks that apply ("native", "emulator", "rtl").
    machines_dir : the folder of its machine TOMLs (default ``isa_models/machines/<name>``).
    describe_machine : optional ``machine -> dict`` of ISA-specific figures for machine listings
        (AVX2: the vector ALU pipes).
    rtl_params : for an ISA with an RTL implementation (`rtl/`, cross-check "rtl"): ``machine ->``
        the parameter record the RTL is elaborated from (the NPU's `NpuParams`).
    roofline_classes : work kind -> (scheduling class, operations per instruction): the
        instruction that stands for one kind of arithmetic in a roofline of the ops that are not
        simulated (`workbench.projection.rates`: rate = operations per instruction / the class's
        reciprocal throughput on the machine x clock). Kinds: ``int8_mac``, ``int8_op``,
        ``fp32_fma``, ``fp32_op``, ``fp16_convert``, ``fp16_fma`` (`workbench.projection.dense_formats.WORK_KINDS`).
        A kind the ISA has no class for does not run on its machines (empty: none does).
    """

    name: str
    description: str
    default_machine: str
    kernel_preference: tuple[str, ...] = ()
    isa: ISA | None = None
    isa_for: Callable | None = None
    codegen_target: str | None = None
    crosschecks: tuple[str, ...] = ()
    machines_dir: Path | None = None
    describe_machine: Callable | None = None
    rtl_params: Callable | None = None
    roofline_classes: dict = field(default_factory=dict, compare=False)
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.isa is None and self.isa_for is None:
            raise ValueError(f"ISA plug-in {self.name}: needs isa or isa_for")
        bad = [c for c in self.crosschecks if c not in CROSSCHECKS]
        if bad:
            raise ValueError(f"ISA plug-in {self.name}: unknown cross-check {bad[0]!r}; valid: "
                             f"{', '.join(CROSSCHECKS)}")
        if self.machines_dir is None:
            object.__setattr__(self, "machines_dir", MACHINES_ROOT / self.name)

    def machine_names(self) -> list[str]:
        """Names of this ISA's machine files, sorted."""
        return sorted(p.stem for p in Path(self.machines_dir).glob("*.toml"))

    def load_machine(self, name_or_path: str | Path):
        """Load machine `name_or_path` (a name in `machines_dir`, or a TOML path) with the one loader.

        An unknown name raises UnknownNameError listing this ISA's machines; a file of another ISA
        is refused naming both.
        """
        text = str(name_or_path)
        if text.endswith(".toml") or "/" in text:
            path = Path(text)
            if not path.is_file():
                raise UserError(f"machine file {path} does not exist")
        else:
            path = Path(self.machines_dir) / f"{text}.toml"
            if not path.is_file():
                raise UnknownNameError(f"unknown machine {text!r} for ISA {self.name}; valid: "
                                       f"{', '.join(self.machine_names()) or '(none)'}")
        machine = load_machine(path)
        if machine.isa != self.name:
            raise UserError(f"machine {machine.name} ({path}) is a machine of ISA {machine.isa}, not {self.name}")
        return machine

    def instruction_set(self, machine=None) -> ISA:
        """The instruction set, for `machine` when it depends on one."""
        if self.isa_for is not None and machine is not None:
            return self.isa_for(machine)
        if self.isa is None:
            raise UserError(f"ISA {self.name}: its instruction set depends on the machine; name one")
        return self.isa


_PLUGINS: dict[str, IsaPlugin] = {}
_discovered = False


def register_isa(plugin: IsaPlugin) -> IsaPlugin:
    """Add `plugin`; another plug-in of the same name is an error."""
    old = _PLUGINS.get(plugin.name)
    if old is not None and old is not plugin:
        raise ValueError(f"ISA {plugin.name!r} registered twice")
    _PLUGINS[plugin.name] = plugin
    return plugin


def unregister_isa(name: str) -> None:
    """Remove a plug-in registered with `register_isa` (tests' toy ISAs)."""
    _PLUGINS.pop(name, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import isa_models

    for info in sorted(pkgutil.iter_modules(isa_models.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in _NOT_ISAS:
            continue
        module = importlib.import_module(f"isa_models.{info.name}")
        plugin = getattr(module, "PLUGIN", None)
        if isinstance(plugin, IsaPlugin):
            register_isa(plugin)


def plugins() -> list[IsaPlugin]:
    """Every registered ISA plug-in, sorted by name."""
    _discover()
    return [_PLUGINS[k] for k in sorted(_PLUGINS)]


def rtl_plugin() -> IsaPlugin:
    """The ISA whose machines the RTL in `rtl/` implements (the one plug-in with `rtl_params`)."""
    found = [p for p in plugins() if p.rtl_params is not None]
    if len(found) != 1:
        raise ValueError(f"expected one ISA with an RTL implementation, found {[p.name for p in found]}")
    return found[0]


def isa_names() -> list[str]:
    """Names of every registered ISA, sorted."""
    return [p.name for p in plugins()]


def get_isa(name: str) -> IsaPlugin:
    """The plug-in of ISA `name`; an unknown name raises UnknownNameError listing the valid ones."""
    _discover()
    try:
        return _PLUGINS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown ISA {name!r}; valid: {', '.join(isa_names())}") from None

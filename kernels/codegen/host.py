"""The CPU underneath: its architecture and feature flags, and the machine files that model it.

Codegen layer (`kernels.codegen`), beside the targets: a target asks `missing_cpu_flags` whether
this host runs its programs natively, and native timings are only ever compared with the machine
whose ``[host]`` table matches this CPU (`host_machine`): the hosts this project runs on change
(an AMD Zen 4 one day, a Xeon 6 the next), so nothing here names a vendor or an ISA. Facts come
from ``/proc/cpuinfo`` (first processor block) and `platform.machine`.
"""

from __future__ import annotations

import platform
from pathlib import Path

from isa_models.core.machine import load_machine, machine_names

__all__ = ["cpuinfo", "host_arch", "cpu_flags", "missing_cpu_flags", "machine_info", "describe_host",
           "host_machines", "host_machine", "host_check"]


def cpuinfo() -> dict[str, str]:
    """The first processor block of /proc/cpuinfo as key -> value (empty if unreadable)."""
    info: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info.setdefault(key.strip(), value.strip())
    return info


def host_arch() -> str:
    """This machine's architecture as `platform.machine` names it (``x86_64``, ``aarch64``)."""
    return platform.machine()


def cpu_flags() -> frozenset[str]:
    """The CPU feature names of this machine: cpuinfo ``flags`` (x86) or ``Features`` (Arm)."""
    info = cpuinfo()
    return frozenset((info.get("flags", "") + " " + info.get("Features", "")).split())


def missing_cpu_flags(required) -> list[str]:
    """Those of `required` (cpuinfo feature names) this CPU lacks, in the given order."""
    have = cpu_flags()
    return [f for f in required if f not in have]


def _number(value: str | None) -> int | None:
    value = (value or "").strip()
    for base in (10, 0):                     # decimal (x86 family/model), else 0x.. (Arm part)
        try:
            return int(value, base)
        except ValueError:
            pass
    return None


def machine_info() -> dict[str, object]:
    """Model name, vendor, family, model and stepping of this CPU, as /proc/cpuinfo reports them
    (Arm's implementer, architecture and part numbers when the x86 keys are absent)."""
    info = cpuinfo()
    return {"model_name": info.get("model name") or info.get("Hardware") or platform.processor() or "unknown",
            "vendor": info.get("vendor_id") or info.get("CPU implementer") or "unknown",
            "family": _number(info.get("cpu family") or info.get("CPU architecture")),
            "model": _number(info.get("model") or info.get("CPU part")),
            "stepping": _number(info.get("stepping") or info.get("CPU revision"))}


def describe_host() -> str:
    """One line naming this CPU as /proc/cpuinfo does (model name, vendor, family, model)."""
    info = machine_info()
    return f"{info['model_name']} ({info['vendor']}, family {info['family']}, model {info['model']})"


def host_machines(isa: str) -> list:
    """Every machine of `isa` whose ``[host]`` table matches this CPU, in name order."""
    info, flags = machine_info(), cpu_flags()
    found = []
    for name in machine_names(isa):
        machine = load_machine(name, isa=isa)
        host = getattr(machine, "host", None)
        if host is not None and host.matches(vendor=str(info["vendor"]), family=info["family"],
                                             model=info["model"], flags=flags):
            found.append(machine)
    return found


def host_machine(isa: str):
    """The machine of `isa` whose ``[host]`` table matches this CPU (the first by name), or None.

    Native timings are only comparable with the model of the core they ran on: benchmarks and
    ``simulate --native`` pick their machine with this and refuse a host no machine models.
    """
    found = host_machines(isa)
    return found[0] if found else None


def host_check(wanted: str | None, isa: str):
    """``(machine, None)`` when the machine of `isa` that models this CPU exists and is `wanted`
    (any, when None); else ``(machine or None, reason)``, the reason one clause naming this CPU
    and what models it, for the caller's one-line refusal or skip."""
    machine = host_machine(isa)
    if machine is not None and wanted in (None, machine.name):
        return machine, None
    modelled = f"no {isa} machine" if machine is None else f"machine {machine.name}"
    return machine, (f"this host, {describe_host()}, is modelled by {modelled} (`workbench machines`; "
                     f"the [host] tables of isa_models/machines/{isa}/*.toml)")

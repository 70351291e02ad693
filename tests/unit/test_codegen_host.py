"""Host detection: /proc/cpuinfo parsed for x86 and Arm, and the machine whose [host] table
matches this CPU.

Covers kernels.codegen.host (cpuinfo, cpu_flags, missing_cpu_flags, machine_info, describe_host,
host_machines, host_machine, host_check) with faked CPUs, so it runs on any host.
"""

from __future__ import annotations

import pytest

from kernels.codegen import host

ARM_CPUINFO = {"processor": "0", "BogoMIPS": "50.00", "Features": "fp asimd evtstrm aes crc32 asimddp",
               "CPU implementer": "0x41", "CPU architecture": "8", "CPU variant": "0x3", "CPU part": "0xd0c",
               "CPU revision": "1"}
X86_CPUINFO = {"vendor_id": "AuthenticAMD", "cpu family": "25", "model": "17", "model name": "EPYC 9R14",
               "stepping": "1", "flags": "fpu sse2 avx2 avx512vl avx512_vnni"}


def test_cpuinfo_of_an_x86_and_an_arm_host(monkeypatch):
    monkeypatch.setattr(host, "cpuinfo", lambda: X86_CPUINFO)
    assert host.machine_info() == {"model_name": "EPYC 9R14", "vendor": "AuthenticAMD", "family": 25, "model": 17,
                                   "stepping": 1}
    assert host.missing_cpu_flags(["avx2", "amx_tile", "avx512vl"]) == ["amx_tile"]
    assert host.describe_host() == "EPYC 9R14 (AuthenticAMD, family 25, model 17)"
    monkeypatch.setattr(host, "cpuinfo", lambda: ARM_CPUINFO)
    info = host.machine_info()
    assert (info["vendor"], info["family"], info["model"], info["stepping"]) == ("0x41", 8, 0xD0C, 1)
    assert "asimddp" in host.cpu_flags() and host.missing_cpu_flags(["asimd", "sve"]) == ["sve"]


def test_this_host_is_described():
    info = host.machine_info()
    assert set(info) == {"model_name", "vendor", "family", "model", "stepping"} and host.describe_host()
    assert isinstance(host.host_arch(), str)


def _fake(monkeypatch, vendor, family, model, flags=()):
    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "x", "vendor": vendor, "family": family,
                                                       "model": model, "stepping": 1})
    monkeypatch.setattr(host, "cpu_flags", lambda: frozenset(flags))
    found = host.host_machine("avx2")
    return None if found is None else found.name


def test_host_machine_picks_the_machine_whose_host_table_matches(monkeypatch):
    assert _fake(monkeypatch, "AuthenticAMD", 25, 17) == "zen4"                      # EPYC 9004 (Genoa)
    assert _fake(monkeypatch, "AuthenticAMD", 25, 33) == "zen3"                      # Ryzen 5000
    assert _fake(monkeypatch, "GenuineIntel", 6, 158) == "skylake"
    assert _fake(monkeypatch, "GenuineIntel", 6, 167, ("avx2", "amx_tile", "avx512_fp16")) == "graniterapids"
    assert _fake(monkeypatch, "GenuineIntel", 6, 151) == "alderlake-p"
    assert _fake(monkeypatch, "GenuineIntel", 6, 167, ("avx2",)) is None             # a real Rocket Lake
    assert _fake(monkeypatch, "AuthenticAMD", 26, 2) is None                         # Zen 5: not modelled
    assert _fake(monkeypatch, "0x41", 8, 0xD0C, ("asimd",)) is None                  # an Arm core: no x86 match
    assert host.host_machines("npu") == []                                           # no [host] tables


def test_host_check_names_this_cpu_and_what_models_it(monkeypatch):
    _fake(monkeypatch, "AuthenticAMD", 25, 17)
    machine, reason = host.host_check(None, "avx2")
    assert machine.name == "zen4" and reason is None
    assert host.host_check("zen4", "avx2") == (machine, None)
    machine, reason = host.host_check("alderlake-p", "avx2")
    assert machine.name == "zen4" and "is modelled by machine zen4" in reason
    _fake(monkeypatch, "AuthenticAMD", 26, 2)
    assert host.host_check(None, "avx2")[1].startswith("this host, x (AuthenticAMD, family 26, model 2), is "
                                                       "modelled by no avx2 machine")


@pytest.mark.parametrize("text,expected", [("25", 25), ("0xd0c", 0xD0C), ("08", 8), ("", None), ("n/a", None)])
def test_cpuinfo_numbers(text, expected):
    assert host._number(text) == expected

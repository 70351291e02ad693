"""Shared helpers of the benchmark scripts: machine facts, load average, docs/benchmarks.md sections.

Benchmarks sit outside the package, on top of everything. Each script (run as
``python benchmarks/<script>.py``, so this directory is on sys.path; the host probes in
``benchmarks/probes/<arch>/`` put it there themselves) notes the machine it ran on
(`machine_facts`, `machine_note`, from lscpu and /proc/cpuinfo), the host's load
(`load_average`) and writes only its own section of docs/benchmarks.md (`write_section`: the
text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``, created if absent; `publish`
prints the section and writes it; `script_path` is the script's path as its section cites it).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "DOC", "machine_facts", "machine_note", "load_average", "write_section", "publish",
           "script_path", "host_machine_or_refuse"]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
_NEW_DOC = "# Benchmarks\n\nEach section is written by its script.\n"


def _cpuinfo() -> dict[str, str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    facts: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():       # the first processor's block
        key, sep, value = line.partition(":")
        if sep:
            facts.setdefault(key.strip(), value.strip())
    return facts


def machine_facts() -> dict[str, object]:
    """This host: CPU model name (lscpu, else /proc/cpuinfo, else platform), cores, Python version.

    Returns
    -------
    dict with ``model_name``, ``cores`` (os.cpu_count()), ``python``, and from /proc/cpuinfo
    ``family``/``model``/``stepping`` when present (else None).
    """
    info = _cpuinfo()
    model = info.get("model name") or platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        found = re.search(r"Model name:\s*(.+)", out)
        if found:
            model = found.group(1).strip()
    except OSError:
        pass

    def number(key: str) -> int | None:
        value = info.get(key, "")
        return int(value) if value.isdigit() else None

    return {"model_name": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "family": number("cpu family"), "model": number("model"), "stepping": number("stepping")}


def machine_note() -> str:
    """One line for a benchmark section: "<CPU model>, <n> cores, Python <version>"."""
    f = machine_facts()
    return f"{f['model_name']}, {f['cores']} cores, Python {f['python']}"


def load_average() -> float:
    """The host's 1-minute load average (other work on the shared cores moves timings)."""
    return os.getloadavg()[0]


def script_path(file: str | Path) -> str:
    """A script's path from the repository root, as its section cites it.

    ``script_path(__file__)`` in ``benchmarks/probes/x86/zen4_window.py`` gives
    ``"benchmarks/probes/x86/zen4_window.py"``.

    Raises
    ------
    ValueError : `file` is not inside the repository.
    """
    path = Path(file).resolve()
    if not path.is_relative_to(ROOT):
        raise ValueError(f"script_path: {path} is not inside the repository {ROOT}")
    return path.relative_to(ROOT).as_posix()


def write_section(name: str, text: str, *, doc: Path | None = None) -> Path:
    """Replace the ``<!-- BEGIN name -->`` ... ``<!-- END name -->`` section of `doc` with `text`.

    Everything outside that section is kept byte for byte; a missing section is appended (a
    missing file is created with a title).

    Parameters
    ----------
    name : the section's name, by convention the script's file name ("sim_speed.py").
    text : the section's new content (without the markers).
    doc : the Markdown file (default docs/benchmarks.md).

    Raises
    ------
    ValueError : the file holds only one of the two markers, or they are out of order.
    """
    path = DOC if doc is None else Path(doc)
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    old = path.read_text() if path.exists() else _NEW_DOC
    has_begin, has_end = begin in old, end in old
    if has_begin and has_end and old.index(begin) < old.index(end):
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    elif not has_begin and not has_end:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    else:
        raise ValueError(f"write_section: {path} has a broken section {name!r} (markers {begin!r} and "
                         f"{end!r} missing or out of order)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)
    return path


def publish(name: str, text: str, *, write: bool = True, doc: Path | None = None) -> None:
    """Print a benchmark's section `text` and (unless ``write=False``) `write_section` it."""
    print(text)
    if write:
        path = write_section(name, text, doc=doc)
        print(f"wrote the {name} section of {path}")


def host_machine_or_refuse(script: str, wanted: str | None = None, *, needs: str | None = None,
                           isa: str = "avx2"):
    """The machine that models this CPU (`kernels.codegen.host_check`) and an exit code.

    Returns ``(machine, 0)``, or ``(None, code)`` after printing one line to stderr: code 2 when
    the user asked for machine `wanted` and this host is another core (its cycles cannot check
    that model), code 0 ("skipped") when the host is not the core the script itself `needs`, or
    no machine models it and nothing was asked for, so `make benchmarks` runs on any host.
    """
    from kernels.codegen import host_check   # lazy: the benchmarks that never run native code skip codegen

    machine, reason = host_check(wanted or needs, isa)
    if reason is None:
        return machine, 0
    if wanted:
        print(f"{script}: {reason}; its native cycles cannot check {wanted}", file=sys.stderr)
        return None, 2
    print(f"{script}: skipped: {reason}" + (f"; it measures {needs}" if needs else ""), file=sys.stderr)
    return None, 0

"""The standalone runner: registered kernels' executables equal the functional run byte for byte.

Covers kernels.codegen.run.standalone on this x86 host: i2s, tl2, vnni (and vnni2 when the CPU
has AVX512-VNNI) on small shapes through stdin and through a file; a command prefix (``env`` and
a wrapper script that records its run), the target's emulator prefix on a host that cannot run
it, qemu-x86_64 as a real emulator prefix; the framing checks of the generated ``main``; and the
errors: a compiler failure, a crashing executable, a timeout, a missing prefix command. Skips
without gcc or an x86-64 AVX2 CPU.
"""

from __future__ import annotations

import dataclasses
import platform
import shutil
import subprocess

import numpy as np
import pytest

from kernels.codegen.host import missing_cpu_flags

if platform.machine() not in ("x86_64", "AMD64") or shutil.which("gcc") is None or missing_cpu_flags(["avx2"]):
    pytest.skip("standalone runs on this host need an x86-64 AVX2 CPU and gcc", allow_module_level=True)

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen.build import BuildError  # noqa: E402
from kernels.codegen.c_emit import program_requirements  # noqa: E402
from kernels.codegen.run import RunError, StandaloneKernel, functional_mismatches, run_standalone  # noqa: E402
from kernels.codegen.run.standalone import decode_buffers, encode_buffers  # noqa: E402
from kernels.codegen.targets import get_target  # noqa: E402
from kernels.registry import kernels  # noqa: E402
from workbench.errors import UserError  # noqa: E402

X86 = get_target("x86_avx2")
SHAPES = {"i2s": (8, 256), "tl2": (32, 256), "vnni": (8, 256), "vnni2": (8, 512)}


def kernel_case(name: str, seed: int = 0):
    """(program, buffers) of registered avx2 kernel `name` on its small shape, random ternary
    weights and int8 activations with both extremes present."""
    spec = next(s for s in kernels("avx2") if s.name == name)
    M, K = SHAPES[name]
    assert spec.supports(M, K)
    program = spec.build(M, K, **spec.params)
    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, 2, size=(M, K)).astype(np.int8)
    q = rng.integers(-128, 128, size=K).astype(np.int8)
    q[:2] = (-128, 127)
    return program, spec.prepare(codes, q, **spec.params)


@pytest.mark.parametrize("name", list(SHAPES))
def test_kernel_executables_equal_the_functional_run(name):
    program, buffers = kernel_case(name)
    missing = missing_cpu_flags(program_requirements(program))
    if missing:
        pytest.skip(f"{name} needs {', '.join(missing)}")
    runner = StandaloneKernel(program)
    assert runner.prefix == ()                                  # this host runs x86_avx2 natively
    want = execute(program, buffers)
    for via in ("stdin", "file"):
        got = runner(buffers, via=via)
        assert list(got) == list(program.buffers)
        assert all(got[n].dtype == np.uint8 and np.array_equal(got[n], want[n]) for n in want), (name, via)
    assert runner.equals_functional(buffers)


def test_a_command_prefix_runs_the_executable(tmp_path):
    program, buffers = kernel_case("i2s", seed=1)
    want = execute(program, buffers)
    got = run_standalone(program, buffers, prefix=("env", "WB_TEST=1"))
    assert not functional_mismatches(program, buffers, got)
    log = tmp_path / "ran.txt"
    wrapper = tmp_path / "fake-emulator"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec "$@"\n')
    wrapper.chmod(0o755)
    runner = StandaloneKernel(program, prefix=(str(wrapper),))
    got = runner(buffers, via="file")
    assert all(np.array_equal(got[n], want[n]) for n in want)
    ran = log.read_text().split()
    assert ran[0] == str(runner.executable) and ran[1].endswith("buffers.bin")   # the wrapper ran it


def test_a_target_the_host_cannot_run_uses_its_emulator_prefix(monkeypatch):
    program, buffers = kernel_case("vnni", seed=2)
    if missing_cpu_flags(program_requirements(program)):
        pytest.skip("vnni needs AVX512-VNNI")
    elsewhere = dataclasses.replace(X86, host_arches=("nosucharch",), emulator=("env",))
    runner = StandaloneKernel(program, target=elsewhere)
    assert runner.prefix == ("env",) and runner.command()[:2] == ["env", str(runner.executable)]
    assert runner.equals_functional(buffers)
    with pytest.raises(UserError, match="runs on nosucharch hosts.*names no emulator"):
        StandaloneKernel(program, target=dataclasses.replace(elsewhere, emulator=None))


def test_the_generated_main_checks_its_framing():
    program, buffers = kernel_case("i2s", seed=3)
    runner = StandaloneKernel(program)
    good = encode_buffers(program, {**{n: np.zeros(b.size, np.uint8) for n, b in program.buffers.items()},
                                    **buffers})
    ok = subprocess.run([str(runner.executable)], input=good, capture_output=True)
    assert ok.returncode == 0 and set(decode_buffers(program, ok.stdout)) == set(program.buffers)
    first = next(iter(program.buffers))
    for payload, message in ((good[:5], f"input ends before buffer {first}"),
                             (good[:-1], "input ends inside buffer"),
                             (good + b"x", "bytes after the last buffer"),
                             ((3).to_bytes(8, "little") + b"abc", f"buffer {first} has 3 bytes, expected")):
        bad = subprocess.run([str(runner.executable)], input=payload, capture_output=True)
        assert bad.returncode == 2 and message in bad.stderr.decode(), message
    with pytest.raises(RunError, match="ends before buffer"):
        decode_buffers(program, b"")
    with pytest.raises(RunError, match="1 bytes after the last buffer"):
        decode_buffers(program, ok.stdout + b"!")


def test_bad_buffers_are_named_before_anything_runs():
    program, buffers = kernel_case("i2s", seed=4)
    name = next(iter(buffers))
    with pytest.raises(UserError, match=f"standalone: buffer {name!r} .* has 3 bytes"):
        run_standalone(program, {**buffers, name: np.zeros(3, np.uint8)})
    with pytest.raises(UserError, match="no buffer 'bogus'"):
        run_standalone(program, {**buffers, "bogus": np.zeros(1, np.uint8)})
    with pytest.raises(UserError, match="via 'pipe'"):
        StandaloneKernel(program)(buffers, via="pipe")


def test_a_compiler_failure_names_the_compiler_and_the_source():
    program, buffers = kernel_case("i2s", seed=5)
    broken = dataclasses.replace(X86, c_prelude=X86.c_prelude + '#error "deliberately broken prelude"\n')
    with pytest.raises(BuildError, match=r"(?s)gcc failed on (\S+wb_\w+\.c) \(gcc -O2 .*\1:\d+:\d+: error: "
                                         r"#error \"deliberately broken prelude\""):
        StandaloneKernel(program, target=broken)
    with pytest.raises(UserError, match="compiler 'no-such-cc' not found on PATH"):
        StandaloneKernel(program, compiler="no-such-cc")


def test_a_crash_a_timeout_and_a_missing_prefix_are_clear():
    program, buffers = kernel_case("i2s", seed=6)
    crashing = dataclasses.replace(X86, c_prelude=X86.c_prelude + (
        "int *volatile wb_test_null = 0;\n"
        "__attribute__((constructor, used)) static void wb_test_crash(void) { *wb_test_null = 1; }\n"))
    with pytest.raises(RunError, match=r"program 'i2s\w*' was killed by signal SIGSEGV \(.*wb_\w+\.exe\)"):
        StandaloneKernel(program, target=crashing)(buffers)
    with pytest.raises(RunError, match=r"exited with code 3 \(sh -c .*\): wrapper says no"):
        StandaloneKernel(program, prefix=("sh", "-c", "echo wrapper says no >&2; exit 3", "sh"))(buffers)
    with pytest.raises(RunError, match="did not finish within 0.3 s"):
        StandaloneKernel(program, prefix=("sh", "-c", "sleep 5", "sh"), timeout=0.3)(buffers)
    with pytest.raises(UserError, match="cannot run 'qemu-nosuch' .*not found"):
        StandaloneKernel(program, prefix=("qemu-nosuch", "-L", "/nowhere"))(buffers)


@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="needs qemu-x86_64 (Debian qemu-user)")
@pytest.mark.parametrize("name", ["i2s", "tl2"])
def test_under_a_real_emulator_prefix(name):
    """qemu-x86_64 (user mode, AVX2 in TCG since QEMU 7.2) as the prefix: the same bytes."""
    program, buffers = kernel_case(name, seed=7)
    runner = StandaloneKernel(program, prefix=("qemu-x86_64", "-cpu", "max"))
    assert runner.command()[:3] == ["qemu-x86_64", "-cpu", "max"]
    assert runner.equals_functional(buffers)

"""The projection against this host: one 2B-4T decode token measured natively, next to its projection.

The reference decode (`workbench.reference.forward`, Numba) runs with every ternary projection's
int32 accumulators supplied through its `acc_hook` by the fastest exact kernel of this CPU's ISA,
compiled from the workbench Program and run natively in this process (`kernels.codegen`): weights
packed once into the kernel's format and kept in aligned buffers, so each call reads them from
memory as a real decode does. The first token's logits must equal the reference's bit for bit
(checked). Measured: the wall time of a decode step, split into the native kernel calls and the
rest of the reference (norms, attention, the fp32 lm_head). Beside it, `workbench project` on
`xeon-graniterapids-vm` (this host as a SoC file) with one thread and the reference's fp32
embedding/lm_head. Usage: ``python benchmarks/host_token.py [--tokens 8] [--no-write]``.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from _common import host_machine_or_refuse, load_average, machine_note, publish  # benchmarks/ on sys.path

NAME = Path(__file__).name
MODEL = "bitnet-b1.58-2B-4T"
SOC = "xeon-graniterapids-vm"
PROMPT = [1, 17, 99, 250]


def _small_rows(spec, params, K: int) -> list[int]:
    """The two smallest row counts the kernel takes for reduction length K."""
    rows = [m for m in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512) if spec.supports(m, K, **params)]
    if len(rows) < 2:
        raise SystemExit(f"{NAME}: kernel {spec.name} takes fewer than two small M for K={K}")
    return rows[:2]


def _activation_buffers(spec, params, K: int, q: np.ndarray) -> dict[str, np.ndarray]:
    """The kernel's q-side buffers for activation row `q` (length K): those whose size does not
    change with the row count (a GEMV kernel's activation side does not depend on M), from a
    prepare on the smallest row count the kernel takes."""
    a, b = _small_rows(spec, params, K)
    small = spec.prepare(np.zeros((a, K), np.int8), q, **params)
    other = spec.prepare(np.zeros((b, K), np.int8), q, **params)
    return {n: v for n, v in small.items() if n in other and np.asarray(other[n]).nbytes == np.asarray(v).nbytes}


class NativeProjections:
    """Every (layer, projection) packed once for `spec`, run natively through ctypes."""

    def __init__(self, spec, params, weights, config):
        from kernels.codegen.c_emit import function_name
        from kernels.codegen.run.inprocess import InProcessKernel
        from kernels.registry import read_result
        from workbench.reference import PROJECTIONS

        self.spec, self.params, self.read_result = spec, params, read_result
        self.kernels, self.arrays, self.calls = {}, {}, []
        q0 = np.zeros(config.hidden_size, np.int8)
        for li in range(config.num_layers):
            layer = weights.layers[li]
            for proj in PROJECTIONS:
                lin = layer.projection(proj)
                M, K = lin.codes.shape
                if (M, K) not in self.kernels:
                    program = spec.build(M, K, **params)
                    kern = InProcessKernel(program)
                    fn = kern.function(function_name(program), [ctypes.c_void_p] * len(program.buffers))
                    qside = set(_activation_buffers(spec, params, K, np.zeros(K, np.int8)))
                    self.kernels[(M, K)] = (kern, fn, qside)
                kern, fn, qside = self.kernels[(M, K)]
                self.arrays[(li, proj)] = kern.prepare(spec.prepare(lin.codes, np.zeros(K, np.int8), **params))
            print(f"{NAME}: packed layer {li + 1}/{config.num_layers}", file=sys.stderr, end="\r")
        print(file=sys.stderr)
        del q0

    def __call__(self, layer: int, proj: str, q: np.ndarray, linear) -> np.ndarray:
        M, K = linear.codes.shape
        kern, fn, qside = self.kernels[(M, K)]
        arrays = self.arrays[(layer, proj)]
        out = np.empty((q.shape[0], M), np.int32)
        for t in range(q.shape[0]):
            fresh = _activation_buffers(self.spec, self.params, K, np.ascontiguousarray(q[t]))
            for name in qside:
                arrays[name][:] = fresh[name].view(np.uint8).reshape(-1)
            t0 = time.perf_counter()
            fn(*[a.ctypes.data for a in arrays.values()])
            self.calls.append(time.perf_counter() - t0)
            out[t] = self.read_result(self.spec, arrays, M=M, K=K, **self.params)
        return out


def measure(tokens: int) -> dict:
    from isa_models.registry import get_isa
    from workbench.flow.defaults import choose_kernel
    from workbench.reference import KVCache, forward, get_preset, random_weights

    config = get_preset(MODEL)
    machine, code = host_machine_or_refuse(NAME)
    if machine is None:
        raise SystemExit(code)
    runner, why = choose_kernel(get_isa("avx2"), machine, config, {})
    spec, params = runner.spec, runner.params
    weights = random_weights(config, seed=0)
    native = NativeProjections(spec, params, weights, config)

    # bit-exactness: the first token's logits with native accumulators equal the reference's
    ref = forward(weights, PROMPT, cache=KVCache(config, capacity=len(PROMPT) + tokens + 2), last_only=True)
    cache = KVCache(config, capacity=len(PROMPT) + tokens + 2)
    got = forward(weights, PROMPT, cache=cache, acc_hook=native, last_only=True)
    if not np.array_equal(ref.view(np.uint32), got.view(np.uint32)):
        raise SystemExit(f"{NAME}: logits with native {spec.name} accumulators differ from the reference")
    token = int(np.argmax(got[-1]))
    steps, kernel_s = [], []
    for _ in range(tokens):
        native.calls.clear()
        t0 = time.perf_counter()
        token = int(np.argmax(forward(weights, [token], cache=cache, acc_hook=native, last_only=True)[-1]))
        steps.append(time.perf_counter() - t0)
        kernel_s.append(sum(native.calls))
    context = len(PROMPT) + tokens // 2
    return {"kernel": spec.name, "why": why, "machine": machine.name, "step_s": statistics.median(steps),
            "kernel_s": statistics.median(kernel_s), "steps": steps, "context": context,
            "calls": len(native.calls)}


def projected(kernel: str, context: int):
    from workbench.projection import project

    return project(soc=SOC, model=MODEL, engine="cpu", threads=1, kernel=kernel, context=context,
                   head_format="f32", embed_format="f32")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=8, help="decode steps measured (median reported)")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md")
    args = parser.parse_args()
    before = load_average()
    m = measure(args.tokens)
    r = projected(m["kernel"], m["context"])
    classes = r.by_class()
    tern = classes.get("ternary", {}).get("seconds", 0.0)
    rest = r.decode_seconds - tern
    measured_rest = m["step_s"] - m["kernel_s"]
    text = f"""## The projection against this host, natively (`benchmarks/{NAME}`)

Machine: {machine_note()}; load average {before:.1f} before, {load_average():.1f} after.
One {MODEL} decode token: the reference decode (`workbench.reference`, Numba, fp32 embedding and
lm_head) with every ternary projection's accumulators from `{m['kernel']}` compiled from its Program
and run natively ({m['why']}; machine {m['machine']}); weights packed once and read from memory on
every call. The first token's logits equal the reference's bit for bit (checked). Median of
{args.tokens} decode steps at a context of about {m['context']}. Projection: `workbench project --soc {SOC}
--model {MODEL} --engine cpu --threads 1 --kernel {m['kernel']} --head-format f32 --embed-format f32`
(`workbench/soc/socs/{SOC}.toml`: this host's measured clock and bandwidths).

| part of the token | measured ms | projected ms | projected / measured |
|---|---|---|---|
| ternary projections ({m['kernel']}, 210 calls) | {m['kernel_s'] * 1e3:.2f} | {tern * 1e3:.2f} | {tern / m['kernel_s']:.2f} |
| everything else (norms, attention, fp32 lm_head, quantization) | {measured_rest * 1e3:.2f} | {rest * 1e3:.2f} | {rest / measured_rest:.2f} |
| whole decode step | {m['step_s'] * 1e3:.2f} | {r.decode_seconds * 1e3:.2f} | {r.decode_seconds / m['step_s']:.2f} |

Per-step wall times (s): {', '.join(f'{s:.3f}' for s in m['steps'])}. "Everything else" is the
Numba reference, written for exactness (fixed reduction orders, one thread per op), not for speed,
so it is slower than the projection's roofline of those ops; the ternary row compares like with like.
"""
    if args.no_write:
        print(text)
    else:
        publish(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

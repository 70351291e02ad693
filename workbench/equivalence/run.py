"""`run_equivalence`: greedy decoding with a kernel's accumulators beside the exact reference.

Top of the flow (`workbench.equivalence`). Names resolve as in ``workbench simulate``
(`workbench.flow.defaults.resolve`: ISA, machine, kernel, model, parameters; the ISA's fastest
exact kernel the machine runs when none is named). Two models run on the same tokens: the
kernel model (every projection's accumulators from the kernel, `hook.KernelHook`) picks each
next token greedily, and the reference model (exact accumulators, its own KV cache) is fed the
same token, so every step's logits compare on the same input (`metrics.compare_logits`). Step 0
is the prompt's last position after prefill; then `tokens` decode steps.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from workbench.equivalence.hook import KernelHook
from workbench.equivalence.metrics import compare_logits
from workbench.equivalence.result import EquivalenceResult
from workbench.equivalence.runners import MODES, make_runner
from workbench.errors import UnknownNameError, UserError
from workbench.quant import CONVENTIONS
from workbench.reference.config import check_prompt

__all__ = ["run_equivalence", "check_tolerances"]


def check_tolerances(max_kl: float | None, min_top1: float | None) -> None:
    """UserError unless `max_kl` is None or a finite number >= 0 and `min_top1` None or in [0, 1]."""
    if max_kl is not None and not (isinstance(max_kl, (int, float)) and math.isfinite(max_kl) and max_kl >= 0):
        raise UserError(f"--max-kl {max_kl!r}: must be a finite number >= 0 (nats)")
    if min_top1 is not None and not (isinstance(min_top1, (int, float)) and 0.0 <= min_top1 <= 1.0):
        raise UserError(f"--min-top1 {min_top1!r}: must be a fraction in [0, 1]")


def _check_options(*, mode: str, convention: str, tokens, seed, max_kl, min_top1) -> None:
    if mode not in MODES:
        raise UnknownNameError(f"unknown run mode {mode!r}; valid: {', '.join(MODES)}")
    if convention not in CONVENTIONS:
        raise UnknownNameError(f"unknown scale convention {convention!r}; valid: {', '.join(CONVENTIONS)}")
    if isinstance(tokens, bool) or not isinstance(tokens, (int, np.integer)) or tokens < 0:
        raise UserError(f"--tokens {tokens!r}: must be a non-negative integer (decode steps)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"--seed {seed!r}: must be a non-negative integer")
    check_tolerances(max_kl, min_top1)


def _prompt(config, prompt_ids, tokens: int) -> list[int]:
    """The prompt as ints (None: the model's BOS), checked against the vocabulary and context."""
    if prompt_ids is None:
        prompt = [config.bos_token_id]
    else:
        prompt = list(prompt_ids)
        if not prompt or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in prompt):
            raise UserError(f"--prompt-ids {prompt_ids!r}: need a non-empty list of integer token ids")
        prompt = [int(i) for i in prompt]
    check_prompt(prompt, config, tokens, steps_flag="--tokens")
    return prompt


def _load(*, isa, kernel, machine, model, model_file, weights, params, seed):
    """(resolved names, weights) in command-line order: ISA, machine, kernel, model."""
    from workbench.flow.defaults import resolve
    from workbench.reference import get_preset, random_weights

    if weights is None and model_file is None:
        resolved = resolve(isa=isa, machine=machine, kernel=kernel, model=model or "tiny", params=params)
        return resolved, random_weights(get_preset(model or "tiny"), seed=seed)
    from isa_models.registry import get_isa
    from kernels import registry

    plugin = get_isa(isa)                           # an unknown ISA or kernel before reading the file
    if kernel is not None:
        registry.get(kernel, plugin.name)
    if weights is None:
        from workbench.formats.model_io import load_model

        weights = load_model(model_file)
    return resolve(isa=isa, machine=machine, kernel=kernel, params=params, config=weights.config), weights


def run_equivalence(*, isa: str, kernel: str | None, model: str | None = "tiny", model_file: str | None = None,
                    machine: str | None = None, params: dict | None = None, mode: str = "functional",
                    prompt_ids=None, tokens: int = 16, seed: int = 0, convention: str = "hf",
                    progress: bool = False, max_kl: float | None = None, min_top1: float | None = None,
                    weights=None) -> EquivalenceResult:
    """Greedy decoding with `kernel`'s accumulators, step by step against the exact reference.

    Parameters
    ----------
    isa, kernel : the registered kernel (kernel None: the ISA's fastest exact kernel `machine` runs).
    model : a preset with deterministic random weights (`seed`), used when `model_file` is None.
    model_file : a GGUF file or Hugging Face checkpoint (`workbench.formats.model_io.load_model`).
    machine : the machine (default: the one modelling this CPU, else the ISA's default); it fills
        a machine-dependent kernel's parameter and must run the kernel's instructions.
    params : kernel parameters. A batched kernel whose tokens parameter is not given runs each
        call with N = its row count (prompt length, then 1) when it supports it (`hook.KernelHook`).
    mode : "functional" (the executor), "native" (this CPU) or "emulator" (`runners`).
    prompt_ids : the prompt token ids (None: the model's BOS).
    tokens : decode steps after the prompt (steps = tokens + 1).
    convention : the activation-scale convention (`workbench.quant`).
    progress : a tqdm bar on stderr.
    max_kl, min_top1 : tolerances for a lossy or bounded kernel (`EquivalenceResult.verdict`).
    weights : a `ModelWeights` to run on instead of `model` / `model_file` (tests, notebooks).

    Returns
    -------
    EquivalenceResult

    Raises
    ------
    UserError : an unknown name, a bad option, a prompt id outside the vocabulary, a corrupt
        model file, a mode this host cannot run.
    """
    _check_options(mode=mode, convention=convention, tokens=tokens, seed=seed, max_kl=max_kl, min_top1=min_top1)
    from tqdm import tqdm

    from workbench.reference import PROJECTIONS
    from workbench.reference.model import KVCache, forward

    resolved, weights = _load(isa=isa, kernel=kernel, machine=machine, model=model, model_file=model_file,
                              weights=weights, params=dict(params or {}), seed=seed)
    config = weights.config
    prompt = _prompt(config, prompt_ids, int(tokens))
    spec = resolved.spec
    programs = [resolved.runner.program(*config.projection_shape(p)) for p in PROJECTIONS]
    runner = make_runner(mode, isa=spec.isa, programs=programs)
    fixed = spec.batched and spec.tokens_param in (params or {})
    hook = KernelHook(spec, resolved.params, runner=runner, fixed_tokens=fixed, programs=resolved.runner.program)
    result = EquivalenceResult(isa=spec.isa, kernel=spec.name, machine=resolved.machine.name, model=config.name,
                               exactness=spec.exactness, mode=mode, convention=convention,
                               params=dict(resolved.params), bound=spec.bound, prompt_ids=prompt,
                               tolerance_kl=max_kl, tolerance_top1=min_top1, defaults=resolved.defaults, seed=seed)
    start = time.perf_counter()
    capacity = len(prompt) + int(tokens)
    kcache, rcache = KVCache(config, capacity=capacity), KVCache(config, capacity=capacity)
    feed = prompt
    with tqdm(total=int(tokens) + 1, desc=f"equivalence {spec.name}/{spec.isa}", unit="step", file=sys.stderr,
              disable=not progress) as bar:
        for step in range(int(tokens) + 1):
            hook.step = step
            klogits = forward(weights, feed, cache=kcache, convention=convention, acc_hook=hook, last_only=True)[-1]
            rlogits = forward(weights, feed, cache=rcache, convention=convention, last_only=True)[-1]
            errors = hook.step_errors[step] if step < len(hook.step_errors) else {}
            metrics = compare_logits(step, kcache.length - 1, feed[-1], rlogits, klogits, errors)
            result.steps.append(metrics)
            feed = [metrics.kernel_token]
            bar.update(1)
    result.first_break = hook.first_break
    result.errors = hook.errors
    result.kernel_calls = hook.calls
    result.seconds = time.perf_counter() - start
    return result

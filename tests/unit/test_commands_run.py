"""`workbench run` (workbench/commands/run.py): output line, options and one-line errors."""

from __future__ import annotations

import pytest

from workbench.cli import main
from workbench.reference import generate, get_preset, random_weights


def test_run_tiny_prints_the_generated_ids(capsys):
    assert main(["run", "--model", "tiny", "--prompt-ids", "1,2,3", "--max-new-tokens", "8"]) == 0
    out, err = capsys.readouterr()
    expect = generate(random_weights(get_preset("tiny"), seed=0), [1, 2, 3], max_new_tokens=8)
    assert out == ",".join(map(str, expect)) + "\n"
    assert "tiny" in err and "tok/s" in err


def test_run_seed_and_convention_options(capsys):
    assert main(["run", "--prompt-ids", "5", "--max-new-tokens", "4", "--seed", "7",
                 "--convention", "bitnet_cpp"]) == 0
    out, _ = capsys.readouterr()
    w = random_weights(get_preset("tiny"), seed=7)
    assert out.strip() == ",".join(map(str, generate(w, [5], max_new_tokens=4, convention="bitnet_cpp")))


def test_run_model_file_loads_a_checkpoint(tmp_path, capsys):
    from workbench.formats.hf_io import save_hf_checkpoint

    weights = random_weights(get_preset("tiny"), seed=2)
    save_hf_checkpoint(weights, tmp_path)
    assert main(["run", "--model-file", str(tmp_path), "--prompt-ids", "4,5", "--max-new-tokens", "5"]) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == ",".join(map(str, generate(weights, [4, 5], max_new_tokens=5)))


@pytest.mark.parametrize("argv, message", [
    (["run", "--model-file", "/dev/null"], "/dev/null"),
    (["run", "--model-file", "/no/such/ckpt"], "/no/such/ckpt"),
    (["run", "--model", "nope"], "unknown model preset 'nope'; valid: tiny, bitnet-b1.58-2B-4T"),
    (["run", "--prompt-ids", "1,x"], "--prompt-ids: 'x' is not an integer"),
    (["run", "--prompt-ids", "9999"], "token id 9999 is outside the vocabulary"),
    (["run", "--max-new-tokens", "-1"], "argument --max-new-tokens: must be a positive integer, got -1"),
    (["run", "--max-new-tokens", "0"], "argument --max-new-tokens: must be a positive integer, got 0"),
    (["run", "--max-new-tokens", "x"], "argument --max-new-tokens: invalid int value: 'x'"),
    (["run", "--seed", "-3"], "argument --seed: must be a non-negative integer, got -3"),
    (["run", "--prompt-ids", ""], "--prompt-ids: '' is not an integer token id"),
    (["run", "--prompt-ids", "1", "--max-new-tokens", "300"], "exceed the context of model 'tiny'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and err.startswith("workbench run: error: ")
    assert message in err and out == ""

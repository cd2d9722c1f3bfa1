"""The cookbook's params command lines run unchanged (issue 11): EleutherAI cookbook calc/README.md and every option
spelling of calc/calc_transformer_params.py, against calc_transformer_params.py.

Expected numbers are first-principles counts written here; where the cookbook's own formula differs (it always adds
a learned position table of -s rows and counts LayerNorms twice), docs/cookbook.md derives the difference.
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main, load_script

V = 51200  # the cookbook's default --vocab-size


def total(argv):
    """(total, the report's notes as one text): params puts its notes in the report, not on stderr."""
    status, out, err = call_main(load_script("calc_transformer_params"), argv + ["--json"])
    assert status == 0, err
    report = json.loads(out)
    return report["total"], "\n".join(report["notes"])


def dense_by_hand(layers, h, v=V, ffn_factor=4, linears=2, kv=1.0, tied=False):
    """Embedding (and an untied head) v*h; per layer q, o (2 h^2), k, v (2 kv h^2), the MLP (linears x h x f), two
    LayerNorms with weight and bias (4h); a final LayerNorm (2h).  No biases on linears, no position table."""
    f = int(ffn_factor * h)
    per_layer = 2 * h * h + 2 * int(kv * h) * h + linears * h * f + 4 * h
    return (1 if tied else 2) * v * h + layers * per_layer + 2 * h


def test_the_readmes_gpt3_line():
    # "Example with GPT-3 175B: python calc_transformer_params.py -l 96 -hs 12288"
    count, err = total(["-l", "96", "-hs", "12288"])
    assert count == dense_by_hand(96, 12288) == 175_209_209_856
    assert "assumed (the cookbook's defaults): --vocab-size 51200, --num-attention-heads 64" in err


def test_the_readmes_fairseq_moe_line():
    # "Example with Fairseq-MoE 15B: python calc_transformer_params.py -l 12 -hs 768 --moe -e 512": every layer MoE
    # (the cookbook params script's -ei 1), top-1; 512 experts of the 4h 2-linear MLP and a bias-free router h x 512
    h, layers, experts = 768, 12, 512
    per_layer = 4 * h * h + experts * 2 * h * 4 * h + h * experts + 4 * h
    count, _ = total(["-l", "12", "-hs", "768", "--moe", "-e", "512"])
    assert count == 2 * V * h + layers * per_layer + 2 * h
    # with the cookbook flops script's -ei 2 (layers 1, 3, ..., 11 MoE) the count is the 15B of the README's label
    dense_layer = 4 * h * h + 2 * h * 4 * h + 4 * h
    every_other, _ = total(["-l", "12", "-hs", "768", "--moe", "-e", "512", "-ei", "2"])
    assert every_other == 2 * V * h + 6 * per_layer + 6 * dense_layer + 2 * h
    assert round(every_other / 1e9) == 15


# Every option spelling of the cookbook's params script (calc/calc_transformer_params.py, config_parser), each with
# a value of the type the cookbook takes, on the README's small model.
SPELLINGS = [["--vocab-size", "50304"], ["-v", "50304"], ["--tied-embeddings"], ["--hidden-size", "768"],
             ["-hs", "768"], ["--sequence-length", "2048"], ["-s", "2048"], ["--num-layers", "12"], ["-l", "12"],
             ["--moe", "--num-experts", "8"], ["--moe", "-e", "8"], ["--moe", "-e", "8", "--expert-interval", "2"],
             ["--moe", "-e", "8", "-ei", "2"], ["--moe", "-e", "8", "--topk", "2"], ["--moe", "-e", "8", "-t", "2"],
             ["--ffn-expansion-factor", "4"], ["-ff", "4"], ["--num-mlp-linears", "3"], ["-nl", "3"],
             ["--kv-size-ratio", "0.25"], ["-kv", "0.25"], ["--moe"]]


@pytest.mark.parametrize("spelling", SPELLINGS, ids=" ".join)
def test_every_option_spelling_runs(spelling):
    count, _ = total(["-l", "12", "-hs", "768"] + spelling if "-l" not in spelling and "--num-layers" not in spelling
                     else ["-hs", "768"] + spelling)
    assert count > 0


@pytest.mark.parametrize("argv, by_hand", [
    (["-l", "12", "-hs", "768", "-v", "50304", "--tied-embeddings"], dense_by_hand(12, 768, v=50304, tied=True)),
    (["-l", "12", "-hs", "768", "-kv", "0.25"], dense_by_hand(12, 768, kv=0.25)),
    (["-l", "12", "-hs", "768", "-ff", "2.6875", "-nl", "3"], dense_by_hand(12, 768, ffn_factor=2.6875, linears=3)),
], ids=lambda x: " ".join(x) if isinstance(x, list) else "")
def test_cookbook_lines_equal_a_hand_count(argv, by_hand):
    assert total(argv)[0] == by_hand

#!/usr/bin/env python3
"""Compute-optimal model size and token count from the published scaling laws, and fit your own runs.

"Given my compute, how big a model and how many tokens?"  Every answer here comes from a named law whose constants
are printed with their source; queries on the Chinchilla-form laws are closed-form (no grid).

Conventions: N = parameters, D = training tokens, C = training FLOPs with C = 6*N*D unless a law says otherwise,
L = loss in nats/token, tpp = tokens per parameter = D/N.  Chinchilla counts all parameters (embeddings included,
Hoffmann et al. 2022 App. F); Kaplan's N excludes embeddings; DeepSeek's M is non-embedding FLOPs per token.

Laws (``--law``; ``--E --A --B --alpha --beta`` override any Chinchilla-form law's constants -> law "custom")
  chinchilla            Hoffmann et al. 2022 (arXiv 2203.15556) eq. 10, Approach 3 as printed:
                        L(N, D) = E + A/N^alpha + B/D^beta, E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28
  chinchilla-unrounded  the same fit before rounding (paper TeX source, as used in epoch-research/analyzing-chinchilla
                        data_analysis.ipynb): log-space a=6.0073404, b=6.0179186, e=0.5267228, alpha=0.33917084,
                        beta=0.2849083.  Gives the paper's "40B at Gopher compute" (rounded constants give 32B).
  epoch                 Besiroglu et al. 2024 (arXiv 2404.10102) Table 1 refit of Approach 3: E=1.8172, A=482.01,
                        B=2085.43, alpha=0.3478, beta=0.3658.  Default of models and inference (optimal and loss
                        default to all).  Its allocation stays near 20 tpp.
  muennighoff           Muennighoff et al. 2023 (arXiv 2305.16264; huggingface/datablations README "Parametric Fit"):
                        a=6.255414, b=7.3049974, e=0.6254804, alpha=beta=0.3526596 (with unlimited unique data).
  approach1 / approach2 / approach3-table
                        power laws N_opt = k*C^a least-squares fitted (log-log) to the published rows of Hoffmann
                        Table 3 (Approach 1) and Table A3 (Approaches 2 and 3); D = C/(6N).  Table 2 prints a = 0.50,
                        0.49, 0.46; the row fits give 0.4981, 0.4899, 0.4587.
  kaplan                Kaplan et al. 2020 (arXiv 2001.08361) App. A: N_opt = 1.3e9 * (C_min/PF-day)^0.73,
                        non-embedding N, trained at B_crit so C = 2*C_min (eq. 5.5); D = C/(6N).
  deepseek              DeepSeek LLM (arXiv 2401.02954) sec. 3: M_opt = 0.1715*C^0.5243, D_opt = 5.8316*C^0.4757 with
                        C = M*D and M = 72*n_layer*d^2 + 12*n_layer*d*l_seq non-embedding FLOPs/token; N ~ M/6 shown.
  llama3                Llama 3 Herd (arXiv 2407.21783) sec. 3.2.1: optimal *tokens* D = 0.29*C^0.53.  The printed
                        constants do NOT reproduce the paper's 402B / 16.55T at 3.8e25 FLOPs (they give 10.46T tokens).
  tpp-20                the 20 tokens-per-parameter rule (Chinchilla 70B on 1.4T): N = sqrt(C/120), D = 20N;
                        ``--tokens-per-param R`` sets another ratio (e.g. Llama-3-8B's 15T/8B = 1875).

Closed forms for L = E + A/N^alpha + B/D^beta under C = 6ND (Hoffmann eq. 4; L* and C(l) derived and tested):
  G = (alpha*A/(beta*B))^(1/(alpha+beta)),  a = beta/(alpha+beta),  b = alpha/(alpha+beta)
  N* = G*(C/6)^a,  D* = (C/6)^b / G,  L* = E + (A*G^-alpha + B*G^beta) * (C/6)^(-alpha*beta/(alpha+beta))
  C(l) = 6*((l - E)/(A*G^-alpha + B*G^beta))^(-(alpha+beta)/(alpha*beta))     (only for l > E)
  frontier through a given N: C = 6*(N/G)^(1/a), D = C/(6N);  through a given D: C = 6*(D*G)^(1/b).

Kaplan et al. 2020 (``kaplan``; N non-embedding, C_min in PF-days, 1 PF-day = 8.64e19 FLOPs):
  L(N) = (8.8e13/N)^0.076, L(D) = (5.4e13/D)^0.095, L(C_min) = (3.1e8/C_min)^0.050      (eqs 1.1-1.3)
  L(N, D) = [(6.4e13/N)^(0.076/0.103) + 1.8e13/D]^0.103  (eq 1.5 with the Table 2 constants, not the 1.1/1.2 ones)
  B_crit(L) = 2e8 / L^(1/0.21) tokens (eq 1.4);  no-overfitting data D >= 5e3*N^0.74 (eq 4.4)
  allocation: N = 1.3e9*C^0.73, B = 2e6*C^0.24, S_min = 5.4e3*C^0.03, D = 2e10*C^0.27 (App. A, C = C_min)
  N_kaplan = 12*n_layer*d^2 for the standard shape (eq 2.1).
Muennighoff data-constrained (``data-constrained``): L = E + A/N'^alpha + B/D'^beta with
  D' = U + U*R_D*(1 - exp(-R_D/R_D*)), R_D = D/U - 1;  N' = U_N + U_N*R_N*(1 - exp(-R_N/R_N*)),
  U_N = min(N, N_opt(U)), R_N = N/U_N - 1;  R_D* = 15.387756, R_N* = 5.309743 (datablations README).
Sardana et al. 2023 (arXiv 2401.00448, ``inference``): minimise 6*N*D_train + 2*N*D_inference subject to
  L(N, D_train) = l, i.e. D_train(N) = (B/(l - E - A/N^alpha))^(1/beta); solved by a bracketed 1-D search in log N.

N from a Hugging Face config.json (``--config PATH``, a config.json or a folder holding one; optimal, loss, kaplan,
deepseek, data-constrained, inference).  Read and counted by the shared model block carried below (the same reader
and tensor list as the other calc_*.py scripts): ``json`` alone, no transformers, no network, ``auto_map`` ignored,
a nested ``text_config`` followed.  The model types it models are the block's SUPPORTED_MODEL_TYPES (gpt2, gptj,
gpt_neox, opt, bloom, falcon, llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, gemma, gemma2, phi, phi3,
olmo, olmo2, starcoder2, deepseek_v2, deepseek_v3, granite, gemma3_text, gpt_oss, llama4, ...).  Any other model
type, and any field that may change a count but is not read, ends the run (exit 2, one line naming it); ``--generic`` reads an
unknown model type as a dense Llama-style decoder and the output's first line says so (this year's types in
NOT_YET_MODELLED, such as gemma4, are refused even then).  Counts are exact, as sum(p.numel() for p in model.parameters()) gives them (tied weights
once):
  embedding = input token table + learned position table + untied LM head (and its bias);  non-embedding = total
  - embedding (Kaplan et al. 2020 sec. 1.1; OPT's project_in/out stay in it);  MoE active = every parameter except
  the routed experts + top_k/E of them (Mixtral's "13B active" convention).
Which N each law gets: Chinchilla-form laws (and optimal, data-constrained, inference) the total, embeddings
included; kaplan the non-embedding count; deepseek takes l and d from the config for M (with -s) and also shows
M' = 6 N_non-emb + 12 l d s.  For an MoE the dense laws get the active count unless ``--moe-params total`` (the
laws were fitted on dense models: either choice is an extrapolation).  An explicit -N overrides the config's N;
inference costs the model as --fixed-params, or without --target-loss/-N takes its size as -N.  Fields that change
no count and that the reader does not read are listed in a note; a bad field is one error line naming it.

Start-up: closed-form commands (everything but ``fit`` and ``--plot``) run on the standard library alone; numpy
and scipy are imported by the fitter and the plots only.  Counts on the command line read as the other scripts
read them (the block's parse_number): 7B, 1.4T, 300e9, 32k (32,000), 32Ki (32,768), 1_000; k, M, B/G, T, P are
powers of ten, Ki, Mi, Gi, Ti powers of two.

Fitting (``fit runs.csv``, columns N, D or C, loss; numpy and scipy are imported only here and for --plot):
  Approach 3 (Hoffmann App. D.2, eq. 11): minimise sum_i Huber_1e-3(LSE(a - alpha*log N_i, b - beta*log D_i, e)
  - log L_i) with L-BFGS and its analytic gradient (softmax weights of the LSE), from Hoffmann's 4500-point grid
  (alpha, beta in {0,.5,..,2}, e in {-1,-.5,..,1}, a, b in {0,5,..,25}).  All 4500 starts run in lock-step as one
  numpy batch (vectorised L-BFGS with Armijo backtracking); the 3 best distinct end points are polished with
  scipy's L-BFGS-B.  A seeded bootstrap (runs resampled with replacement; all resamples refitted as one batch
  from the full-data optimum, run weights = resample counts) gives 95% percentile intervals and standard errors
  for E, A, B, alpha, beta and a = beta/(alpha+beta).  A *sum* of Huber terms and tight tolerances: Epoch found
  that Hoffmann's optimiser stopped early.
  A fit with alpha or beta <= 0 (loss not falling with N and D) is refused, and so is a bootstrap in which any
  resample has one: such intervals would cross zero exponents.
  Approach 2: runs grouped by budget (log10 C within ``--budget-tolerance`` decades), a parabola of loss in ln N
  per budget whose minimum must be interior, then N_opt = k*C^a and D_opt = C/(6*N_opt) fitted in log-log.

The nanoGPT notebook's TODOs (karpathy/nanoGPT scaling_laws.ipynb, "TLDR atm: nothing reproduces"), explained:
  * 316M vs Chinchilla's 400M at 1.92e19 FLOPs: Table 3 is Approach 1 but the notebook evaluates Approach 3;
    316.23M = 10^8.5 is a point of its 10^(k/16) grid (the closed form with the printed constants gives 306.1M);
    and the printed constants are rounded (unrounded: 364.8M; Epoch's refit: 366M).
  * 1.3B -> 60B tokens vs MosaicML's 26B: Approach 3 with the printed constants puts 46.6 tpp at 1.3B
    (D = 60.5B, C = 4.72e20); MosaicML uses 20 tpp (26B).  Unrounded: 39.8B; Epoch: 29.1B.
  * 6 of 50 Table A9 rows off: exactly the rows where n_heads*kv_size != d_model; attention width is
    n_heads*kv_size.  Table A4's FLOP ratios match only without embedding and logit FLOPs.

JSON keys (``--format json``).  Every object has "command" and "notes" (list of strings).  LAW below is null for
--law all, else {"name", "E", "A", "B", "alpha", "beta", "source"}.  Per command:
  optimal           "law": LAW, "inputs" {the one query given: "compute", "params", "tokens" or "target_loss"},
                    "results" list of {"law", "params", "tokens", "flops", "tokens_per_param", "loss"}
                    (loss is null for the power-law laws)
  loss              "law": LAW, "inputs" {"params", "tokens"}, "results" list of {"law", "loss",
                    "optimal_loss_same_flops"} (the last is null for the kaplan row)
  table3            "source", "rows" list of {"params", "flops", "gopher_units", "tokens", "fitted_params",
                    "flops_over_6nd"}, "fit" {"k", "a"}
  models            "law": LAW, "rows" list of {"model", "params", "tokens", "flops", "tokens_per_param",
                    "optimal_params", "optimal_tokens", "trained_factor", "verdict", "loss", "optimal_loss",
                    "source", "note"}; with --law all the rows are {"model", "params", "tokens", "tokens_per_param",
                    "by_law" {law name: such a row}}
  kaplan            "inputs", "constants", "results" {"pf_day_flops", "alpha_Cmin_predicted",
                    "local_exponent_chinchilla-unrounded", "local_exponent_epoch"; with -N: "loss_of_params",
                    "min_tokens_no_overfit"; with -D: "loss_of_tokens"; with both: "loss_joint", "overfit_fraction";
                    with -C: "flops", "flops_min", "flops_min_pf_days", "optimal_params", "batch_tokens", "min_steps",
                    "tokens_app_a", "tokens_6nd", "loss_of_compute"; with --loss: "critical_batch_tokens"}
  deepseek          "inputs", "constants", "results" {"flops", "optimum" {"model_flops_per_token", "tokens",
                    "batch_tokens", "learning_rate"}; with -l -hs -s: "model_flops_per_token", "batch_sequences"}
  data-constrained  "law" (muennighoff), "inputs", "results" {"point" with -N -D: {"params", "tokens",
                    "unique_tokens", "epochs", "effective_tokens", "effective_params", "loss"}; "optimum" with -C:
                    {"flops", "unconstrained", "readme_grid", "continuous"}}
  inference         "law": LAW, "inputs", "results" {"target_loss", "inference_tokens", "train_mfu", "inference_mfu",
                    "chinchilla_optimal", "inference_optimal", "fixed" (with --fixed-params); each plan {"params",
                    "tokens", "tokens_per_param", "train_flops", "inference_flops", "total_flops", "cost_flops"}}
  nanogpt           "source", "results" {"todo1_400m_vs_316m", "todo2_1.3b_tokens", "todo3_table_a9_rows",
                    "todo4_table_a4_ratios"}
  fit               "inputs" {"csv", "runs"}, "approach3" {"E", "A", "B", "alpha", "beta", "a", "b", "objective",
                    "starts", "runs", and with --bootstrap > 0 "ci95", "se", "bootstrap"}, "approach2" {"budgets" list
                    of {"flops", "runs", "status", and if status is "ok" "params", "loss", "tokens"}; with 2+ good
                    budgets "k", "a", "k_tokens", "b"}
  with --config   also "model" {"config", "model_type", "generic" (true: read as a dense Llama-style decoder under
                    --generic), "num_layers", "hidden_size", "total", "embedding" {"input", "positions", "lm_head",
                    "total"}, "non_embedding", "active" (null for a dense model, else {"total", "non_embedding",
                    "moe_layers", "convention"}), "moe_params" (null, "active" or "total"),
                    "params" (the N of the Chinchilla-form laws), "non_embedding_params" (Kaplan's N), "used" {"flag",
                    "value", "count", "convention", "source"} (the N this command used and where it came from),
                    "notes"}; deepseek's results add "model_flops_per_token_exact_params"
Counts (params, tokens) in optimal, loss, table3 and models are integers; FLOPs and losses are floats.

Examples:
  python calc_scaling_laws.py optimal --compute 5.76e23                 # every law at Gopher's budget
  python calc_scaling_laws.py optimal -C 1e21 --law chinchilla-unrounded --json
  python calc_scaling_laws.py optimal --params 400M --law chinchilla     # frontier point through 400M
  python calc_scaling_laws.py optimal --target-loss 2.2 --law epoch      # compute needed to reach a loss
  python calc_scaling_laws.py loss -N 70B -D 1.4T
  python calc_scaling_laws.py loss --config path/to/config.json -D 15T --json   # N = the model's exact count
  python calc_scaling_laws.py kaplan --config path/to/model_folder -D 300B       # Kaplan's non-embedding N
  python calc_scaling_laws.py optimal --config mixtral/config.json --moe-params total --law epoch
  python calc_scaling_laws.py models --law epoch --format markdown       # real models vs the frontier
  python calc_scaling_laws.py table3
  python calc_scaling_laws.py nanogpt                                    # the notebook's TODOs, with numbers
  python calc_scaling_laws.py kaplan -N 1e9 -D 22e9 --compute 1e21 --loss 3
  python calc_scaling_laws.py deepseek -l 30 -hs 4096 -s 4096 -D 2T
  python calc_scaling_laws.py data-constrained --compute 1e22 --unique-tokens 25B
  python calc_scaling_laws.py inference --params 13B --inference-tokens 2T --fixed-params 7B --law chinchilla-unrounded
  python calc_scaling_laws.py fit runs.csv --bootstrap 200 --seed 0 --plot fit.png
"""
# /// script
# requires-python = ">=3.9"
# dependencies = ["numpy>=1.26", "scipy>=1.11", "matplotlib>=3.8"]
# ///
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import sys
import warnings
from dataclasses import asdict, dataclass

# numpy and scipy are imported inside the fitter and the plots only (_numpy()): every closed-form query starts
# with the standard library alone (issue 11, "fast start everywhere").  The fitter's problems are tiny (5
# parameters): BLAS threads only add spin-waiting (10x slower L-BFGS-B on a busy 2-core machine), so default to
# one thread before numpy/scipy load OpenBLAS, whenever that happens.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# [[[cog import cog, pathlib; cog.out(pathlib.Path(cog.inFile).with_name("tools").joinpath("model_block.py").read_text()) ]]]
# ==============================================================================================================
# The shared model block: the ONE source of what a model is, carried byte for byte by every calc_*.py script.
# Edit tools/model_block.py, then run `cog -r calc_*.py` (README: "Editing the model block"); never edit a copy.
# It holds: the error contract (InputError, OneLineParser), number parsing (parse_number, parse_count), the safe
# config.json file reader, the one config.json -> Model reader with its table of supported model types (anything
# else is refused), the Model dataclass, the layer schedule (dense / MoE, full / sliding attention), the exact list
# of parameter tensors with their roles, the presets, the architecture flags every script shares
# (add_model_arguments / model_from_arguments: one spelling, one meaning, one default), the table renderer, the
# KV-cache element types, the accelerator catalogue, and llama.cpp's view of a model (ggml block types, the GGUF
# tensor list, llama-quantize's per-tensor types).
# Standard library only; every name it defines is shared by all five scripts.
# ==============================================================================================================
import argparse as _argparse
import dataclasses as _dc
import json as _json
import math as _math
import os as _os
import re as _re
import stat as _stat
import sys as _sys


class InputError(ValueError):
    """Bad input (a flag, a config.json field, a file): one line on stderr and exit status 2, never a number."""


class HubFileMissing(InputError):
    """hub_file: the repo, revision or file does not exist (404), or is not cached while HF_HUB_OFFLINE is set."""


class HubNotCached(HubFileMissing):
    """hub_file: the file is not in the local Hugging Face cache and HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set."""


def run_cli(main) -> None:
    """Run a script's main() as a command and exit with its status.  A reader that stops early (`| head`) ends the
    run quietly with status 1 instead of a BrokenPipeError traceback (the Python docs' recipe for SIGPIPE)."""
    try:
        status = main()
        _sys.stdout.flush()
    except BrokenPipeError:
        _os.dup2(_os.open(_os.devnull, _os.O_WRONLY), _sys.stdout.fileno())  # nothing left to flush at exit
        status = 1
    raise SystemExit(status)


# --------------------------------------------------------------------------------------------------------------
# Numbers on the command line, argparse errors and tables: one reading and one look in every script
# --------------------------------------------------------------------------------------------------------------
MODEL_MAX_NUMBER = 10**30  # far above any count, budget or size a flag may ask for; keeps every output finite
# SI suffixes are powers of ten and the binary ones powers of two: 32k is 32,000 tokens, 32Ki is 32,768.
MODEL_NUMBER_SUFFIXES = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12, "p": 10**15,
                         "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_MB_NUMBER = _re.compile(r"(?P<whole>[0-9]+(?:_[0-9]+)*)?(?:\.(?P<fraction>[0-9]+(?:_[0-9]+)*)?)?"
                         r"(?:e(?P<exponent>[+-]?[0-9]{1,4}))?(?P<suffix>ki|mi|gi|ti|[kmbgtp])?")
_MB_THOUSANDS = _re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?(?:ki|mi|gi|ti|[kmbgtp])?")


def parse_number(text, what: str, *, allow_zero: bool = True, limit=MODEL_MAX_NUMBER):
    """'7B' -> 7_000_000_000, '1.4T', '300e9', '32k' (32,000), '32Ki' (32,768), '1_000', '0.25' -> a number.

    Exact: the digits are read as an integer times a power of ten, so '1.4T' is exactly 1_400_000_000_000 and a
    whole value comes back as an int (any other as the nearest float).  Negative numbers, nan, inf and anything
    above `limit` are refused with an InputError naming `what` (the flag)."""
    raw = str(text).strip().lower()
    if "," in raw:  # only as a thousands separator: 2,5 is not read as 25 (nor as 2.5)
        if not _MB_THOUSANDS.fullmatch(raw):
            raise InputError(f"{what} {text!r}: a comma is read only between thousands (1,000); write decimals "
                             "with a point")
        raw = raw.replace(",", "")
    if len(raw) > 200:  # int() of a 5000-digit string is refused by Python itself; no count is that long
        raise InputError(f"{what} expects a number of at most 200 characters, got {len(raw)}")
    match = _MB_NUMBER.fullmatch(raw)
    if not match or not (match["whole"] or match["fraction"]):
        if raw.startswith("-"):
            raise InputError(f"{what} must not be negative, got {text!r}")
        raise InputError(f"{what} expects a number such as 7B, 1.4T, 300e9, 32k (32,000) or 32Ki (32,768), "
                         f"got {text!r}")
    fraction = (match["fraction"] or "").replace("_", "")
    digits = int((match["whole"] or "0").replace("_", "") + fraction)
    digits *= MODEL_NUMBER_SUFFIXES.get(match["suffix"] or "", 1)
    exponent = int(match["exponent"] or 0) - len(fraction)
    if digits and len(str(digits)) + exponent > len(str(int(limit))) + 1:  # before building a huge integer
        raise InputError(f"{what} {text!r} is beyond {float(limit):.0e}")
    if exponent >= 0:
        value = digits * 10**exponent
    else:
        value = digits // 10**-exponent if digits % 10**-exponent == 0 else digits / 10**-exponent
    if value > limit:
        raise InputError(f"{what} {text!r} is beyond {float(limit):.0e}")
    if not value and not allow_zero:
        raise InputError(f"{what} must be positive, got {text!r}")
    return value


def parse_count(text, what: str, *, allow_zero: bool = False, limit=MODEL_MAX_NUMBER) -> int:
    """parse_number for a whole count (layers, tokens, GPUs): '7B', '32k', '32Ki', '300e9', '1_000' -> int."""
    value = parse_number(text, what, allow_zero=allow_zero, limit=limit)
    if not isinstance(value, int):
        raise InputError(f"{what} expects a whole number, got {text!r}")
    return value


class OneLineParser(_argparse.ArgumentParser):
    """argparse whose errors are one line on stderr with exit status 2, and which never completes an abbreviated
    long flag (the cookbook's -pa must not be read as a prefix of another flag)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())}\n")


def format_table(headers, rows, markdown: bool = False, left=(0,)) -> str:
    """A plain-text table (columns in `left` aligned left, the rest right) or a GitHub markdown table, no final
    newline.  Cells are shown with str()."""
    headers = [str(h) for h in headers]
    rows = [[str(c) for c in row] for row in rows]
    if markdown:
        rule = "|" + "|".join("---" if i in left else "---:" for i in range(len(headers))) + "|"
        return "\n".join(["| " + " | ".join(headers) + " |", rule] + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(row[i]) for row in [headers] + rows) for i in range(len(headers))]

    def line(cells):
        return "  ".join(c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(cells))

    return "\n".join([line(headers).rstrip(), "  ".join("-" * w for w in widths)] + [line(r).rstrip() for r in rows])


MODEL_MAX_LAYERS = 100_000       # layers are walked one by one (MoE placement, layer types)
MODEL_MAX_WIDTH = 10**9          # any width, head count or vocabulary beyond this is a typo, not a model
MODEL_MAX_CONFIG_BYTES = 16 * 2**20  # published config.json files are a few kB

# --------------------------------------------------------------------------------------------------------------
# The model description
# --------------------------------------------------------------------------------------------------------------
NORM_KINDS = ("rmsnorm", "layernorm", "layernorm-nobias", "nonparametric")
POSITION_KINDS = ("rotary", "alibi", "learned", "relative", "none")
QK_NORM_KINDS = ("none", "head", "full", "per-head")  # per-head: Cohere, weights of shape (heads, head_dim)
NORM_PLACEMENTS = ("pre", "parallel", "post")


@_dc.dataclass(frozen=True)
class Model:
    """A decoder-only transformer, every field that changes a count, a FLOP, a byte or a tensor's name.

    0 in num_kv_heads / head_dim means "derived" (as many KV heads as query heads; hidden / heads);
    kv_lora_rank > 0 makes attention MLA; num_experts > 0 makes the layers chosen by first_k_dense,
    dense_layers and expert_interval (with its phase) MoE layers (see ``layer_is_moe``).
    """
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    vocab_size: int
    ffn_hidden_size: int
    name: str = "custom"
    source: str = "command-line flags"
    model_type: str = ""
    num_kv_heads: int = 0
    head_dim: int = 0
    gated_mlp: bool = True           # 3 linears (SwiGLU / GeGLU) vs 2
    fused_qkv: bool = False          # one qkv tensor (GPT-2, GPT-NeoX, BLOOM, Falcon, Phi-3): same numbers
    fused_gate_up: bool = False      # Phi-3's gate_up_proj: one tensor of 2 x ffn width
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    lm_head_bias: bool = False
    norm: str = "rmsnorm"            # rmsnorm | layernorm (weight + bias) | layernorm-nobias | nonparametric
    norms_per_layer: int = 2         # 1: one norm shared by a parallel block (GPT-J, Phi-2); 4: Gemma-2 sandwich
    norm_placement: str = "pre"      # pre | parallel (Falcon-40B ln_attn + ln_mlp) | post (OLMo-2)
    final_norm: bool = True
    embedding_norm: bool = False     # BLOOM's word_embeddings_layernorm
    qk_norm: str = "none"            # head: over head_dim (Qwen3, Phi qk_layernorm) | full: whole q / k (OLMo-2)
    tied_embeddings: bool = False
    position_embedding: str = "rotary"
    max_position_embeddings: int = 0  # rows of a learned table (without OPT's offset)
    position_offset: int = 0          # OPT keeps 2 extra rows
    word_embed_proj_dim: int = 0      # OPT-350m: a 512-wide table projected in / out of hidden_size
    pad_vocab_multiple: int = 1
    # MLA (DeepSeek-V2/V3)
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    # MoE
    num_experts: int = 0             # routed experts never carry biases (Mixtral, Qwen-MoE, DeepSeek-V2 with mlp_bias)
    top_k: int = 0
    moe_ffn_hidden_size: int = 0     # 0: ffn_hidden_size
    num_shared_experts: int = 0
    shared_expert_ffn_size: int = 0  # per shared expert; 0: moe_ffn_hidden_size
    shared_expert_gate: bool = False  # Qwen2-MoE: sigmoid(Linear(h, 1)) on the shared expert
    router_bias: bool = False
    router_score_correction_bias: bool = False  # DeepSeek-V3: a buffer in transformers, in the checkpoint
    first_k_dense: int = 0
    expert_interval: int = 1
    expert_interval_phase: int = 1   # 1: Qwen decoder_sparse_step, cookbook --expert-interval; 0: DeepSeek
    dense_layers: tuple = ()         # Qwen-MoE mlp_only_layers
    mtp_layers: int = 0              # DeepSeek-V3 multi-token prediction modules (not built by transformers)
    # attention span
    sliding_window: int = 0
    layer_types: tuple = ()          # per layer "full" | "sliding"; (): all full, or all sliding with a window
    # what the Hugging Face eager modules save for backward (activation estimates) and run (FLOP conventions)
    dropout: bool = False
    python_gelu: bool = False        # GPT-2's gelu_new in Python
    relu_mlp: bool = False           # plain ReLU MLP (OPT)
    softmax_fp32: bool = True        # Llama-family eager attention upcasts the softmax
    attn_softcap: bool = False       # Gemma-2 tanh soft-capping of attention logits
    norm_fp32_scale: bool = False    # Gemma / OLMo-2 RMSNorm multiplies by the weight in fp32
    norm_fp32_input: bool = False    # OLMo-1 LayerNorm normalises an fp32 copy
    hf_kv_broadcast: bool = False    # transformers' Falcon (new architecture) caches K/V for every query head
    # llama.cpp
    gguf_arch: str = ""              # llama.cpp architecture name where its quantization rules differ
    rope_freqs: bool = False         # Llama-3.1 "llama3" rope scaling: llama.cpp stores rope_freqs (head_dim / 2)
    # gpt_oss (transformers modeling_gpt_oss.py: GptOssAttention.sinks, GptOssExperts' biases)
    attention_sinks: bool = False    # one learned logit per query head, (num_attention_heads,): a parameter, no matmul
    expert_bias: bool = False        # routed experts with biases: gate_up_proj_bias (E, 2f), down_proj_bias (E, h)
    clamped_swiglu: bool = False     # GptOssExperts._apply_gate: clamp, gate * sigmoid(alpha gate) * (up + 1)
    # Qwen3-Next (qwen3_next): gated delta-net layers beside gated full attention (transformers 5.23
    # modeling_qwen3_next.py; Yang, Kautz & Hatamizadeh 2024, "Gated Delta Networks", arXiv:2412.06464)
    mixer_types: tuple = ()          # per layer "linear" (a gated delta-net, no KV cache) | "attention"; (): all
    linear_num_key_heads: int = 0    # delta-net query/key heads (each serves value_heads / key_heads value heads)
    linear_num_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 0      # the depthwise causal conv over q, k and v (linear_conv_kernel_dim)
    attn_output_gate: bool = False   # q_proj also emits a sigmoid gate per attention output channel (2 x a x d)
    # issue 10, branch families2 -- dbrx (modeling_dbrx.py DbrxExpertGLU): the routed experts stored fused as w1, v1
    # and w2, each an (E x ffn, h) matrix, in place of the stacked gate_up_proj (E, 2 ffn, h) and down_proj (E, h, ffn)
    expert_rows_fused: bool = False
    # issue 10, branch families2 -- stablelm (modeling_stablelm.py StableLmLayerNormPerHead): q/k LayerNorms as one
    # bias-free nn.LayerNorm(head_dim) per head, in place of the per-head kind's (heads, head_dim) matrices
    qk_norm_module_per_head: bool = False
    # Llama 4 (llama4 / llama4_text; transformers 5.23 modeling_llama4.py): chunked attention on the RoPE layers
    attention_chunked: bool = False  # the "sliding" layers attend within aligned chunks of sliding_window tokens
    # issue 10, branch qwen35 -- qwen3_5 / qwen3_5_moe (transformers 5.23 modeling_qwen3_5.py Qwen3_5GatedDeltaNet):
    # the delta-net input projections stored as in_proj_qkv (2 kd + vd, h), in_proj_z (vd, h), in_proj_b and
    # in_proj_a (H_v, h each) in place of Qwen3-Next's in_proj_qkvz and in_proj_ba: the same elements and matmuls
    linear_proj_split: bool = False
    # issue 10, branch dsa -- deepseek_v32 / glm_moe_dsa (transformers 5.23 modeling_deepseek_v32.py
    # DeepseekV32Indexer): DeepSeek Sparse Attention's lightning indexer beside MLA in every layer
    index_n_heads: int = 0           # indexer query heads (0: no indexer)
    index_head_dim: int = 0          # width of an indexer query head and of the one indexer key cached per token
    index_topk: int = 0              # keys each query attends to: the top-k of the indexer's scores
    # issue 10, branch mamba -- Bamba (bamba; transformers 5.23 modeling_bamba.py BambaMixer; Dao & Gu 2024,
    # "Transformers are SSMs", arXiv:2405.21060): the "linear" layers of mixer_types are Mamba-2 mixers
    ssm_kind: str = ""               # "" : gated delta-nets (Qwen3-Next) | "mamba2": Mamba-2 mixers
    mamba_num_heads: int = 0         # SSM heads H (mamba_n_heads); the mixer is H x mamba_head_dim wide
    mamba_head_dim: int = 0          # P (mamba_d_head)
    mamba_n_groups: int = 0          # G groups of B and C, each d_state wide, shared by H / G heads
    mamba_d_state: int = 0           # N (mamba_d_state)
    mamba_d_conv: int = 0            # the depthwise causal conv's kernel over x, B and C
    mamba_chunk_size: int = 0        # the chunked scan's chunk (mamba_chunk_size): the torch path pads to it
    mamba_conv_bias: bool = False    # conv1d bias (mamba_conv_bias)
    mamba_proj_bias: bool = False    # in_proj / out_proj biases (mamba_proj_bias)
    # issue 10, branch mimo -- mimo_v2_flash (transformers 5.23 modeling_mimo_v2_flash.py MiMoV2FlashAttention): the
    # sliding layers' own head shape, twice the full layers' KV heads, and their attention sinks (the full layers have
    # none); values narrower than queries and keys come from v_head_dim, read for plain attention too (see v_dim)
    sliding_kv_heads: int = 0        # KV heads of each sliding layer; 0: num_kv_heads, as every other layer
    sinks_sliding_only: bool = False  # attention_sinks on the sliding layers only
    # issue 10, branch mimo -- lfm2 (transformers 5.23 modeling_lfm2.py Lfm2ShortConv): short-convolution layers,
    # mixer_types "conv", beside attention layers; like a gated delta-net they cache no K/V but a fixed conv state
    short_conv_kernel: int = 0       # conv_L_cache: the depthwise causal conv's width
    short_conv_bias: bool = False    # conv_bias: biases on in_proj, the conv and out_proj
    # issue 10, branch gemma4 -- gemma4_text (transformers 5.23 modeling_gemma4.py): the sliding-layer shape above
    # extended to the head width; the full layers take head_dim = global_head_dim and num_kv_heads =
    # num_global_key_value_heads (with attention_k_eq_v), the sliding ones sliding_head_dim and sliding_kv_heads
    sliding_head_dim: int = 0        # head width of each sliding layer; 0: head_dim, as every other layer
    full_k_eq_v: bool = False        # attention_k_eq_v: the full layers' values are their keys (no v_proj)
    kv_shared_layers: int = 0        # num_kv_shared_layers: the last N layers reuse an earlier layer's K/V
    double_wide_shared_mlp: bool = False  # use_double_wide_mlp: the KV-shared layers' MLPs are 2 x intermediate
    per_layer_input_size: int = 0    # hidden_size_per_layer_input: per-layer input embeddings (PLE) of this width
    per_layer_vocab: int = 0         # vocab_size_per_layer_input: rows of the PLE table
    moe_beside_mlp: bool = False     # enable_moe_block: every layer runs its dense MLP and routed experts side by side
    # issue 10, branch hybrid -- nemotron_h (transformers 5.23 modeling_nemotron_h.py NemotronHBlock): each layer is
    # ONE block behind one RMSNorm: its token mixer (mixer_types "attention" or "linear", a Mamba-2 mixer) with no MLP,
    # or its MLP (mixer_types "none": a dense MLP, or MoE where layer_is_moe) with no token mixer
    single_block_layers: bool = False
    # issue 10, branch hybrid -- falcon_h1 (transformers 5.23 modeling_falcon_h1.py FalconH1DecoderLayer): every layer
    # runs a Mamba-2 mixer (ssm_kind "mamba2", the mamba_* widths) BESIDE its attention on the same normed input, then
    # the MLP; mixer_types stays () (every layer attends and caches K/V)
    parallel_ssm: bool = False
    mamba_gated_norm: bool = True    # the Mamba-2 output's gated RMSNorm (d weights); Falcon-H1: mamba_rms_norm
    mamba_out_proj_bias: bool = False  # Falcon-H1's projectors_bias on out_proj (in_proj: mamba_proj_bias)
    # issue 10, branch jamba -- Jamba (jamba; transformers 5.23 modeling_jamba.py JambaMambaMixer; Gu & Dao 2023,
    # "Mamba", arXiv:2312.00752; Lieber et al. 2024, "Jamba", arXiv:2403.19887): with ssm_kind "mamba1" the "linear"
    # layers are Mamba-1 mixers; they share mamba_d_state (N), mamba_d_conv, mamba_conv_bias and mamba_proj_bias with
    # the Mamba-2 fields above and add these
    mamba1_inner: int = 0            # d: the mixer's inner width, mamba_expand x hidden_size
    mamba_dt_rank: int = 0           # R: x_proj emits dt of rank R (and B, C of N each); dt_proj lifts it to d
    mamba_bcdt_norms: bool = False   # Jamba's RMSNorms over dt (R), B and C (N each) inside the mixer
    # issue 10, branch jamba -- router parameters transformers keeps in fp32 whatever the model dtype: ERNIE 4.5's
    # (modeling_ernie4_5_moe.py: _keep_in_fp32_modules_strict = ["gate.weight", "moe_statics"]) and Hunyuan's
    # (modeling_hunyuan_v1_moe.py: the router an nn.Linear(..., dtype=torch.float32))
    router_fp32: bool = False        # the router weight (E, h) is held in fp32
    router_frozen_bias: bool = False  # ERNIE's moe_statics.e_score_correction_bias: an fp32 Parameter (1, E) with
    #                                   requires_grad=False (counted by sum(p.numel()); no gradient, no optimizer state)

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_attention_heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @property
    def v_dim(self) -> int:
        """Value width per head: MLA's v_head_dim; MiMo-V2-Flash's v_head_dim (128 beside 192-wide queries and keys);
        else the head width (values as wide as keys)."""
        return self.v_head_dim or self.d_head

    @property
    def has_sliding_shape(self) -> bool:
        """The sliding layers hold other tensors than the full ones (MiMo-V2-Flash: KV heads, sinks; Gemma 4: KV
        heads, head width, K=V on the full layers only)."""
        return bool(self.sliding_kv_heads or self.sinks_sliding_only or self.sliding_head_dim or self.full_k_eq_v) \
            and "sliding" in self.layer_types

    @property
    def gemma4_layers(self) -> bool:
        """Gemma 4's per-layer differences are in use: head widths, K=V full layers, KV-shared layers, PLE or the
        MoE block beside the MLP (scripts count these layer by layer, or refuse what they do not model)."""
        return bool(self.sliding_head_dim or self.full_k_eq_v or self.kv_shared_layers or self.per_layer_input_size
                    or self.moe_beside_mlp)

    def layer_head_dim(self, i: int) -> int:
        """Head width of layer i's queries, keys and values (not MLA): the sliding layers' own where given."""
        return self.sliding_head_dim if self.sliding_head_dim and self.layer_attention(i) == "sliding" \
            else self.d_head

    def layer_v_dim(self, i: int) -> int:
        """Value width per head of layer i: v_head_dim where given (MLA, MiMo-V2-Flash), else its head width."""
        return self.v_head_dim or self.layer_head_dim(i)

    def layer_kv_shared(self, i: int) -> bool:
        """Layer i reuses the K/V of an earlier layer of its kind (Gemma 4's last num_kv_shared_layers layers): no
        k/v projections of its own and no cache."""
        return i >= self.num_layers - self.kv_shared_layers

    def layer_sliding_shape(self, i: int) -> bool:
        """Layer i is a sliding layer with the sliding layers' own head shape (see has_sliding_shape)."""
        return self.has_sliding_shape and self.layer_types[i] == "sliding"

    def layer_kv_heads(self, i: int) -> int:
        """KV heads of layer i: the sliding layers' own count where the model gives one."""
        return self.sliding_kv_heads if self.sliding_kv_heads and self.layer_attention(i) == "sliding" \
            else self.kv_heads

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def has_indexer(self) -> bool:
        """DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5): a lightning indexer in every layer's attention."""
        return self.index_n_heads > 0

    @property
    def moe_width(self) -> int:
        return self.moe_ffn_hidden_size or self.ffn_hidden_size

    @property
    def shared_width(self) -> int:
        """Width of the shared experts fused into one MLP (DeepSeek builds n of them as one of n x the width)."""
        return self.num_shared_experts * (self.shared_expert_ffn_size or self.moe_width)

    @property
    def padded_vocab(self) -> int:
        m = self.pad_vocab_multiple
        return -(-self.vocab_size // m) * m

    @property
    def embed_width(self) -> int:
        return self.word_embed_proj_dim or self.hidden_size

    @property
    def learned_position_rows(self) -> int:
        if self.position_embedding != "learned":
            return 0
        return self.max_position_embeddings + self.position_offset

    def layer_is_moe(self, i: int) -> bool:
        """Layer i (0-based; MTP modules continue the numbering) is MoE: past first_k_dense, not in dense_layers,
        and (i + phase) % interval == 0 (Qwen: (i + 1) % decoder_sparse_step; DeepSeek: i % moe_layer_freq)."""
        return (self.num_experts > 0 and i >= self.first_k_dense and i not in self.dense_layers
                and (i + self.expert_interval_phase) % self.expert_interval == 0)

    def layer_attention(self, i: int) -> str:
        if self.layer_types:
            return self.layer_types[i]
        return "sliding" if self.sliding_window else "full"

    def kv_tokens_held(self, i: int, context: int, convention: str = "window") -> int:
        """Tokens layer i's K/V cache holds for one sequence of `context` tokens: all of them on a full-attention
        layer; on a sliding (or Llama 4 chunked) layer at most its window: sliding_window tokens ('window': static
        caches and every script's summed breakdown) or the sliding_window - 1 that transformers'
        DynamicSlidingWindowLayer keeps ('hf-dynamic').  Engines round these up to their pages (vLLM) or cells
        (llama.cpp); calc_transformer_mem.py --engine prints those."""
        if self.layer_attention(i) != "sliding":
            return context
        return min(context, self.sliding_window - (1 if convention == "hf-dynamic" else 0))

    def layer_has_mixer(self, i: int) -> bool:
        """Layer i has a token mixer (attention, a gated delta-net, a short convolution or a Mamba-2 mixer); only
        Nemotron-H's MLP / MoE layers (mixer_types "none") have none."""
        return not (i < len(self.mixer_types) and self.mixer_types[i] == "none")

    def layer_has_attention(self, i: int) -> bool:
        """Layer i attends with softmax attention and so caches K/V."""
        return self.layer_has_mixer(i) and not self.layer_is_linear(i)

    def layer_has_mlp(self, i: int) -> bool:
        """Layer i has an MLP (dense or MoE): every layer but Nemotron-H's mixer layers (single_block_layers)."""
        return not self.single_block_layers or not self.layer_has_mixer(i)

    def attention_layer_count(self) -> int:
        """Layers with softmax attention (and a K/V cache)."""
        return self.num_layers - self.linear_layer_count() - self.mixer_types.count("none")

    def dense_mlp_layer_count(self) -> int:
        """Layers with a dense MLP: all but the MoE layers, and, in Nemotron-H, but its mixer layers."""
        with_mlp = self.mixer_types.count("none") if self.single_block_layers else self.num_layers
        return with_mlp - self.moe_layer_count()

    def layer_is_linear(self, i: int) -> bool:
        """Layer i's token mixer is no softmax attention but a layer with a fixed state and no K/V: a gated
        delta-net (Qwen3-Next's "linear_attention") or a short convolution (LFM2's "conv")."""
        return i < len(self.mixer_types) and self.mixer_types[i] in ("linear", "conv")

    def state_layer_count(self) -> int:
        """Layers with a fixed conv / recurrent state: the linear-mixer layers, or every layer of Falcon-H1."""
        return self.num_layers if self.parallel_ssm else self.linear_layer_count()

    def layer_has_state(self, i: int) -> bool:
        """Layer i keeps a fixed conv / recurrent state (a linear mixer; Falcon-H1's Mamba-2 beside attention)."""
        return self.parallel_ssm or self.layer_is_linear(i)

    def linear_layer_count(self) -> int:
        return self.mixer_types.count("linear") + self.mixer_types.count("conv")

    @property
    def short_conv(self) -> bool:
        """The model's non-attention layers are LFM2 short convolutions (not gated delta-nets)."""
        return "conv" in self.mixer_types

    @property
    def mamba_width(self) -> int:
        """The Mamba-2 mixer's inner width, H x P (Bamba: mamba_expand x hidden_size)."""
        return self.mamba_num_heads * self.mamba_head_dim

    @property
    def mamba_conv_dim(self) -> int:
        """Channels of the Mamba-2 conv1d and its cached conv state: x, B and C (H P + 2 G N)."""
        return self.mamba_width + 2 * self.mamba_n_groups * self.mamba_d_state

    @property
    def linear_mixer_name(self) -> str:
        """What the "linear" layers are, in words (output lines and refusals)."""
        return "Mamba-2" if self.ssm_kind == "mamba2" else "Mamba-1" if self.ssm_kind == "mamba1" \
            else "short-convolution" if self.short_conv else "gated delta-net"

    def moe_layer_count(self) -> int:
        dense = set(self.dense_layers)  # a set: a long mlp_only_layers list must not make this quadratic
        if not self.num_experts:
            return 0
        return sum(1 for i in range(self.first_k_dense, self.num_layers) if i not in dense
                   and (i + self.expert_interval_phase) % self.expert_interval == 0)


MODEL_FIELD_FLAGS = {  # the flag that sets each field, for error messages about flags
    "num_layers": "--num-layers", "hidden_size": "--hidden-size", "num_attention_heads": "--num-attention-heads",
    "vocab_size": "--vocab-size", "ffn_hidden_size": "--ffn-hidden-size", "num_kv_heads": "--num-kv-heads",
    "head_dim": "--head-dim", "pad_vocab_multiple": "--pad-vocab-to-multiple",
    "max_position_embeddings": "--learned-positions", "position_offset": "--position-offset",
    "word_embed_proj_dim": "--word-embed-proj-dim", "norms_per_layer": "--norms-per-layer",
    "q_lora_rank": "--q-lora-rank", "kv_lora_rank": "--kv-lora-rank", "qk_nope_head_dim": "--qk-nope-head-dim",
    "qk_rope_head_dim": "--qk-rope-head-dim", "v_head_dim": "--v-head-dim", "num_experts": "--num-experts",
    "top_k": "--topk", "moe_ffn_hidden_size": "--moe-ffn-hidden-size", "num_shared_experts": "--num-shared-experts",
    "shared_expert_ffn_size": "--shared-expert-ffn-size", "first_k_dense": "--first-k-dense",
    "expert_interval": "--expert-interval", "dense_layers": "--dense-layers", "mtp_layers": "--mtp-layers",
    "sliding_window": "--sliding-window",
}


def validate_model(m: Model, labels: dict | None = None) -> Model:
    """Raise InputError naming the flag (or, through labels, the config.json field) when m is not a model."""
    def name(field):
        return (labels or {}).get(field) or MODEL_FIELD_FLAGS.get(field) or field

    positive = ("num_layers", "hidden_size", "num_attention_heads", "vocab_size", "ffn_hidden_size",
                "pad_vocab_multiple", "expert_interval")
    for f in _dc.fields(m):
        value = getattr(m, f.name)
        if f.type in ("int", int):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if f.name in positive else 0):
                kind = "a positive integer" if f.name in positive else "a non-negative integer"
                raise InputError(f"{name(f.name)} must be {kind}, got {value!r}")
            if value > MODEL_MAX_WIDTH:
                raise InputError(f"{name(f.name)} {value} is beyond {MODEL_MAX_WIDTH:.0e}")
    for layered in ("num_layers", "mtp_layers"):
        if getattr(m, layered) > MODEL_MAX_LAYERS:
            raise InputError(f"{name(layered)} {getattr(m, layered)} is beyond {MODEL_MAX_LAYERS:,}")
    for field, allowed in (("norm", NORM_KINDS), ("position_embedding", POSITION_KINDS),
                           ("qk_norm", QK_NORM_KINDS), ("norm_placement", NORM_PLACEMENTS)):
        if getattr(m, field) not in allowed:
            raise InputError(f"--{field.replace('_', '-')} must be one of {', '.join(allowed)}, "
                             f"got {getattr(m, field)!r}")
    if m.position_embedding == "learned" and m.max_position_embeddings < 1:
        raise InputError(f"{name('max_position_embeddings')} must be positive with learned position embeddings")
    if m.is_mla:
        for field in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            if getattr(m, field) < 1:
                raise InputError(f"{name(field)} must be a positive integer with MLA ({name('kv_lora_rank')} > 0)")
    else:
        if not m.head_dim and m.hidden_size % m.num_attention_heads:
            raise InputError(f"{name('hidden_size')} {m.hidden_size} is not divisible by "
                             f"{name('num_attention_heads')} {m.num_attention_heads}; give {name('head_dim')}")
        if m.kv_heads > m.num_attention_heads or m.num_attention_heads % m.kv_heads:
            raise InputError(f"{name('num_kv_heads')} {m.kv_heads} does not divide "
                             f"{name('num_attention_heads')} {m.num_attention_heads}")
    if m.sliding_kv_heads and (m.sliding_kv_heads > m.num_attention_heads
                               or m.num_attention_heads % m.sliding_kv_heads or m.is_mla):
        raise InputError(f"{name('sliding_kv_heads')} {m.sliding_kv_heads} does not divide "
                         f"{name('num_attention_heads')} {m.num_attention_heads}")
    _mb_validate_gemma4(m, name)
    if m.v_head_dim and not m.is_mla and m.fused_qkv:
        raise InputError(f"{name('v_head_dim')}: values narrower than keys are modelled with separate q/k/v "
                         "projections only")
    if m.num_experts:
        if not 1 <= m.top_k <= m.num_experts:
            raise InputError(f"{name('top_k')} must be between 1 and {name('num_experts')} {m.num_experts}, "
                             f"got {m.top_k}")
    elif m.top_k or m.num_shared_experts:
        raise InputError(f"{name('top_k') if m.top_k else name('num_shared_experts')} needs {name('num_experts')} > 0")
    for index in m.dense_layers:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < m.num_layers:
            raise InputError(f"{name('dense_layers')} entries must be layer indices in [0, {m.num_layers}), "
                             f"got {index!r}")
    if m.layer_types and (len(m.layer_types) != m.num_layers or set(m.layer_types) - {"full", "sliding"}):
        raise InputError(f"layer_types must give 'full' or 'sliding' for each of the {m.num_layers} layers")
    if "sliding" in m.layer_types and not m.sliding_window:
        raise InputError(f"sliding layers need {name('sliding_window')} > 0")
    _mb_validate_linear_attention(m, name)
    _mb_validate_indexer(m, name)
    return m


def _mb_validate_gemma4(m: Model, name) -> None:
    """Gemma 4's switches (issue 10, branch gemma4): modelled in its own block only (separate q/k/v, no MLA, no
    gated delta-nets); KV-shared layers must find a layer of each of their kinds before them (Gemma4TextConfig.
    kv_sharing_modes raises otherwise); the PLE table needs rows; the MoE block beside the MLP needs experts."""
    if not (m.gemma4_layers or m.double_wide_shared_mlp):
        return
    if m.is_mla or m.fused_qkv or m.mixer_types or m.v_head_dim:
        raise InputError(f"{m.source}: Gemma 4's per-layer shapes, KV sharing, PLE and MoE block are modelled in its "
                         "own block only (separate q/k/v, no MLA, no linear-attention layers)")
    if m.kv_shared_layers >= m.num_layers:
        raise InputError(f"{name('kv_shared_layers')} {m.kv_shared_layers} leaves no layer of the {m.num_layers} to "
                         "compute the keys and values it shares")
    if m.kv_shared_layers:
        first = m.num_layers - m.kv_shared_layers
        if {m.layer_attention(i) for i in range(first)} != {m.layer_attention(i) for i in range(m.num_layers)}:
            raise InputError(f"{name('kv_shared_layers')} {m.kv_shared_layers}: the layers before the shared ones do "
                             "not hold every attention kind the shared ones reuse (transformers refuses it too)")
    if m.sliding_head_dim and "sliding" not in m.layer_types:
        raise InputError(f"{name('sliding_head_dim')} needs sliding layers")
    if m.per_layer_input_size and not m.per_layer_vocab:
        raise InputError(f"{name('per_layer_vocab')} must be positive with per-layer input embeddings")
    if m.moe_beside_mlp and not m.num_experts:
        raise InputError(f"{name('moe_beside_mlp')} needs {name('num_experts')} > 0")


def _mb_validate_indexer(m: Model, name) -> None:
    """The DSA indexer (DeepseekV32Indexer) reads MLA's q-LoRA latent (wq_b: q_lora_rank -> heads x head_dim) and
    ropes the first qk_rope_head_dim values of each of its heads: it needs MLA with a q-LoRA and heads at least that
    wide, and a top-k of at least one key."""
    if not m.index_n_heads:
        return
    if not m.is_mla or not m.q_lora_rank:
        raise InputError(f"{name('q_lora_rank') if m.is_mla else name('kv_lora_rank')}: the DSA indexer reads MLA's "
                         "q-LoRA latent; it needs MLA with q_lora_rank > 0")
    if m.index_head_dim < max(1, m.qk_rope_head_dim):
        raise InputError(f"{name('index_head_dim')} {m.index_head_dim} is narrower than {name('qk_rope_head_dim')} "
                         f"{m.qk_rope_head_dim}, which the indexer ropes in each head; transformers cannot run it")
    if m.index_topk < 1:
        raise InputError(f"{name('index_topk')} must be a positive integer with a DSA indexer")


def _mb_validate_linear_attention(m: Model, name) -> None:
    """Qwen3-Next's gated delta-net layers: one mixer per layer, positive widths, and value heads in whole groups
    per key head (Qwen3NextGatedDeltaNet views q, k, v and z per key head and repeats q, k to the value heads)."""
    if m.mixer_types and (len(m.mixer_types) != m.num_layers
                          or set(m.mixer_types) - {"linear", "attention", "conv", "none"}
                          or {"linear", "conv"} <= set(m.mixer_types)):
        raise InputError(f"layer_types must give 'linear_attention' or 'full_attention' (LFM2: 'conv' or "
                         f"'full_attention') for each of the {m.num_layers} layers")
    if ("none" in m.mixer_types or m.single_block_layers) and not (m.single_block_layers and m.mixer_types):
        raise InputError(f"{m.source}: layers without a token mixer are modelled in Nemotron-H's block only (one "
                         "mixer or one MLP per layer, layer by layer)")
    if m.single_block_layers:
        _mb_validate_single_block(m, name)
    if m.parallel_ssm:  # Falcon-H1
        if m.ssm_kind != "mamba2" or m.mixer_types or m.is_mla or m.sliding_window or m.fused_qkv \
                or m.norms_per_layer != 2 or m.norm_placement != "pre" or m.attn_output_gate or m.is_moe:
            raise InputError(f"{m.source}: a Mamba-2 mixer beside attention is modelled in Falcon-H1's block only "
                             "(pre-norm, separate q/k/v, a dense MLP, no MLA, window or experts)")
        return _mb_validate_mamba2(m, name)
    if m.ssm_kind not in ("", "mamba2", "mamba1"):
        raise InputError(f"ssm_kind must be '', 'mamba2' or 'mamba1', got {m.ssm_kind!r}")
    if "conv" in m.mixer_types:  # LFM2's short convolutions
        if m.short_conv_kernel < 1:
            raise InputError(f"{name('short_conv_kernel')} must be a positive integer with short-convolution layers")
        if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre" \
                or m.is_moe:
            raise InputError(f"{m.source}: short-convolution layers are modelled in LFM2's block only (pre-norm, "
                             "separate q/k/v, no MLA, window or experts)")
        return
    if "linear" not in m.mixer_types:
        return
    if m.ssm_kind == "mamba2":
        return _mb_validate_mamba2(m, name)
    if m.ssm_kind == "mamba1":  # issue 10, branch jamba
        return _mb_validate_mamba1(m, name)
    for field in ("linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim", "linear_value_head_dim",
                  "linear_conv_kernel"):
        if getattr(m, field) < 1:
            raise InputError(f"{name(field)} must be a positive integer with gated delta-net layers")
    if m.linear_num_value_heads % m.linear_num_key_heads:
        raise InputError(f"{name('linear_num_value_heads')} {m.linear_num_value_heads} is not a multiple of "
                         f"{name('linear_num_key_heads')} {m.linear_num_key_heads}")
    if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre":
        raise InputError(f"{m.source}: gated delta-net layers are modelled in Qwen3-Next's block only (pre-norm, "
                         "separate q/k/v, no MLA, no sliding window)")


def _mb_validate_mamba2(m: Model, name) -> None:
    """Bamba's Mamba-2 layers: positive widths, heads in whole groups (mamba2_chunk_scan repeats B and C to the
    heads, H / G each), in Bamba's pre-norm block beside plain attention layers."""
    for field in ("mamba_num_heads", "mamba_head_dim", "mamba_n_groups", "mamba_d_state", "mamba_d_conv",
                  "mamba_chunk_size"):
        if getattr(m, field) < 1:
            raise InputError(f"{name(field)} must be a positive integer with Mamba-2 layers")
    if m.mamba_num_heads % m.mamba_n_groups:
        raise InputError(f"{name('mamba_num_heads')} {m.mamba_num_heads} is not a multiple of "
                         f"{name('mamba_n_groups')} {m.mamba_n_groups}")
    if m.single_block_layers or m.parallel_ssm:  # Nemotron-H, Falcon-H1: checked with their blocks
        return
    if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre" \
            or m.attn_output_gate or m.is_moe:
        raise InputError(f"{m.source}: Mamba-2 layers are modelled in Bamba's block only (pre-norm, separate q/k/v, "
                         "no MLA, no sliding window, no experts)")


def _mb_validate_single_block(m: Model, name) -> None:
    """Nemotron-H's block (NemotronHBlock): one pre-norm, then ONE of attention, a Mamba-2 mixer, an MLP or an MoE;
    experts only in the layers without a mixer; plain attention (separate q/k/v, no MLA, window or output gate)."""
    if m.norms_per_layer != 1 or m.norm_placement != "pre" or m.is_mla or m.sliding_window or m.fused_qkv \
            or m.attn_output_gate or m.short_conv or ("linear" in m.mixer_types and m.ssm_kind != "mamba2"):
        raise InputError(f"{m.source}: one-block layers are modelled in Nemotron-H's block only (one pre-norm, "
                         "separate q/k/v, Mamba-2 mixers, no MLA, no sliding window)")
    wrong = next((i for i in range(m.num_layers) if m.layer_is_moe(i) and m.layer_has_mixer(i)), None)
    if wrong is not None:
        raise InputError(f"{name('dense_layers')}: layer {wrong} holds a token mixer, so it cannot be an MoE layer "
                         "in Nemotron-H's one-block layers")


def _mb_validate_mamba1(m: Model, name) -> None:
    """Jamba's Mamba-1 layers: positive widths (inner d, dt rank R, state N, conv kernel), in Jamba's pre-norm block
    beside plain attention layers; dense or MoE feed-forward alike."""
    for field in ("mamba1_inner", "mamba_dt_rank", "mamba_d_state", "mamba_d_conv"):
        if getattr(m, field) < 1:
            raise InputError(f"{name(field)} must be a positive integer with Mamba-1 layers")
    if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre" \
            or m.attn_output_gate or m.num_shared_experts:
        raise InputError(f"{m.source}: Mamba-1 layers are modelled in Jamba's block only (pre-norm, separate q/k/v, "
                         "no MLA, no sliding window, no shared expert)")


# --------------------------------------------------------------------------------------------------------------
# The parameter tensors
# --------------------------------------------------------------------------------------------------------------
@_dc.dataclass(frozen=True)
class ModelTensor:
    """One stored tensor.  shape is PyTorch's (out, in) for a Linear; routed experts are stacked in front (E, ...).

    role: the component it belongs to (embedding, positions, embedding_projections, attention, mlp,
    routed_experts, shared_experts, router, norms, lm_head).  split: how tensor parallelism splits it (col: output
    features, row: input features, vocab: rows, kv: K/V heads, None: replicated).  kind: weight | bias | norm |
    table | conv (a depthwise convolution kernel: no matmul).  buffer: stored in the checkpoint but not a PyTorch parameter (DeepSeek-V3's e_score_correction_bias).
    """
    name: str
    shape: tuple
    role: str
    split: str | None = None
    kind: str = "weight"
    buffer: bool = False
    # issue 10, branch jamba: how transformers holds it, where that is not the model dtype and a trained parameter
    fp32: bool = False    # kept in fp32 whatever the model dtype (ERNIE 4.5's and Hunyuan's routers)
    frozen: bool = False  # a Parameter with requires_grad=False: counted, but no gradient and no optimizer state

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def _mb_norms(m: Model, name: str, width: int, role: str = "norms") -> list:
    if m.norm == "nonparametric":
        return []
    out = [ModelTensor(name + ".weight", (width,), role, kind="norm")]
    if m.norm == "layernorm":
        out.append(ModelTensor(name + ".bias", (width,), role, kind="norm"))
    return out


def _mb_linear(name: str, n_in: int, n_out: int, role: str, bias: bool, split) -> list:
    """nn.Linear (out, in); a row-parallel bias is replicated, a column-parallel one split like its weight."""
    out = [ModelTensor(name + ".weight", (n_out, n_in), role, split)]
    if bias:
        out.append(ModelTensor(name + ".bias", (n_out,), role, None if split in (None, "row") else split, kind="bias"))
    return out


def _mb_mlp(m: Model, prefix: str, width: int, role: str, bias: bool) -> list:
    h = m.hidden_size
    if m.gated_mlp and m.fused_gate_up:
        up = _mb_linear(prefix + ".gate_up_proj", h, 2 * width, role, bias, "col")
    elif m.gated_mlp:
        up = (_mb_linear(prefix + ".gate_proj", h, width, role, bias, "col")
              + _mb_linear(prefix + ".up_proj", h, width, role, bias, "col"))
    else:
        up = _mb_linear(prefix + ".up_proj", h, width, role, bias, "col")
    return up + _mb_linear(prefix + ".down_proj", width, h, role, bias, "row")


def _mb_attention(m: Model, sliding: bool = False, shared: bool = False) -> list:
    """One layer's attention tensors; ``sliding``: a sliding layer with the sliding layers' own shape (MiMo-V2-Flash,
    Gemma 4); ``shared``: a Gemma 4 KV-shared layer (Gemma4TextAttention with is_kv_shared_layer): q_proj, q_norm and
    o_proj only, the keys and values being an earlier layer's.  Gemma 4's full layers with attention_k_eq_v build
    no v_proj (the values are k_proj's output, normalised by v_norm, an RMSNorm without weight)."""
    h, a = m.hidden_size, m.num_attention_heads
    out = []
    if m.is_mla:  # DeepSeek-V2 paper sec. 2.1; transformers DeepseekV3Attention
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            out += _mb_linear("self_attn.q_a_proj", h, m.q_lora_rank, "attention", m.qkv_bias, None)
            out += _mb_norms(m, "self_attn.q_a_layernorm", m.q_lora_rank)
            out += _mb_linear("self_attn.q_b_proj", m.q_lora_rank, a * qk, "attention", False, "col")
        else:
            out += _mb_linear("self_attn.q_proj", h, a * qk, "attention", False, "col")
        out += _mb_linear("self_attn.kv_a_proj_with_mqa", h, m.kv_lora_rank + m.qk_rope_head_dim, "attention",
                               m.qkv_bias, None)
        out += _mb_norms(m, "self_attn.kv_a_layernorm", m.kv_lora_rank)
        out += _mb_linear("self_attn.kv_b_proj", m.kv_lora_rank, a * (m.qk_nope_head_dim + m.v_head_dim),
                               "attention", False, "col")
        out += _mb_linear("self_attn.o_proj", a * m.v_head_dim, h, "attention", m.o_bias, "row")
        return out + _mb_indexer(m)
    k = (m.sliding_kv_heads or m.kv_heads) if sliding else m.kv_heads
    d = (m.sliding_head_dim or m.d_head) if sliding else m.d_head
    dv = m.v_head_dim or d
    if m.fused_qkv:
        out += _mb_linear("self_attn.qkv_proj", h, (a + 2 * k) * d, "attention", m.qkv_bias, "col")
    else:
        out += _mb_linear("self_attn.q_proj", h, a * d, "attention", m.qkv_bias, "col")
        if not shared:
            out += _mb_linear("self_attn.k_proj", h, k * d, "attention", m.qkv_bias, "kv")
        if not shared and not (m.full_k_eq_v and not sliding):
            out += _mb_linear("self_attn.v_proj", h, k * dv, "attention", m.qkv_bias, "kv")
    out += _mb_linear("self_attn.o_proj", a * dv, h, "attention", m.o_bias, "row")
    if m.position_embedding == "relative":
        # Transformer-XL (Dai et al. 2019 sec. 3.3; Gopher/Chinchilla): W_kR and the per-head u, v biases
        out.append(ModelTensor("self_attn.rel_k_proj.weight", (a * d, h), "attention", "col"))
        out.append(ModelTensor("self_attn.rel_uv_bias", (2, a * d), "attention", kind="bias"))
    out += _mb_attention_sinks(m) if sliding or not m.sinks_sliding_only else []
    if m.qk_norm == "head":
        out += _mb_norms(m, "self_attn.q_norm", d) + ([] if shared else _mb_norms(m, "self_attn.k_norm", d))
    elif m.qk_norm == "full":
        out += _mb_norms(m, "self_attn.q_norm", a * d) + _mb_norms(m, "self_attn.k_norm", k * d)
    elif m.qk_norm == "per-head" and m.norm != "nonparametric":  # Cohere's use_qk_norm: one weight per head
        for name, heads in (("self_attn.q_norm", a), ("self_attn.k_norm", k)):
            out.append(ModelTensor(name + ".weight", (heads, d), "norms", kind="norm"))
            if m.norm == "layernorm":
                out.append(ModelTensor(name + ".bias", (heads, d), "norms", kind="norm"))
    return out


def _mb_indexer(m: Model) -> list:
    """DeepSeek Sparse Attention's lightning indexer (the DeepSeek-V3.2 report, sec. 2.1: DSA and its indexer;
    transformers 5.23 DeepseekV32Indexer, which GlmMoeDsaIndexer inherits): with H_I = index_n_heads heads of
    d_I = index_head_dim, wq_b (H_I x d_I, q_lora_rank) on MLA's normalised q-LoRA latent, wk (d_I, h) to one key per
    token, k_norm an nn.LayerNorm(d_I) with weight and bias whatever the block's norm, weights_proj (H_I, h) to one
    weight per head and token; no biases.  Replicated under tensor parallelism (the config classes' tp_plan names
    none of them; the keys are one head)."""
    if not m.index_n_heads:
        return []
    hi, di, h = m.index_n_heads, m.index_head_dim, m.hidden_size
    return [ModelTensor("self_attn.indexer.wq_b.weight", (hi * di, m.q_lora_rank), "attention"),
            ModelTensor("self_attn.indexer.wk.weight", (di, h), "attention"),
            ModelTensor("self_attn.indexer.k_norm.weight", (di,), "norms", kind="norm"),
            ModelTensor("self_attn.indexer.k_norm.bias", (di,), "norms", kind="norm"),
            ModelTensor("self_attn.indexer.weights_proj.weight", (hi, h), "attention")]


def _mb_attention_sinks(m: Model) -> list:
    """gpt-oss's attention sinks (modeling_gpt_oss.py GptOssAttention.sinks): one learned logit per query head,
    appended as an extra column to each row of scores before the softmax and dropped after it (the sink takes a share
    of the probability mass and adds nothing to the output).  A parameter of num_attention_heads values, no matmul;
    split with the heads under tensor parallelism (its kind, bias, keeps it out of every matmul count)."""
    if not m.attention_sinks:
        return []
    return [ModelTensor("self_attn.sinks", (m.num_attention_heads,), "attention", "col", kind="bias")]


def _mb_expert_biases(m: Model) -> list:
    """gpt-oss's expert biases (GptOssExperts): gate_up_proj_bias (E, 2f) after the stacked gate/up projection and
    down_proj_bias (E, h) after the down projection: per expert, 2f + h values, added (no matmul).  Routed experts,
    so a token uses top_k of the E rows (the active count); the down bias is replicated, not split, by expert
    tensor parallelism, like any row-parallel bias."""
    if not m.expert_bias:
        return []
    e, f, h = m.num_experts, m.moe_width, m.hidden_size
    up = 2 * f if m.gated_mlp else f
    return [ModelTensor("mlp.experts.gate_up_proj_bias" if m.gated_mlp else "mlp.experts.up_proj_bias", (e, up),
                        "routed_experts", "col", kind="bias"),
            ModelTensor("mlp.experts.down_proj_bias", (e, h), "routed_experts", None, kind="bias")]
def _mb_stablelm_qk_norms(m: Model, out: list) -> list:
    """StableLM's qk_layernorm (StableLmLayerNormPerHead): a ModuleList of heads (KV heads for k) nn.LayerNorm(head_dim,
    bias=False): one (head_dim,) weight per head, without bias even where the block's LayerNorms have one."""
    if not m.qk_norm_module_per_head:
        return out
    out = [t for t in out if not t.name.startswith(("self_attn.q_norm.", "self_attn.k_norm."))]
    return out + [ModelTensor(f"self_attn.{name}.norms.{i}.weight", (m.d_head,), "norms", kind="norm")
                  for name, heads in (("q_norm", m.num_attention_heads), ("k_norm", m.kv_heads)) for i in range(heads)]


def _mb_dbrx_experts(m: Model, out: list) -> list:
    """DBRX's experts (DbrxExpertGLU): three parameters w1 (gate), v1 (up) and w2 (down), each (E x ffn, h), in place of
    the stacked pair: the same elements, but three 2-D tensors (what an optimizer factors and keeps a step for)."""
    if not m.expert_rows_fused:
        return out
    rows = (m.num_experts * m.moe_width, m.hidden_size)
    out = [t for t in out if t.name not in ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")]
    return out + [ModelTensor("mlp.experts." + name, rows, "routed_experts", split)
                  for name, split in (("w1", "col"), ("v1", "col"), ("w2", "row"))]


def _mb_qwen3_next_mixer(m: Model, out: list, linear: bool) -> list:
    """Qwen3-Next's token mixers (transformers 5.23 modeling_qwen3_next.py), on a layer's tensors so far.

    Gated attention (Qwen3NextAttention): q_proj emits a query and a gate per head, a x 2d rows; the output is
    o_proj(attention x sigmoid(gate)).  Gated delta-net (Qwen3NextGatedDeltaNet), in place of self-attention, with
    key width kd = linear_num_key_heads x linear_key_head_dim and value width vd = linear_num_value_heads (Hv) x
    linear_value_head_dim (dv): in_proj_qkvz (2 kd + 2 vd, h), in_proj_ba (2 Hv, h), a depthwise conv1d over q, k, v
    (2 kd + vd, 1, kernel) without bias, dt_bias and A_log (Hv each), a gated RMSNorm over dv and out_proj (h, vd).
    Qwen3.5 (Qwen3_5GatedDeltaNet) splits the input projections into in_proj_qkv, in_proj_z, in_proj_b and
    in_proj_a (linear_proj_split): the same rows, so the same count and matmul FLOPs."""
    if (linear or m.parallel_ssm) and m.ssm_kind == "mamba2":  # Falcon-H1: beside attention in every layer
        return _mb_mamba2_mixer(m, out)
    if linear and m.ssm_kind == "mamba1":  # issue 10, branch jamba
        return _mb_mamba1_mixer(m, out)
    if linear and m.short_conv:  # LFM2 (Lfm2ShortConv): in_proj h -> 3h (B, C, x), a depthwise conv over B*x of
        h, bias = m.hidden_size, m.short_conv_bias  # kernel conv_L_cache, out_proj h -> h; biases by conv_bias
        out = [t for t in out if not t.name.startswith("self_attn.")]
        out += _mb_linear("conv.in_proj", h, 3 * h, "attention", bias, "col")
        out.append(ModelTensor("conv.conv.weight", (h, 1, m.short_conv_kernel), "attention", "col", kind="conv"))
        if bias:
            out.append(ModelTensor("conv.conv.bias", (h,), "attention", "col", kind="bias"))
        out += _mb_linear("conv.out_proj", h, h, "attention", bias, "row")
    elif linear:
        kd = m.linear_num_key_heads * m.linear_key_head_dim
        vd, hv, h = m.linear_num_value_heads * m.linear_value_head_dim, m.linear_num_value_heads, m.hidden_size
        out = [t for t in out if not t.name.startswith("self_attn.")]
        if m.linear_proj_split:  # Qwen3.5: four projections, the same rows as in_proj_qkvz + in_proj_ba
            out += _mb_linear("linear_attn.in_proj_qkv", h, 2 * kd + vd, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_z", h, vd, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_b", h, hv, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_a", h, hv, "attention", False, "col")
        else:
            out += _mb_linear("linear_attn.in_proj_qkvz", h, 2 * kd + 2 * vd, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_ba", h, 2 * hv, "attention", False, "col")
        out.append(ModelTensor("linear_attn.conv1d.weight", (2 * kd + vd, 1, m.linear_conv_kernel), "attention",
                               "col", kind="conv"))
        out += [ModelTensor(f"linear_attn.{p}", (hv,), "attention", "col", kind="bias") for p in ("dt_bias", "A_log")]
        out += _mb_norms(m, "linear_attn.norm", m.linear_value_head_dim)
        out += _mb_linear("linear_attn.out_proj", vd, h, "attention", False, "row")
    elif m.attn_output_gate:  # twice the query rows: [query | gate] per head
        out = [_dc.replace(t, shape=(2 * t.shape[0],) + t.shape[1:]) if t.name.startswith("self_attn.q_proj.")
               else t for t in out]
    return out


def _mb_mamba2_mixer(m: Model, out: list) -> list:
    """A Mamba-2 mixer in place of self-attention (transformers 5.23 modeling_bamba.py BambaMixer), with inner width
    d = H x P, conv channels c = d + 2 G N: in_proj (d + c + H, h) emitting the gate z, x, B, C and dt; a depthwise
    conv1d (c, 1, kernel) with a bias when mamba_conv_bias; dt_bias, A_log and D (H each); a gated RMSNorm over d
    (normalised in G groups, one weight of d); out_proj (h, d); in_proj / out_proj biased when mamba_proj_bias.
    Falcon-H1 (parallel_ssm, modeling_falcon_h1.py FalconH1Mixer): the mixer is kept BESIDE self-attention; its
    gated RMSNorm only with mamba_gated_norm (mamba_rms_norm), out_proj biased by mamba_out_proj_bias
    (projectors_bias) and in_proj by mamba_proj_bias."""
    h, d, c, heads = m.hidden_size, m.mamba_width, m.mamba_conv_dim, m.mamba_num_heads
    if not m.parallel_ssm:
        out = [t for t in out if not t.name.startswith("self_attn.")]
    out += _mb_linear("mamba.in_proj", h, d + c + heads, "attention", m.mamba_proj_bias, "col")
    out.append(ModelTensor("mamba.conv1d.weight", (c, 1, m.mamba_d_conv), "attention", "col", kind="conv"))
    if m.mamba_conv_bias:
        out.append(ModelTensor("mamba.conv1d.bias", (c,), "attention", "col", kind="bias"))
    out += [ModelTensor(f"mamba.{p}", (heads,), "attention", "col", kind="bias") for p in ("dt_bias", "A_log", "D")]
    if m.mamba_gated_norm:
        out.append(ModelTensor("mamba.norm.weight", (d,), "norms", "col", kind="norm"))
    out += _mb_linear("mamba.out_proj", d, h, "attention",
                      m.mamba_out_proj_bias if m.parallel_ssm else m.mamba_proj_bias, "row")
    return out


def _mb_mamba1_mixer(m: Model, out: list) -> list:
    """A Mamba-1 mixer in place of self-attention (transformers 5.23 modeling_jamba.py JambaMambaMixer; Gu & Dao
    2023 Algorithm 2), with inner width d = mamba_expand x h, state N, dt rank R and kernel K: in_proj (2d, h) emitting
    x and the gate z; a depthwise conv1d (d, 1, K) with a bias when mamba_conv_bias; x_proj (R + 2N, d) without bias
    emitting dt, B and C; dt_proj (d, R) with its bias; A_log (d, N) and D (d), elementwise parameters (no matmul);
    Jamba's RMSNorms over dt, B and C (R, N, N); out_proj (h, d); in_proj / out_proj biased when mamba_proj_bias.
    Tensor parallelism splits d (vLLM's MambaMixer: in_proj, conv1d, dt_proj column-, x_proj and out_proj
    row-parallel); the three small norms are replicated."""
    h, d, n, rank = m.hidden_size, m.mamba1_inner, m.mamba_d_state, m.mamba_dt_rank
    out = [t for t in out if not t.name.startswith("self_attn.")]
    out += _mb_linear("mamba.in_proj", h, 2 * d, "attention", m.mamba_proj_bias, "col")
    out.append(ModelTensor("mamba.conv1d.weight", (d, 1, m.mamba_d_conv), "attention", "col", kind="conv"))
    if m.mamba_conv_bias:
        out.append(ModelTensor("mamba.conv1d.bias", (d,), "attention", "col", kind="bias"))
    out += _mb_linear("mamba.x_proj", d, rank + 2 * n, "attention", False, "row")
    out += _mb_linear("mamba.dt_proj", rank, d, "attention", True, "col")
    out.append(ModelTensor("mamba.A_log", (d, n), "attention", "col", kind="bias"))
    out.append(ModelTensor("mamba.D", (d,), "attention", "col", kind="bias"))
    if m.mamba_bcdt_norms:
        out += [ModelTensor(f"mamba.{p}_layernorm.weight", (w,), "norms", kind="norm")
                for p, w in (("dt", rank), ("b", n), ("c", n))]
    out += _mb_linear("mamba.out_proj", d, h, "attention", m.mamba_proj_bias, "row")
    return out


def _mb_fp32_router(m: Model, out: list) -> list:
    """Router parameters transformers keeps in fp32 (issue 10, branch jamba).  ERNIE 4.5 (modeling_ernie4_5_moe.py
    Ernie4_5_MoeTopKRouter): the router weight (E, h) created in fp32 and listed in _keep_in_fp32_modules_strict, and
    moe_statics.e_score_correction_bias, an fp32 nn.Parameter of (1, E) with requires_grad=False (added to the
    softmax scores for the top-k choice only): a parameter, so sum(p.numel()) counts it, but frozen.  Hunyuan
    (HunYuanMoEV1Gate): the router an nn.Linear(h, E, bias=False, dtype=torch.float32).  Both routers run in fp32."""
    if not (m.router_fp32 or m.router_frozen_bias):
        return out
    out = [_dc.replace(t, fp32=True) if t.name == "mlp.router.weight" and m.router_fp32 else t for t in out]
    if m.router_frozen_bias:
        out.append(ModelTensor("mlp.router.e_score_correction_bias", (m.num_experts,), "router", kind="bias",
                               fp32=True, frozen=True))
    return out


_MB_LAYER_CACHE: dict = {}


def model_layer_tensors(m: Model, moe: bool, linear: bool = False, sliding: bool = False, mixer: bool = True,
                        shared: bool = False) -> tuple:
    """The tensors of one decoder layer (dense or MoE; linear: a gated delta-net in place of self-attention;
    sliding: a sliding layer of a model whose sliding layers have their own head shape, MiMo-V2-Flash, Gemma 4;
    shared: a Gemma 4 KV-shared layer), in the transformers 5 layout: routed experts stacked as gate_up_proj
    (E, 2f, h) and down_proj (E, h, f).
    Nemotron-H (single_block_layers): a layer with a mixer (mixer=True) holds its norm and that mixer only, a layer
    without one (mixer=False) its norm and its MLP (dense, or MoE with moe) only.  The positional switches are those
    of model_layer_kind's key, (moe, linear, sliding, mixer, shared)."""
    sliding = bool(sliding and m.has_sliding_shape)
    mixer = bool(mixer or not m.single_block_layers)
    shared = bool(shared and m.kv_shared_layers)
    key = (m, moe, linear, sliding, mixer, shared)
    if key in _MB_LAYER_CACHE:
        return _MB_LAYER_CACHE[key]
    h, out = m.hidden_size, []
    for i in range(m.norms_per_layer):
        out += _mb_norms(m, f"norm{i + 1}", h)
    if mixer:
        out += _mb_attention(m, sliding, shared)
        out = _mb_stablelm_qk_norms(m, out)
        out = _mb_qwen3_next_mixer(m, out, linear)
    has_mlp = not (m.single_block_layers and mixer)  # Nemotron-H: a mixer layer has no MLP
    if has_mlp and (not moe or m.moe_beside_mlp):
        out += _mb_mlp(m, "mlp", m.ffn_hidden_size * (2 if shared and m.double_wide_shared_mlp else 1), "mlp",
                       m.mlp_bias)
    out += _mb_per_layer_input(m)
    if has_mlp and moe and m.moe_beside_mlp:
        out += _mb_gemma4_moe_block(m)
    elif has_mlp and moe:
        e, f = m.num_experts, m.moe_width
        out.append(ModelTensor("mlp.router.weight", (e, h), "router"))
        if m.router_bias:
            out.append(ModelTensor("mlp.router.bias", (e,), "router", kind="bias"))
        if m.router_score_correction_bias:
            out.append(ModelTensor("mlp.router.e_score_correction_bias", (e,), "router", kind="bias", buffer=True))
        up = 2 * f if m.gated_mlp else f
        out.append(ModelTensor("mlp.experts.gate_up_proj" if m.gated_mlp else "mlp.experts.up_proj", (e, up, h),
                          "routed_experts", "col"))
        out.append(ModelTensor("mlp.experts.down_proj", (e, h, f), "routed_experts", "row"))
        out += _mb_expert_biases(m)
        out = _mb_dbrx_experts(m, out)
        out = _mb_fp32_router(m, out)
        if m.num_shared_experts:
            out += _mb_mlp(m, "mlp.shared_experts", m.shared_width, "shared_experts", m.mlp_bias)
            if m.shared_expert_gate:
                out.append(ModelTensor("mlp.shared_expert_gate.weight", (1, h), "shared_experts"))
    if len(_MB_LAYER_CACHE) > 256:
        _MB_LAYER_CACHE.clear()
    _MB_LAYER_CACHE[key] = tuple(out)
    return _MB_LAYER_CACHE[key]


def _mb_per_layer_input(m: Model) -> list:
    """Gemma 4's per-layer input (PLE) inside each decoder layer (Gemma4TextDecoderLayer with
    hidden_size_per_layer_input p): per_layer_input_gate (p, h), per_layer_projection (h, p) and
    post_per_layer_input_norm (h): h -> p, gelu times the layer's slice of the per-layer inputs, p -> h, normalised,
    added to the residual.  The two matmuls carry the role embedding_projections (PLE's, with the model-level
    per_layer_model_projection)."""
    if not m.per_layer_input_size:
        return []
    h, p = m.hidden_size, m.per_layer_input_size
    return (_mb_linear("per_layer_input_gate", h, p, "embedding_projections", False, None)
            + _mb_linear("per_layer_projection", p, h, "embedding_projections", False, None)
            + _mb_norms(m, "post_per_layer_input_norm", h))


def _mb_gemma4_moe_block(m: Model) -> list:
    """Gemma 4's MoE block beside the dense MLP (Gemma4TextDecoderLayer with enable_moe_block; Gemma4TextRouter,
    Gemma4TextExperts): the router normalises the residual stream (RMSNorm without weight), scales it by a learned
    vector `scale` (h) and h^-1/2, projects it to E logits (proj: (E, h), no bias), takes the softmax's top-k,
    renormalises and multiplies by a learned per_expert_scale (E); E experts of moe_intermediate_size f stacked as
    gate_up_proj (E, 2f, h) and down_proj (E, h, f), on the residual normalised by pre_feedforward_layernorm_2;
    post_feedforward_layernorm_1 / _2 on the MLP's and the experts' outputs before they are summed."""
    e, f, h = m.num_experts, m.moe_width, m.hidden_size
    return [ModelTensor("router.proj.weight", (e, h), "router"),
            ModelTensor("router.scale", (h,), "router", kind="norm"),
            ModelTensor("router.per_expert_scale", (e,), "router", kind="norm"),
            ModelTensor("experts.gate_up_proj", (e, 2 * f, h), "routed_experts", "col"),
            ModelTensor("experts.down_proj", (e, h, f), "routed_experts", "row")] + \
        [t for name in ("post_feedforward_layernorm_1", "post_feedforward_layernorm_2", "pre_feedforward_layernorm_2")
         for t in _mb_norms(m, name, h)]


def model_global_tensors(m: Model) -> tuple:
    """(tensors before the first layer, tensors after the last): embedding, positions, OPT's project_in/out,
    embedding norm, final norm, LM head (absent when tied)."""
    h, v, e = m.hidden_size, m.padded_vocab, m.embed_width
    first = [ModelTensor("embed_tokens.weight", (v, e), "embedding", "vocab", kind="table")]
    if m.learned_position_rows:
        first.append(ModelTensor("embed_positions.weight", (m.learned_position_rows, h), "positions", kind="table"))
    if e != h:
        first += _mb_linear("project_in", e, h, "embedding_projections", False, None)
    if m.embedding_norm:
        first += _mb_norms(m, "embed_norm", h)
    if m.per_layer_input_size:  # Gemma 4's PLE (Gemma4TextModel): a table looked up per token, packed for all layers
        width = m.num_layers * m.per_layer_input_size
        first.append(ModelTensor("embed_tokens_per_layer.weight", (m.per_layer_vocab, width), "embedding", "vocab",
                                 kind="table"))
        first += _mb_linear("per_layer_model_projection", h, width, "embedding_projections", False, None)
        first += _mb_norms(m, "per_layer_projection_norm", m.per_layer_input_size)
    last = _mb_norms(m, "final_norm", h) if m.final_norm else []
    if e != h:
        last += _mb_linear("project_out", h, e, "embedding_projections", False, None)
    if not m.tied_embeddings:
        last.append(ModelTensor("lm_head.weight", (v, e), "lm_head", "vocab", kind="table"))
    if m.lm_head_bias:
        last.append(ModelTensor("lm_head.bias", (v,), "lm_head", "vocab", kind="bias"))
    return tuple(first), tuple(last)


def model_mtp_tensors(m: Model, position: int) -> tuple:
    """One DeepSeek-V3 multi-token-prediction module at layer position `position` (report sec. 2.2): a decoder
    layer, the 2h -> h projection eh_proj, norms on both inputs and shared_head.norm.  Its copies of the embedding
    and LM head are stored in the checkpoint only (buffer=True here)."""
    h = m.hidden_size
    out = list(model_layer_tensors(m, m.layer_is_moe(position)))
    out += _mb_linear("eh_proj", 2 * h, h, "mtp", False, None)
    for norm in ("enorm", "hnorm", "shared_head.norm"):
        out += _mb_norms(m, norm, h)
    out.append(ModelTensor("embed_tokens.weight", (m.padded_vocab, m.embed_width), "embedding", kind="table",
                           buffer=True))
    out.append(ModelTensor("shared_head.head.weight", (m.padded_vocab, m.embed_width), "lm_head", kind="table",
                      buffer=True))
    return tuple(_dc.replace(t, role="mtp") if not t.buffer else t for t in out)


def model_param_tensors(m: Model) -> list:
    """Every tensor of the model, layer by layer: [(layer index or -1, ModelTensor)].  MTP modules are numbered on
    after the last layer."""
    first, last = model_global_tensors(m)
    out = [(-1, t) for t in first]
    for i in range(m.num_layers):
        out += [(i, t) for t in model_layer_tensors(m, *model_layer_kind(m, i))]
    out += [(-1, t) for t in last]
    for j in range(m.mtp_layers):
        out += [(m.num_layers + j, t) for t in model_mtp_tensors(m, m.num_layers + j)]
    return out


def model_layer_kind(m: Model, i: int) -> tuple:
    """(MoE, linear mixer, sliding shape, has a mixer, KV-shared) of layer i: the switches model_layer_tensors takes,
    in its positional order."""
    return (m.layer_is_moe(i), m.layer_is_linear(i), m.layer_sliding_shape(i), m.layer_has_mixer(i),
            m.layer_kv_shared(i))


def model_layer_kinds(m: Model) -> dict:
    """{(MoE, linear mixer, sliding shape, has a mixer, KV-shared): number of layers}: the distinct decoder layers,
    for sums by layer kind (model_layer_tensors takes the key's five switches)."""
    kinds = {}
    for i in range(m.num_layers):
        key = model_layer_kind(m, i)
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


MODEL_ROLES = ("embedding", "positions", "embedding_projections", "attention", "mlp", "routed_experts",
               "shared_experts", "router", "norms", "lm_head", "mtp")


def count_model(m: Model) -> dict:
    """Exact counts from the tensor list (each tied tensor once; buffers apart), without walking every layer:
    total, by role, dense/MoE layer counts, routed-expert parameters per expert, MoE active per token (every
    parameter except the routed experts and MTP modules, plus top_k / E of the routed experts), and
    checkpoint_only {name: elements stored but not parameters}."""
    validate_model(m)
    roles = dict.fromkeys(MODEL_ROLES, 0)
    stored = {}
    first, last = model_global_tensors(m)
    n_moe = m.moe_layer_count()
    groups = [(first + last, 1), (model_layer_tensors(m, False), m.num_layers - n_moe)]
    if n_moe:
        groups.append((model_layer_tensors(m, True), n_moe))
    if m.mixer_types or m.has_sliding_shape or m.kv_shared_layers:  # Qwen3-Next, MiMo, Gemma 4: layers by kind
        groups = groups[:1] + [(model_layer_tensors(m, *kind), n) for kind, n in model_layer_kinds(m).items()]
    for j in range(m.mtp_layers):
        groups.append((model_mtp_tensors(m, m.num_layers + j), 1))
    fp32_kept = frozen = 0  # issue 10, branch jamba: parameters held in fp32 / without gradient
    for tensors, times in groups:
        for t in tensors:
            fp32_kept += t.numel * times if t.fp32 and not t.buffer else 0
            frozen += t.numel * times if t.frozen and not t.buffer else 0
            if t.buffer:
                key = "mtp_embedding_and_head_copies" if t.role in ("embedding", "lm_head") \
                    else "router_score_correction_bias"
                stored[key] = stored.get(key, 0) + t.numel * times
            else:
                roles[t.role] += t.numel * times
    total = sum(roles.values())
    per_expert = sum(t.numel for t in model_layer_tensors(m, True, mixer=False) if t.role == "routed_experts") \
        // m.num_experts \
        if n_moe else 0
    active = total - roles["routed_experts"] - roles["mtp"] + n_moe * m.top_k * per_expert
    return {"total": total, "roles": roles, "dense_layers": m.num_layers - n_moe, "moe_layers": n_moe,
            "params_per_expert": per_expert, "active": active if n_moe else total,
            "routed_experts_active": n_moe * m.top_k * per_expert, "checkpoint_only": stored,
            "fp32_params": fp32_kept, "frozen_params": frozen}


# --------------------------------------------------------------------------------------------------------------
# Presets: one table for every script.  Each names its source; a preset of a published config.json equals what
# model_from_config reads from that file (tests/test_model_block.py checks the ones the suite carries).
# sequence_length: the length the model was pre-trained at (the final pre-training stage), where a script needs a
# default (-s in flops and mem): Llama 2 paper Table 1 (4k), Llama 3 paper sec. 3.4 (8k before long-context
# training), Qwen2.5 report sec. 3.2 (32k final stage), Gemma 2 paper Table 1 (8k), DeepSeek-V2 sec. 3.1 and
# DeepSeek-V3 sec. 4.2 (4k before YaRN), BLOOM paper (2048), Mixtral paper (32k), GPT-2 (1024), Pythia (2048).
# --------------------------------------------------------------------------------------------------------------
def _mb_hf(repo: str, model_type: str) -> dict:
    return dict(source=f"huggingface.co/{repo} config.json", model_type=model_type,
                gguf_arch={"gpt_neox": "gptneox", "gpt_oss": "gpt-oss"}.get(model_type, model_type))


def _mb_alternating(layers: int) -> tuple:  # Gemma-2: even layers slide, odd layers are global
    return tuple("sliding" if i % 2 == 0 else "full" for i in range(layers))


# GPT-2 block: learned positions, LayerNorm with bias, every linear biased, fused c_attn, gelu_new in Python, tied
_PRESET_GPT2 = dict(gated_mlp=False, position_embedding="learned", max_position_embeddings=1024, norm="layernorm",
                    qkv_bias=True, o_bias=True, mlp_bias=True, tied_embeddings=True, vocab_size=50257,
                    fused_qkv=True, dropout=True, python_gelu=True, softmax_fp32=False, sequence_length=1024)
# Pythia = GPT-NeoX: rotary, LayerNorm with bias, every linear biased, fused query_key_value, untied head, fp32 softmax
_PRESET_NEOX = dict(gated_mlp=False, norm="layernorm", qkv_bias=True, o_bias=True, mlp_bias=True, vocab_size=50304,
                    fused_qkv=True, sequence_length=2048)
_PRESET_LLAMA = dict(gated_mlp=True, norm="rmsnorm")
# Gopher / Chinchilla as Table A9 counts them: Transformer-XL relative attention, every linear biased, plain MLP,
# one 32k vocabulary matrix, norm gains not counted (norms without parameters); this reproduces all 50 rows
_PRESET_GOPHER = dict(gated_mlp=False, position_embedding="relative", qkv_bias=True, o_bias=True, mlp_bias=True,
                      tied_embeddings=True, norm="nonparametric", final_norm=False, vocab_size=32000, head_dim=128,
                      sequence_length=2048)
_PRESET_GEMMA2 = dict(_PRESET_LLAMA, vocab_size=256000, tied_embeddings=True, norms_per_layer=4, sliding_window=4096,
                      attn_softcap=True, norm_fp32_scale=True)
# gpt-oss (OpenAI model card arXiv:2508.10925 sec. 2.1; config.json): every layer MoE, 4 of E experts with biases
# behind a biased router, biased q/k/v/o, a sink logit per head, window 128 on the even layers, untied head,
# GptOssRMSNorm's fp32 weight product and a softmax in the input dtype; 4096 tokens before YaRN (the config's
# initial_context_length and rope_scaling.original_max_position_embeddings)
_PRESET_GPT_OSS = dict(_PRESET_LLAMA, hidden_size=2880, num_attention_heads=64, num_kv_heads=8, head_dim=64,
                       ffn_hidden_size=2880, vocab_size=201088, qkv_bias=True, o_bias=True, top_k=4, router_bias=True,
                       expert_bias=True, attention_sinks=True, clamped_swiglu=True, sliding_window=128,
                       norm_fp32_scale=True,
                       softmax_fp32=False, sequence_length=4096)
# Llama 4 (text_config of the published config.json, transformers 5.23 Llama4TextConfig): 40 query / 8 KV heads of
# 128, routed and shared experts of 8192, dense MLPs of 16384, top-1, untied 202048-token head, chunked attention
# (8192) on the RoPE layers and full attention on every 4th (NoPE) layer, softmax in the logits' dtype
_PRESET_LLAMA4 = dict(_PRESET_LLAMA, num_layers=48, hidden_size=5120, num_attention_heads=40, num_kv_heads=8,
                      head_dim=128, ffn_hidden_size=16384, vocab_size=202048, top_k=1, moe_ffn_hidden_size=8192,
                      num_shared_experts=1, shared_expert_ffn_size=8192, sliding_window=8192, attention_chunked=True,
                      layer_types=tuple("full" if (i + 1) % 4 == 0 else "sliding" for i in range(48)),
                      softmax_fp32=False)
_PRESET_BLOOM = dict(gated_mlp=False, position_embedding="alibi", norm="layernorm", qkv_bias=True, o_bias=True,
                     mlp_bias=True, fused_qkv=True, embedding_norm=True, tied_embeddings=True, vocab_size=250880)

MODEL_PRESETS = {
    "gpt2": dict(_PRESET_GPT2, num_layers=12, hidden_size=768, num_attention_heads=12, ffn_hidden_size=3072,
                 **_mb_hf("openai-community/gpt2", "gpt2")),
    "gpt2-medium": dict(_PRESET_GPT2, num_layers=24, hidden_size=1024, num_attention_heads=16, ffn_hidden_size=4096,
                        **_mb_hf("openai-community/gpt2-medium", "gpt2")),
    "gpt2-large": dict(_PRESET_GPT2, num_layers=36, hidden_size=1280, num_attention_heads=20, ffn_hidden_size=5120,
                       **_mb_hf("openai-community/gpt2-large", "gpt2")),
    "gpt2-xl": dict(_PRESET_GPT2, num_layers=48, hidden_size=1600, num_attention_heads=25, ffn_hidden_size=6400,
                    **_mb_hf("openai-community/gpt2-xl", "gpt2")),
    "gpt3-175b": dict(_PRESET_GPT2, num_layers=96, hidden_size=12288, num_attention_heads=96, ffn_hidden_size=49152,
                      max_position_embeddings=2048, sequence_length=2048,
                      source="Brown et al. 2020 (arXiv:2005.14165) Table 2.1; GPT-2 block and 50257 BPE vocab"),
    "gopher-280b": dict(_PRESET_GOPHER, num_layers=80, hidden_size=16384, num_attention_heads=128,
                        ffn_hidden_size=65536,
                        source="Rae et al. 2021 (arXiv:2112.11446) Table 1; Hoffmann et al. 2022 Table 4"),
    "chinchilla-70b": dict(_PRESET_GOPHER, num_layers=80, hidden_size=8192, num_attention_heads=64,
                           ffn_hidden_size=32768,
                           source="Hoffmann et al. 2022 (arXiv:2203.15556) Table 4; 32k SentencePiece vocab as Gopher"),
    "palm-540b": dict(_PRESET_LLAMA, num_layers=118, hidden_size=18432, num_attention_heads=48, num_kv_heads=1,
                      head_dim=256, vocab_size=256000, ffn_hidden_size=73728, tied_embeddings=True,
                      norm="layernorm-nobias", norms_per_layer=1, norm_placement="parallel", sequence_length=2048,
                      source="Chowdhery et al. 2022 (arXiv:2204.02311) Table 1 (parallel SwiGLU block, multi-query, "
                             "no biases)"),
    "bloom-560m": dict(_PRESET_BLOOM, num_layers=24, hidden_size=1024, num_attention_heads=16, ffn_hidden_size=4096,
                       sequence_length=2048, **_mb_hf("bigscience/bloom-560m", "bloom")),
    "bloom-1b7": dict(_PRESET_BLOOM, num_layers=24, hidden_size=2048, num_attention_heads=16, ffn_hidden_size=8192,
                      sequence_length=2048, **_mb_hf("bigscience/bloom-1b7", "bloom")),
    "pythia-70m": dict(_PRESET_NEOX, num_layers=6, hidden_size=512, num_attention_heads=8, ffn_hidden_size=2048,
                       **_mb_hf("EleutherAI/pythia-70m", "gpt_neox")),
    "pythia-160m": dict(_PRESET_NEOX, num_layers=12, hidden_size=768, num_attention_heads=12, ffn_hidden_size=3072,
                        **_mb_hf("EleutherAI/pythia-160m", "gpt_neox")),
    "pythia-410m": dict(_PRESET_NEOX, num_layers=24, hidden_size=1024, num_attention_heads=16, ffn_hidden_size=4096,
                        **_mb_hf("EleutherAI/pythia-410m", "gpt_neox")),
    "pythia-1b": dict(_PRESET_NEOX, num_layers=16, hidden_size=2048, num_attention_heads=8, ffn_hidden_size=8192,
                      **_mb_hf("EleutherAI/pythia-1b", "gpt_neox")),
    "pythia-1.4b": dict(_PRESET_NEOX, num_layers=24, hidden_size=2048, num_attention_heads=16, ffn_hidden_size=8192,
                        **_mb_hf("EleutherAI/pythia-1.4b", "gpt_neox")),
    "pythia-2.8b": dict(_PRESET_NEOX, num_layers=32, hidden_size=2560, num_attention_heads=32, ffn_hidden_size=10240,
                        **_mb_hf("EleutherAI/pythia-2.8b", "gpt_neox")),
    "pythia-6.9b": dict(_PRESET_NEOX, num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=16384,
                        vocab_size=50432, **_mb_hf("EleutherAI/pythia-6.9b", "gpt_neox")),
    "pythia-12b": dict(_PRESET_NEOX, num_layers=36, hidden_size=5120, num_attention_heads=40, ffn_hidden_size=20480,
                       vocab_size=50688, **_mb_hf("EleutherAI/pythia-12b", "gpt_neox")),
    "llama-2-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=11008,
                       vocab_size=32000, sequence_length=4096, **_mb_hf("meta-llama/Llama-2-7b-hf", "llama")),
    "llama-2-13b": dict(_PRESET_LLAMA, num_layers=40, hidden_size=5120, num_attention_heads=40, ffn_hidden_size=13824,
                        vocab_size=32000, sequence_length=4096, **_mb_hf("meta-llama/Llama-2-13b-hf", "llama")),
    "llama-2-70b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                        ffn_hidden_size=28672, vocab_size=32000, sequence_length=4096,
                        **_mb_hf("meta-llama/Llama-2-70b-hf", "llama")),
    "llama-3-8b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                       ffn_hidden_size=14336, vocab_size=128256, sequence_length=8192,
                       **_mb_hf("meta-llama/Meta-Llama-3-8B", "llama")),
    "llama-3-70b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                        ffn_hidden_size=28672, vocab_size=128256, sequence_length=8192,
                        **_mb_hf("meta-llama/Meta-Llama-3-70B", "llama")),
    "llama-3.1-8b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                         ffn_hidden_size=14336, vocab_size=128256, rope_freqs=True,
                         sequence_length=8192, **_mb_hf("meta-llama/Llama-3.1-8B", "llama")),
    "llama-3.1-70b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                          ffn_hidden_size=28672, vocab_size=128256, rope_freqs=True,
                          sequence_length=8192, **_mb_hf("meta-llama/Llama-3.1-70B", "llama")),
    "llama-3.1-405b": dict(_PRESET_LLAMA, num_layers=126, hidden_size=16384, num_attention_heads=128, num_kv_heads=8,
                           ffn_hidden_size=53248, vocab_size=128256, rope_freqs=True, sequence_length=8192,
                           **_mb_hf("meta-llama/Llama-3.1-405B", "llama")),
    "llama-3.2-1b": dict(_PRESET_LLAMA, num_layers=16, hidden_size=2048, num_attention_heads=32, num_kv_heads=8,
                         head_dim=64, ffn_hidden_size=8192, vocab_size=128256, tied_embeddings=True, rope_freqs=True,
                         sequence_length=8192, **_mb_hf("meta-llama/Llama-3.2-1B", "llama")),
    "llama-3.2-3b": dict(_PRESET_LLAMA, num_layers=28, hidden_size=3072, num_attention_heads=24, num_kv_heads=8,
                         head_dim=128, ffn_hidden_size=8192, vocab_size=128256, tied_embeddings=True, rope_freqs=True,
                         sequence_length=8192, **_mb_hf("meta-llama/Llama-3.2-3B", "llama")),
    "mistral-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                       ffn_hidden_size=14336, vocab_size=32000, sliding_window=4096, sequence_length=8192,
                       **_mb_hf("mistralai/Mistral-7B-v0.1", "mistral")),
    "mixtral-8x7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                         ffn_hidden_size=14336, vocab_size=32000, num_experts=8, top_k=2, sequence_length=32768,
                         **_mb_hf("mistralai/Mixtral-8x7B-v0.1", "mixtral")),
    "mixtral-8x22b": dict(_PRESET_LLAMA, num_layers=56, hidden_size=6144, num_attention_heads=48, num_kv_heads=8,
                          ffn_hidden_size=16384, vocab_size=32000, num_experts=8, top_k=2,
                          **_mb_hf("mistralai/Mixtral-8x22B-v0.1", "mixtral")),
    "qwen2.5-7b": dict(_PRESET_LLAMA, num_layers=28, hidden_size=3584, num_attention_heads=28, num_kv_heads=4,
                       ffn_hidden_size=18944, vocab_size=152064, qkv_bias=True, sequence_length=32768,
                       **_mb_hf("Qwen/Qwen2.5-7B", "qwen2")),
    "qwen2.5-72b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                        ffn_hidden_size=29568, vocab_size=152064, qkv_bias=True, sequence_length=32768,
                        **_mb_hf("Qwen/Qwen2.5-72B", "qwen2")),
    "qwen3-4b": dict(_PRESET_LLAMA, num_layers=36, hidden_size=2560, num_attention_heads=32, num_kv_heads=8,
                     head_dim=128, ffn_hidden_size=9728, vocab_size=151936, tied_embeddings=True, qk_norm="head",
                     **_mb_hf("Qwen/Qwen3-4B", "qwen3")),
    "qwen1.5-moe-a2.7b": dict(_PRESET_LLAMA, num_layers=24, hidden_size=2048, num_attention_heads=16,
                              ffn_hidden_size=5632, vocab_size=151936, qkv_bias=True, num_experts=60, top_k=4,
                              moe_ffn_hidden_size=1408, num_shared_experts=1, shared_expert_ffn_size=5632,
                              shared_expert_gate=True, **_mb_hf("Qwen/Qwen1.5-MoE-A2.7B", "qwen2_moe")),
    "gemma-2-2b": dict(_PRESET_GEMMA2, num_layers=26, hidden_size=2304, num_attention_heads=8, num_kv_heads=4,
                       head_dim=256, ffn_hidden_size=9216, layer_types=_mb_alternating(26),
                       sequence_length=8192, **_mb_hf("google/gemma-2-2b", "gemma2")),
    "gemma-2-9b": dict(_PRESET_GEMMA2, num_layers=42, hidden_size=3584, num_attention_heads=16, num_kv_heads=8,
                       head_dim=256, ffn_hidden_size=14336, layer_types=_mb_alternating(42), sequence_length=8192,
                       **_mb_hf("google/gemma-2-9b", "gemma2")),
    "gemma-2-27b": dict(_PRESET_GEMMA2, num_layers=46, hidden_size=4608, num_attention_heads=32, num_kv_heads=16,
                        head_dim=128, ffn_hidden_size=36864, layer_types=_mb_alternating(46),
                        sequence_length=8192, **_mb_hf("google/gemma-2-27b", "gemma2")),
    "deepseek-v2": dict(_PRESET_LLAMA, num_layers=60, hidden_size=5120, num_attention_heads=128, ffn_hidden_size=12288,
                        vocab_size=102400, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                        qk_rope_head_dim=64, v_head_dim=128, num_experts=160, top_k=6, moe_ffn_hidden_size=1536,
                        num_shared_experts=2, first_k_dense=1, expert_interval_phase=0,
                        sequence_length=4096, **_mb_hf("deepseek-ai/DeepSeek-V2", "deepseek_v2")),
    "deepseek-v3": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=128, ffn_hidden_size=18432,
                        vocab_size=129280, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                        qk_rope_head_dim=64, v_head_dim=128, num_experts=256, top_k=8, moe_ffn_hidden_size=2048,
                        num_shared_experts=1, first_k_dense=3, expert_interval_phase=0,
                        router_score_correction_bias=True, sequence_length=4096,
                        **dict(_mb_hf("deepseek-ai/DeepSeek-V3", "deepseek_v3"),
                               source="huggingface.co/deepseek-ai/DeepSeek-V3 config.json (main model; the params "
                                      "script's --mtp-layers 1 adds the MTP module)")),
    "gpt-oss-20b": dict(_PRESET_GPT_OSS, num_layers=24, num_experts=32, layer_types=_mb_alternating(24),
                        **_mb_hf("openai/gpt-oss-20b", "gpt_oss")),
    "gpt-oss-120b": dict(_PRESET_GPT_OSS, num_layers=36, num_experts=128, layer_types=_mb_alternating(36),
                         **_mb_hf("openai/gpt-oss-120b", "gpt_oss")),
    # Qwen3-Next-80B-A3B: 12 x (3 gated delta-net + 1 gated attention) layers, every one MoE (model card layout)
    "qwen3-next-80b-a3b": dict(_PRESET_LLAMA, num_layers=48, hidden_size=2048, num_attention_heads=16, num_kv_heads=2,
                               head_dim=256, ffn_hidden_size=5120, vocab_size=151936, qk_norm="head",
                               norm_fp32_scale=True, num_experts=512, top_k=10, moe_ffn_hidden_size=512,
                               num_shared_experts=1, shared_expert_ffn_size=512, shared_expert_gate=True,
                               mixer_types=tuple("linear" if (i + 1) % 4 else "attention" for i in range(48)),
                               linear_num_key_heads=16, linear_num_value_heads=32, linear_key_head_dim=128,
                               linear_value_head_dim=128, linear_conv_kernel=4, attn_output_gate=True,
                               **dict(_mb_hf("Qwen/Qwen3-Next-80B-A3B-Instruct", "qwen3_next"),
                                      gguf_arch="qwen3next")),
    # issue 10, branch families
    "kimi-k2": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=64, ffn_hidden_size=18432,
                    vocab_size=163840, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64,
                    v_head_dim=128, num_experts=384, top_k=8, moe_ffn_hidden_size=2048, num_shared_experts=1,
                    first_k_dense=1, expert_interval_phase=0, router_score_correction_bias=True,
                    **dict(_mb_hf("moonshotai/Kimi-K2-Instruct-0905", "kimi_k2"), gguf_arch="deepseek_v3")),
    "glm-4.5-air": dict(_PRESET_LLAMA, num_layers=46, hidden_size=4096, num_attention_heads=96, num_kv_heads=8,
                        head_dim=128, ffn_hidden_size=10944, vocab_size=151552, qkv_bias=True, num_experts=128,
                        top_k=8, moe_ffn_hidden_size=1408, num_shared_experts=1, first_k_dense=1,
                        expert_interval_phase=0, router_score_correction_bias=True,
                        **dict(_mb_hf("zai-org/GLM-4.5-Air", "glm4_moe"), gguf_arch="glm4moe")),
    "glm-4.6": dict(_PRESET_LLAMA, num_layers=92, hidden_size=5120, num_attention_heads=96, num_kv_heads=8,
                    head_dim=128, ffn_hidden_size=12288, vocab_size=151552, qkv_bias=True, qk_norm="head",
                    num_experts=160, top_k=8, moe_ffn_hidden_size=1536, num_shared_experts=1, first_k_dense=3,
                    expert_interval_phase=0, router_score_correction_bias=True,
                    **dict(_mb_hf("zai-org/GLM-4.6", "glm4_moe"), gguf_arch="glm4moe",
                           source="huggingface.co/zai-org/GLM-4.6 config.json (GLM-4.5's network; main model, the "
                                  "params script's --mtp-layers 1 adds the MTP module)")),
    "olmo-3-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=11008,
                      vocab_size=100278, qk_norm="full", norm_placement="post", norm_fp32_scale=True,
                      sliding_window=4096, layer_types=tuple("sliding" if (i + 1) % 4 else "full" for i in range(32)),
                      **_mb_hf("allenai/Olmo-3-1025-7B", "olmo3")),
    # issue 10: the late-2026 list's Qwen3 MoE, OLMo-2 and Phi-4 (each the published config.json the suite carries)
    "qwen3-30b-a3b": dict(_PRESET_LLAMA, num_layers=48, hidden_size=2048, num_attention_heads=32, num_kv_heads=4,
                          head_dim=128, ffn_hidden_size=6144, vocab_size=151936, qk_norm="head", num_experts=128,
                          top_k=8, moe_ffn_hidden_size=768, **_mb_hf("Qwen/Qwen3-30B-A3B", "qwen3_moe")),
    "olmo-2-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=32,
                      ffn_hidden_size=11008, vocab_size=100352, norm_placement="post", qk_norm="full",
                      norm_fp32_scale=True, **_mb_hf("allenai/OLMo-2-1124-7B", "olmo2")),
    "phi-4-mini": dict(_PRESET_LLAMA, num_layers=32, hidden_size=3072, num_attention_heads=24, num_kv_heads=8,
                       ffn_hidden_size=8192, vocab_size=200064, fused_qkv=True, fused_gate_up=True,
                       tied_embeddings=True, sliding_window=262144,
                       **_mb_hf("microsoft/Phi-4-mini-instruct", "phi3")),
    # Llama 4 (the text model of the llama4 file): 48 layers, 16 routed experts top-1 + a shared one per MoE layer,
    # chunks of 8192 tokens on the RoPE layers, every 4th layer NoPE with full attention
    "llama-4-scout": dict(_PRESET_LLAMA4, num_experts=16, dense_layers=(), rope_freqs=True,
                          **dict(_mb_hf("meta-llama/Llama-4-Scout-17B-16E", "llama4_text"), gguf_arch="llama4")),
    # Maverick: 128 experts, MoE on the odd layers (interleave_moe_layer_step 2), dense 16384-wide MLPs between
    "llama-4-maverick": dict(_PRESET_LLAMA4, num_experts=128, dense_layers=tuple(range(0, 48, 2)),
                             **dict(_mb_hf("meta-llama/Llama-4-Maverick-17B-128E", "llama4_text"),
                                    gguf_arch="llama4")),
    # issue 10, branch qwen35 -- Qwen3.5 (the text model of the multimodal file): Qwen3-Next's 3 gated delta-net :
    # 1 gated attention layers with the delta-net projections split four ways; 27B dense, 397B-A17B every layer MoE
    "qwen3.5-27b": dict(_PRESET_LLAMA, num_layers=64, hidden_size=5120, num_attention_heads=24, num_kv_heads=4,
                        head_dim=256, ffn_hidden_size=17408, vocab_size=248320, qk_norm="head", norm_fp32_scale=True,
                        mixer_types=tuple("linear" if (i + 1) % 4 else "attention" for i in range(64)),
                        linear_num_key_heads=16, linear_num_value_heads=48, linear_key_head_dim=128,
                        linear_value_head_dim=128, linear_conv_kernel=4, attn_output_gate=True,
                        linear_proj_split=True,
                        **dict(_mb_hf("Qwen/Qwen3.5-27B", "qwen3_5_text"), gguf_arch="qwen35")),
    "qwen3.5-397b-a17b": dict(_PRESET_LLAMA, num_layers=60, hidden_size=4096, num_attention_heads=32, num_kv_heads=2,
                              head_dim=256, ffn_hidden_size=1024, vocab_size=248320, qk_norm="head",
                              norm_fp32_scale=True, num_experts=512, top_k=10, moe_ffn_hidden_size=1024,
                              num_shared_experts=1, shared_expert_ffn_size=1024, shared_expert_gate=True,
                              mixer_types=tuple("linear" if (i + 1) % 4 else "attention" for i in range(60)),
                              linear_num_key_heads=16, linear_num_value_heads=64, linear_key_head_dim=128,
                              linear_value_head_dim=128, linear_conv_kernel=4, attn_output_gate=True,
                              linear_proj_split=True,
                              **dict(_mb_hf("Qwen/Qwen3.5-397B-A17B", "qwen3_5_moe_text"), gguf_arch="qwen35moe")),
    # issue 10, branch gemma -- Gemma 3 27B: the language model of google/gemma-3-27b-it's gemma3 wrapper (its
    # text_config, vocab_size left to Gemma3TextConfig's 262,208): 62 layers, 5 sliding (window 1024) : 1 full, 32
    # query / 16 KV heads of 128, q/k RMSNorm over head_dim, sandwich norms, tied head; pre-trained on 32K sequences
    # before the RoPE rescaling to 128K (Gemma 3 report, arXiv:2503.19786, "Long context")
    "gemma-3-27b": dict(_PRESET_LLAMA, num_layers=62, hidden_size=5376, num_attention_heads=32, num_kv_heads=16,
                        head_dim=128, ffn_hidden_size=21504, vocab_size=262208, tied_embeddings=True, norms_per_layer=4,
                        qk_norm="head", norm_fp32_scale=True, sliding_window=1024,
                        layer_types=tuple("sliding" if (i + 1) % 6 else "full" for i in range(62)),
                        sequence_length=32768,
                        **dict(_mb_hf("google/gemma-3-27b-it", "gemma3_text"), gguf_arch="gemma3",
                               source="huggingface.co/google/gemma-3-27b-it config.json (text_config: the language "
                                      "model; the SigLIP vision tower is not counted)")),
    # issue 10, branch gemma4 -- Gemma 4 (the text_config of the published config.json; tests/test_params_torch.py
    # REAL_CONFIGS cites its copies): 5 sliding layers (16 KV heads of 256, window 1024) : 1 full layer (4 KV heads of
    # 512, K=V without v_proj), tied 262,144-token table; the 26B A4B adds 128 experts of 704 (top-8) beside every
    # layer's dense MLP.  No PLE or KV sharing in these two (the E2B / E4B have both: read their config.json).
    "gemma-4-31b": dict(_PRESET_LLAMA, num_layers=60, hidden_size=5376, num_attention_heads=32, num_kv_heads=4,
                        head_dim=512, ffn_hidden_size=21504, vocab_size=262144, tied_embeddings=True, norms_per_layer=4,
                        qk_norm="head", norm_fp32_scale=True, sliding_window=1024,
                        layer_types=tuple("sliding" if (i + 1) % 6 else "full" for i in range(60)),
                        sliding_kv_heads=16, sliding_head_dim=256, full_k_eq_v=True,
                        **dict(_mb_hf("google/gemma-4-31B-it", "gemma4_text"), gguf_arch="gemma4",
                               source="huggingface.co/google/gemma-4-31B-it config.json (text_config: the language "
                                      "model; the vision tower is not counted)")),
    "gemma-4-26b-a4b": dict(_PRESET_LLAMA, num_layers=30, hidden_size=2816, num_attention_heads=16, num_kv_heads=2,
                            head_dim=512, ffn_hidden_size=2112, vocab_size=262144, tied_embeddings=True,
                            norms_per_layer=4, qk_norm="head", norm_fp32_scale=True, sliding_window=1024,
                            layer_types=tuple("sliding" if (i + 1) % 6 else "full" for i in range(30)),
                            sliding_kv_heads=8, sliding_head_dim=256, full_k_eq_v=True, num_experts=128, top_k=8,
                            moe_ffn_hidden_size=704, moe_beside_mlp=True,
                            **dict(_mb_hf("google/gemma-4-26B-A4B-it", "gemma4_text"), gguf_arch="gemma4",
                                   source="huggingface.co/google/gemma-4-26B-A4B-it config.json (text_config: the "
                                          "language model; the vision tower is not counted)")),
    # issue 10, branch dsa: DeepSeek Sparse Attention (a lightning indexer in every layer, top-2048 keys per query)
    "deepseek-v3.2": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=128,
                          ffn_hidden_size=18432, vocab_size=129280, q_lora_rank=1536, kv_lora_rank=512,
                          qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, num_experts=256, top_k=8,
                          moe_ffn_hidden_size=2048, num_shared_experts=1, dense_layers=(0, 1, 2),
                          expert_interval_phase=0, router_score_correction_bias=True, index_n_heads=64,
                          index_head_dim=128, index_topk=2048,
                          **dict(_mb_hf("deepseek-ai/DeepSeek-V3.2", "deepseek_v32"),
                                 source="huggingface.co/deepseek-ai/DeepSeek-V3.2 config.json (main model; the params "
                                        "script's --mtp-layers 1 adds the MTP module)")),
    "glm-5": dict(_PRESET_LLAMA, num_layers=78, hidden_size=6144, num_attention_heads=64, ffn_hidden_size=12288,
                  vocab_size=154880, q_lora_rank=2048, kv_lora_rank=512, qk_nope_head_dim=192, qk_rope_head_dim=64,
                  v_head_dim=256, num_experts=256, top_k=8, moe_ffn_hidden_size=2048, num_shared_experts=1,
                  dense_layers=(0, 1, 2), expert_interval_phase=0, router_score_correction_bias=True,
                  index_n_heads=32, index_head_dim=128, index_topk=2048,
                  **dict(_mb_hf("zai-org/GLM-5", "glm_moe_dsa"),
                         source="huggingface.co/zai-org/GLM-5 config.json (main model; the params script's "
                                "--mtp-layers 1 adds the MTP module)")),
    # issue 10, branch moefams -- MiniMax-M2 (its config.json: 62 layers, 48 heads / 8 KV heads of 128, every layer
    # MoE with 256 experts of 1536 top-8, sigmoid router with its correction bias, q/k RMSNorm over the whole
    # projection, untied head; the 3 MTP modules are not counted, as transformers does not build them)
    "minimax-m2": dict(_PRESET_LLAMA, num_layers=62, hidden_size=3072, num_attention_heads=48, num_kv_heads=8,
                       head_dim=128, ffn_hidden_size=1536, vocab_size=200064, qk_norm="full", num_experts=256, top_k=8,
                       router_score_correction_bias=True,
                       **dict(_mb_hf("MiniMaxAI/MiniMax-M2", "minimax_m2"), gguf_arch="minimax-m2",
                              source="huggingface.co/MiniMaxAI/MiniMax-M2 config.json (main model; its 3 MTP modules "
                                     "are not counted)")),
    # Mistral Small 3 (24B, January 2025): a plain Mistral decoder (GQA 32/8 heads of 128, no sliding window, untied
    # 131,072-token head). Its params.json (dim 5120, n_layers 40, head_dim 128, hidden_dim 32768, n_heads 32,
    # n_kv_heads 8, vocab_size 131072) and model.safetensors.index.json (total_size 47,144,806,400 B of bf16 =
    # 23,572,403,200 parameters) as stored in OpenMOSE/RWKV-LM-RLHF main/tokenizer/mistralsmall3/
    "mistral-small-24b": dict(_PRESET_LLAMA, num_layers=40, hidden_size=5120, num_attention_heads=32, num_kv_heads=8,
                              head_dim=128, ffn_hidden_size=32768, vocab_size=131072,
                              **dict(_mb_hf("mistralai/Mistral-Small-24B-Instruct-2501", "mistral"),
                                     source="huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501 params.json and "
                                            "model.safetensors.index.json (23,572,403,200 bf16 parameters)")),
    # Phi-4 (14B): phi3 with fused qkv and gate_up, GQA 40/10, untied 100,352-token head, no sliding window
    "phi-4": dict(_PRESET_LLAMA, num_layers=40, hidden_size=5120, num_attention_heads=40, num_kv_heads=10,
                  ffn_hidden_size=17920, vocab_size=100352, fused_qkv=True, fused_gate_up=True,
                  **_mb_hf("microsoft/phi-4", "phi3")),
    # DeepSeek-V3.1 (August 2025): its model card -- "post-trained on the top of DeepSeek-V3.1-Base, which is built
    # upon the original V3 base checkpoint", 671B total / 37B activated like V3 -- and its config.json
    # (DeepseekV3ForCausalLM) keep V3's shapes; only the chat template and the long-context training differ.
    "deepseek-v3.1": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=128,
                          ffn_hidden_size=18432, vocab_size=129280, q_lora_rank=1536, kv_lora_rank=512,
                          qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, num_experts=256, top_k=8,
                          moe_ffn_hidden_size=2048, num_shared_experts=1, first_k_dense=3, expert_interval_phase=0,
                          router_score_correction_bias=True, sequence_length=4096,
                          **dict(_mb_hf("deepseek-ai/DeepSeek-V3.1", "deepseek_v3"),
                                 source="huggingface.co/deepseek-ai/DeepSeek-V3.1 model card (V3's architecture: "
                                        "671B total, 37B activated; main model, the params script's --mtp-layers 1 "
                                        "adds the MTP module)")),
}


def preset_model(name: str) -> Model:
    """The Model of a preset (its source in .source); InputError naming --preset when unknown."""
    key = str(name).strip().lower()  # Llama-3-8B and llama-3-8b are one preset
    if key not in MODEL_PRESETS:
        raise InputError(f"--preset {name!r} is not known; --list-presets shows the {len(MODEL_PRESETS)} names")
    name = key
    values = dict(MODEL_PRESETS[name])
    values.pop("sequence_length", None)
    return Model(name=name, **values)


def preset_sequence_length(name: str, default: int = 2048) -> int:
    """The length a preset's model was pre-trained at, where its table entry says (else `default`)."""
    return MODEL_PRESETS.get(str(name).strip().lower(), {}).get("sequence_length", default)


# --------------------------------------------------------------------------------------------------------------
# config.json: the one reader, and which model types it knows
# --------------------------------------------------------------------------------------------------------------
# Every model type read exactly, with what is special about it (the README's table of supported model types is this
# table); each is checked against PyTorch on a published config.json in tests/test_params_torch.py and friends.
SUPPORTED_MODEL_TYPES = {
    "gpt2": "learned positions, fused biased c_attn, LayerNorm, tied head",
    "gptj": "parallel block with one LayerNorm, biased MLP and LM head, no attention biases",
    "gpt_neox": "fused query_key_value, attention_bias, untied head (Pythia)",
    "opt": "learned positions with offset 2, project_in/out when word_embed_proj_dim differs, optional final norm",
    "bloom": "ALiBi, fused biased query_key_value, embedding LayerNorm, FFN 4h",
    "falcon": "multi-query (7B) or grouped KV (40B/180B), parallel block with one or two norms",
    "llama": "the reference block: RMSNorm, SwiGLU, GQA; attention_bias and mlp_bias read",
    "mistral": "Llama block with a sliding window",
    "mixtral": "every layer MoE: 8 experts, top-2",
    "qwen2": "biased q/k/v, windows from max_window_layers when use_sliding_window",
    "qwen2_moe": "MoE with a gated shared expert, decoder_sparse_step, mlp_only_layers",
    "qwen3": "q/k RMSNorm over head_dim, head_dim 128 by default",
    "qwen3_moe": "q/k norms, MoE with decoder_sparse_step and mlp_only_layers",
    "gemma": "head_dim 256 by default, tied head, GeGLU",
    "gemma2": "sandwich norms (4 per layer), alternating sliding / full layers, soft-capping",
    "phi": "Phi-2: parallel block with one LayerNorm, biases everywhere including the LM head",
    "phi3": "fused qkv_proj and gate_up_proj",
    "olmo": "LayerNorm without parameters",
    "olmo2": "post-norms, q/k RMSNorm over the whole projection",
    "starcoder2": "LayerNorm, plain MLP, use_bias on every linear",
    "deepseek_v2": "MLA (optional q-LoRA), routed + shared experts, dense first layers",
    "deepseek_v3": "MLA, 256 experts + 1 shared, router score-correction bias (a buffer), MTP modules optional",
    "granite": "the Llama block; its embedding, attention, residual and logits multipliers are scalars (no parameter, "
               "no matmul)",
    "gemma3_text": "sandwich norms (4 per layer), q/k RMSNorm over head_dim, 5 sliding : 1 full layers "
                   "(sliding_window_pattern or layer_types), head_dim 256 and a tied head by default",
    "gpt_oss": "every layer MoE: experts and router with biases, a learned attention sink per head (no matmul), "
               "biased q/k/v/o, sliding (128) and full layers alternating",
    "qwen3_next": "3 gated delta-net : 1 gated-attention layers (full_attention_interval or layer_types), q_proj "
                  "emits an output gate, q/k RMSNorm, 512 experts top-10 with a sigmoid-gated shared expert",
    # issue 10, branch families
    "kimi_k2": "Kimi-K2: read as its architectures say, a DeepSeek-V3 network (MLA, 384 experts + 1 shared)",
    "glm4_moe": "GLM-4.5/4.6: GQA with biased q/k/v (unbiased o), optional q/k RMSNorm, dense first layers, routed + "
                "shared experts, router score-correction bias (a buffer), MTP modules optional",
    "olmo3": "the OLMo-2 block (post-norms, q/k RMSNorm over the whole projection) with 3 sliding : 1 full layers "
             "(layer_types; window 4096 by default)",
    "seed_oss": "the Llama block with q/k/v biases (attention_bias, on by default), o_proj bias (attention_out_bias) "
                "and mlp_bias; head_dim 128 and 8 KV heads by default",
    "olmoe": "every layer MoE (64 experts of intermediate_size, top-8 by default, no shared expert), q/k RMSNorm over "
             "the whole projection",
    "cohere": "parallel block with one LayerNorm without bias, optional q/k LayerNorm per head (use_qk_norm), logit "
              "scale (a scalar), tied head by default",
    "cohere2": "the Cohere block with 3 sliding : 1 full layers (sliding_window_pattern or layer_types), head_dim "
               "hidden / heads",
    "nemotron": "plain MLP (up, relu^2, down; no gate), LayerNorm1P with bias, attention_bias and mlp_bias",
    # issue 10, branch families2
    "smollm3": "the Llama block with NoPE layers (no_rope_layers or every no_rope_layer_interval-th: no count "
               "changes), attention_bias and mlp_bias, 4 KV heads and a tied head by default",
    "granitemoe": "Granite's multipliers (scalars) on a Mixtral-style block: every layer MoE, a bias-free router, "
                  "experts of intermediate_size (8, top-2 by default), attention_bias",
    "phimoe": "Phi-3.5-MoE: LayerNorm with bias, attention_bias and lm_head_bias, every layer MoE (16 experts of "
              "intermediate_size, top-2, bias-free router), a window on every layer when sliding_window is set",
    "dbrx": "DBRX: nested attn_config / ffn_config read, fused Wqkv without biases, clip_qkv (a clamp), bias-free "
            "LayerNorm, every layer MoE (experts stored fused as w1, v1, w2), untied head",
    "stablelm": "StableLM: LayerNorm with bias, q/k/v biased by use_qkv_bias, partial rotary (no count), "
                "use_parallel_residual (one LayerNorm), qk_layernorm (a bias-free LayerNorm per head)",
    # Llama 4 Scout / Maverick (issue 10)
    "llama4": "the Llama 4 wrapper: its text_config is read (AutoModelForCausalLM builds Llama4ForCausalLM from it; "
              "the vision tower is not part of that model)",
    "llama4_text": "MoE layers (moe_layers or every interleave_moe_layer_step-th) of routed experts + one shared expert, "
                   "dense layers of intermediate_size_mlp, chunked attention (attention_chunk_size) on the RoPE "
                   "layers and full attention on the NoPE ones (no_rope_layers), a weightless q/k L2 norm",
    # Qwen3.5 (issue 10, branch qwen35)
    "qwen3_5": "the Qwen3.5 wrapper: its text_config is read (AutoModelForCausalLM builds Qwen3_5ForCausalLM from it; "
               "no vision tower, no MTP layer)",
    "qwen3_5_text": "Qwen3-Next's 3 gated delta-net : 1 gated-attention layers (in_proj_qkv / _z / _b / _a), a dense "
                    "SwiGLU MLP in every layer, 4 KV heads of 256 by default",
    "qwen3_5_moe": "the Qwen3.5-MoE wrapper: its text_config is read (Qwen3_5MoeForCausalLM; no vision tower, no MTP "
                   "layer)",
    "qwen3_5_moe_text": "Qwen3-Next's 3 gated delta-net : 1 gated-attention layers (in_proj_qkv / _z / _b / _a), every "
                        "layer MoE (256 experts top-8 by default) with a sigmoid-gated shared expert",
    # Gemma 3 (issue 10, branch gemma)
    "gemma3": "the Gemma 3 multimodal wrapper: its text_config is read as gemma3_text and the head is tied as the "
              "wrapper's tie_word_embeddings says; AutoModelForCausalLM builds Gemma3ForConditionalGeneration, whose "
              "SigLIP vision tower and projector a note counts apart",
    # issue 10, branch dsa: DeepSeek Sparse Attention
    "deepseek_v32": "DeepSeek-V3.2: DeepSeek-V3's network (MLA with q-LoRA, 256 experts + 1 shared, dense first layers) "
                    "with a DSA lightning indexer in every layer (its keys cached beside the latent), top-k keys per "
                    "query",
    "glm_moe_dsa": "GLM-5: MLA with q-LoRA and a DSA lightning indexer in every layer, dense first layers "
                   "(mlp_layer_types), 256 experts + 1 shared with a score-correction bias; shared-index layers "
                   "(GLM-5.2's indexer_types) refused",
    # issue 10, branch mamba
    "bamba": "Mamba-2 mixers (attn_layer_indices name the attention layers; mamba_n_heads x mamba_d_head wide, "
             "mamba_n_groups groups of B and C of mamba_d_state, conv kernel mamba_d_conv) beside Llama attention, "
             "a SwiGLU MLP in every layer",
    # issue 10, branch moefams
    "minimax_m2": "MiniMax-M2: every layer MoE (256 experts of intermediate_size, top-8 by default, no shared expert) "
                  "behind a sigmoid router with a score-correction bias (a buffer), q/k RMSNorm over the whole "
                  "projection, no biases, full attention on every layer; its MTP modules not built (a note)",
    "dots1": "dots.llm1: GQA with q/k RMSNorm over head_dim, q/k/v/o biased by attention_bias, dense first layers, "
             "routed experts + shared experts (n_shared_experts x moe_intermediate_size wide) behind a sigmoid router "
             "with a score-correction bias (a buffer), sliding layers from max_window_layers or layer_types",
    "exaone4": "EXAONE 4.0: post-norms only (after attention and after the MLP, as OLMo-2), q/k RMSNorm over head_dim, "
               "no biases, 3 sliding : 1 full layers (sliding_window_pattern or layer_types; NoPE on the full "
               "layers: no count changes)",
    # issue 10, branch mimo
    "mimo_v2_flash": "MiMo-V2-Flash: full layers (first and every 6th, or layer_types) beside sliding ones with twice "
                     "the KV heads and a sink per head, values narrower than queries/keys (v_head_dim), a dense first "
                     "MLP then 256 experts top-8 (sigmoid router, no shared expert); the hub's own layer fields "
                     "checked against what transformers builds",
    # issue 10, branch hybrid
    "falcon_h1": "Falcon-H1: a Mamba-2 mixer (mamba_d_ssm wide, gated RMSNorm only with mamba_rms_norm, out_proj "
                 "biased by projectors_bias) beside GQA attention in every layer on one RMSNorm, then a SwiGLU MLP; "
                 "the muP multipliers scale activations only",
    "nemotron_h": "Nemotron-H: one block per layer behind one RMSNorm, as layers_block_type or "
                  "hybrid_override_pattern says: a Mamba-2 mixer (M), attention without rotary or biases (*), a "
                  "relu^2 MLP without gate (-) or an MoE of ungated experts and one shared MLP (E); untied head",
    "lfm2": "LFM2: short-convolution layers (in_proj to B, C, x; a depthwise causal conv of conv_L_cache taps; "
            "out_proj) beside GQA attention layers with q/k RMSNorm (layer_types or full_attn_idxs), a SwiGLU of "
            "the adjusted block_ff_dim, a tied head by default",
    # issue 10, branch gemma4
    "gemma4_text": "Gemma 4: Gemma 3's block with per-layer attention shapes (full layers: global_head_dim, "
                   "num_global_key_value_heads and K=V without v_proj under attention_k_eq_v), KV-shared last layers "
                   "without k/v projections or cache (num_kv_shared_layers; use_double_wide_mlp doubles their MLP), "
                   "per-layer input embeddings (PLE: a looked-up table, a projection, a gate per layer) and an MoE "
                   "block beside the dense MLP (enable_moe_block)",
    "gemma4": "the Gemma 4 multimodal wrapper: its text_config is read as gemma4_text and the head is tied as the "
              "wrapper's tie_word_embeddings says; AutoModelForCausalLM builds Gemma4ForConditionalGeneration, whose "
              "vision / audio towers and embedders a note names and does not count",
    # issue 10, branch jamba
    "jamba": "Jamba: Mamba-1 mixers (mamba_expand x hidden wide, state mamba_d_state, dt rank mamba_dt_rank, RMSNorms "
             "on dt, B and C) beside attention without positions every attn_layer_period-th layer from "
             "attn_layer_offset; MoE (num_experts top-num_experts_per_tok, softmax router) every expert_layer_period-th "
             "layer from expert_layer_offset, a SwiGLU MLP elsewhere",
    "ernie4_5_moe": "ERNIE 4.5 MoE: MoE layers from moe_layer_start_index to moe_layer_end_index every "
                    "moe_layer_interval-th (routed experts of moe_intermediate_size top-moe_k beside "
                    "moe_num_shared_experts shared ones), dense SwiGLU elsewhere; an fp32 router and a frozen fp32 "
                    "score-correction parameter (moe_statics); use_bias on every Linear including the LM head; a tied "
                    "head by default",
    "hunyuan_v1_moe": "Hunyuan-A13B: every layer MoE (num_experts of intermediate_size, top-moe_topk, a softmax router "
                      "held in fp32) beside one shared SwiGLU of intermediate_size, q/k RMSNorm over head_dim "
                      "(which the file must give), attention_bias on q/k/v/o; the Hub file's per-layer lists accepted "
                      "where transformers builds what they say",
}
# Model types people run this year that are NOT modelled yet: what the reader would miss.  A config of one of these
# is refused (even with --generic), never read as a Llama.
NOT_YET_MODELLED = {
    # (none left of issue 10's list: gemma4 / gemma4_text landed on branch gemma4.)  The mechanism stays: a type
    # named here is refused by the reader, even with --generic.
}
# Fields that change no parameter, FLOP or byte this block describes (token ids, epsilons, initialisation, rope
# scaling, dropout rates, router loss weights, runtime switches): read quietly.
HARMLESS_FIELDS = frozenset("""
_name_or_path name_or_path architectures auto_map model_type torch_dtype dtype transformers_version bos_token_id
eos_token_id pad_token_id sep_token_id unk_token_id decoder_start_token_id bos_token eos_token initializer_range
init_std layer_norm_eps layer_norm_epsilon rms_norm_eps norm_epsilon norm_eps use_cache attention_dropout
attn_pdrop embd_pdrop resid_pdrop resid_dropout hidden_dropout dropout activation_dropout residual_dropout
embedding_dropout embed_dropout classifier_dropout attention_probs_dropout_prob hidden_dropout_prob
summary_type summary_use_proj summary_activation summary_proj_to_labels summary_first_dropout hidden_act
activation_function hidden_activation activation rope_theta rope_scaling rope_parameters rope_interleave rope_type
rotary_emb_base rotary_pct rope_pct partial_rotary_factor rotary_dim original_max_position_embeddings
max_position_embeddings n_positions n_ctx max_seq_len pretraining_sequence_length use_sliding_window
max_window_layers sliding_window_pattern attn_logit_softcapping final_logit_softcapping
query_pre_attn_scalar output_router_logits router_aux_loss_coef router_jitter_noise router_z_loss_coef
norm_topk_prob routed_scaling_factor topk_method n_group topk_group scoring_func aux_loss_alpha seq_aux ep_size
use_parallel_residual pretraining_tp clip_qkv scale_attn_weights scale_attn_by_inverse_layer_idx
reorder_and_upcast_attn apply_residual_connection_post_layernorm slow_but_exact is_decoder is_encoder_decoder
tie_encoder_decoder return_dict use_return_dict output_attentions output_hidden_states id2label label2id
problem_type chunk_size_feed_forward layerdrop prefix torchscript
task_specific_params tokenizer_class quantization_config cache_implementation attn_implementation
qk_layernorm_eps num_nextn_predict_layers offset_alibi masked_softmax_fusion
attention_softmax_in_fp32 bias_dropout_fusion skip_bias_add skip_bias_add_qkv use_mrope
scale_attention_softmax_in_fp32 n_special interpolate_factor
""".split())


class _MBFields:
    """Typed reads from a config.json dict; remembers every field read, so the rest can be judged."""

    def __init__(self, raw: dict, where: str):
        self.raw, self.where, self.used = raw, where, set()

    def get(self, *keys):
        for key in keys:
            if key in self.raw:
                self.used.add(key)
                if self.raw[key] is not None:
                    return key, self.raw[key]
        self.used.update(k for k in keys if k in self.raw)
        return keys[0], None

    def int(self, *keys, default=None, minimum=1):
        key, value = self.get(*keys)
        if value is None:
            if default is None:
                raise InputError(f"{self.where}: field '{keys[0]}' is missing (expected an integer >= {minimum})")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InputError(f"{self.where}: field '{key}' must be an integer >= {minimum}, got {value!r:.60}")
        if value > MODEL_MAX_WIDTH:
            raise InputError(f"{self.where}: field '{key}' {value} is beyond {MODEL_MAX_WIDTH:.0e}")
        return value

    def flag(self, key, default: bool) -> bool:
        _, value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InputError(f"{self.where}: field '{key}' must be true or false, got {value!r:.60}")
        return value

    def number(self, key, default: float = 0.0) -> float:
        _, value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or \
                value in (float("inf"), float("-inf")):
            raise InputError(f"{self.where}: field '{key}' must be a number, got {value!r:.60}")
        return float(value)

    def text(self, *keys, default: str = "") -> str:
        key, value = self.get(*keys)
        if value is None:
            return default
        if not isinstance(value, str):
            raise InputError(f"{self.where}: field '{key}' must be a string, got {value!r:.60}")
        return value

    def absent(self, *keys) -> bool:
        """None of keys is in the file (an explicit null is present: some classes read null and absent apart)."""
        return not any(key in self.raw for key in keys)

    def expect(self, key, value, model_type: str) -> None:
        """A field the model class does not read: fine when absent or equal to what the class builds anyway."""
        _, found = self.get(key)
        if found is not None and (found != value or type(found) is not type(value)):
            raise InputError(f"{self.where}: field '{key}' {found!r:.40} is not modelled for model_type "
                             f"'{model_type}' (only {value!r}); refusing rather than guessing")

    def layer_list(self, key) -> tuple:
        _, value = self.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value):
            raise InputError(f"{self.where}: field '{key}' must be a list of layer indices, got {value!r:.60}")
        return tuple(sorted(set(value)))


# For error messages about a config file: the config fields that can set each Model field (the first present wins).
CONFIG_FIELDS_OF = {
    "num_layers": ("num_hidden_layers", "n_layer"), "hidden_size": ("hidden_size", "n_embd", "n_embed"),
    "num_attention_heads": ("num_attention_heads", "n_head"), "vocab_size": ("vocab_size",),
    "ffn_hidden_size": ("intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size"),
    "num_kv_heads": ("num_key_value_heads", "num_kv_heads", "n_head_kv"), "head_dim": ("head_dim",),
    "num_experts": ("num_experts", "num_local_experts", "n_routed_experts"), "top_k": ("num_experts_per_tok",),
    "moe_ffn_hidden_size": ("moe_intermediate_size",), "first_k_dense": ("first_k_dense_replace",),
    "dense_layers": ("mlp_only_layers",), "expert_interval": ("decoder_sparse_step", "moe_layer_freq"),
    "kv_lora_rank": ("kv_lora_rank",), "q_lora_rank": ("q_lora_rank",), "qk_nope_head_dim": ("qk_nope_head_dim",),
    "qk_rope_head_dim": ("qk_rope_head_dim",), "v_head_dim": ("v_head_dim",),
    "num_shared_experts": ("n_shared_experts",), "shared_expert_ffn_size": ("shared_expert_intermediate_size",),
    "word_embed_proj_dim": ("word_embed_proj_dim",), "sliding_window": ("sliding_window",),
    "max_position_embeddings": ("n_positions", "max_position_embeddings"),
    "linear_num_key_heads": ("linear_num_key_heads",), "linear_num_value_heads": ("linear_num_value_heads",),
    "linear_key_head_dim": ("linear_key_head_dim",), "linear_value_head_dim": ("linear_value_head_dim",),
    "linear_conv_kernel": ("linear_conv_kernel_dim",), "mixer_types": ("layer_types", "full_attention_interval"),
    "index_n_heads": ("index_n_heads",), "index_head_dim": ("index_head_dim",), "index_topk": ("index_topk",),
    "sliding_kv_heads": ("swa_num_key_value_heads", "num_key_value_heads"),
    "short_conv_kernel": ("conv_L_cache",),
}
CONFIG_FIELDS_OF.update({  # issue 10, branch jamba: Jamba's Mamba-1 fields
    "mamba1_inner": ("mamba_expand",), "mamba_dt_rank": ("mamba_dt_rank",),
    "expert_interval": ("expert_layer_period", "decoder_sparse_step", "moe_layer_freq", "moe_layer_interval"),
    "top_k": ("num_experts_per_tok", "moe_k", "moe_topk"),  # ERNIE 4.5 and Hunyuan name them their own way
    "num_experts": ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"),
    "moe_ffn_hidden_size": ("moe_intermediate_size",), "first_k_dense": ("first_k_dense_replace", "moe_layer_start_index"),
})
CONFIG_FIELDS_OF.update({  # issue 10, branch gemma4: Gemma4TextConfig's fields
    "sliding_head_dim": ("head_dim",), "kv_shared_layers": ("num_kv_shared_layers",),
    "per_layer_input_size": ("hidden_size_per_layer_input",), "per_layer_vocab": ("vocab_size_per_layer_input",),
    "moe_beside_mlp": ("enable_moe_block",),
})
CONFIG_FIELDS_OF["top_k"] += ("top_k_experts",)
CONFIG_FIELDS_OF["head_dim"] += ("global_head_dim",)
CONFIG_FIELDS_OF["num_kv_heads"] += ("num_global_key_value_heads",)
CONFIG_FIELDS_OF.update({  # issue 10, branch mamba: Bamba's Mamba-2 fields
    "mamba_num_heads": ("mamba_n_heads",), "mamba_head_dim": ("mamba_d_head",), "mamba_n_groups": ("mamba_n_groups",),
    "mamba_d_state": ("mamba_d_state",), "mamba_d_conv": ("mamba_d_conv",), "mamba_chunk_size": ("mamba_chunk_size",),
})
for _field, _names in {"mamba_num_heads": "mamba_num_heads", "mamba_head_dim": "mamba_head_dim",  # branch hybrid:
                       "mamba_n_groups": "n_groups", "mamba_d_state": "ssm_state_size",  # Nemotron-H's names
                       "mamba_d_conv": "conv_kernel", "mamba_chunk_size": "chunk_size"}.items():
    CONFIG_FIELDS_OF[_field] += (_names,)
_MB_TIED_BY_DEFAULT = {"gpt2", "bloom", "opt", "falcon", "gemma", "gemma2", "gemma3_text", "starcoder2"}
_MB_HEAD_DIM_DEFAULT = {"gemma": 256, "gemma2": 256, "gemma3_text": 256, "qwen3": 128, "qwen3_next": 256}
# What a config class builds when the file leaves a field out, where that is not the generic rule (KV heads = query
# heads, no window, no experts): transformers 5.23 configuration_<model_type>.py signature defaults.  An explicit
# null is the generic rule where the class takes it (Llama, Qwen2/3, Phi-3, OLMo-2: `if num_key_value_heads is None:
# ... = heads`); the other classes here reject a null KV-head count, and so does the reader.
_MB_CLASS_DEFAULTS = {
    "mistral": {"num_key_value_heads": 8, "sliding_window": 4096}, "mixtral": {"num_key_value_heads": 8},
    "qwen2": {"num_key_value_heads": 32}, "qwen3": {"num_key_value_heads": 32},
    "qwen2_moe": {"num_key_value_heads": 16, "num_experts": 60, "moe_intermediate_size": 1408},
    "qwen3_moe": {"num_key_value_heads": 4, "num_experts": 128, "moe_intermediate_size": 768},
    "gemma": {"num_key_value_heads": 16}, "gemma2": {"num_key_value_heads": 4, "sliding_window": 4096},
    "gemma3_text": {"num_key_value_heads": 4, "sliding_window": 4096},
    "gpt_oss": {"num_key_value_heads": 8, "sliding_window": 128},
    "qwen3_next": {"num_key_value_heads": 2},
    "starcoder2": {"num_key_value_heads": 2},
}
# activation_function / hidden_act when the config omits it (GPT2Config, GPTJConfig, OPTConfig, PhiConfig)
_MB_ACTIVATION_DEFAULT = {"gpt2": "gelu_new", "gptj": "gelu_new", "opt": "relu", "phi": "gelu_new"}
# issue 10, branch families: transformers 5.23 class defaults of the families added there
_MB_CLASS_DEFAULTS.update({"glm4_moe": {"num_key_value_heads": 8, "n_routed_experts": 128,
                                        "moe_intermediate_size": 1408}})
_MB_CLASS_DEFAULTS.update({"olmo3": {"sliding_window": 4096}, "cohere2": {"sliding_window": 4096}})
_MB_TIED_BY_DEFAULT |= {"cohere", "cohere2"}  # CohereConfig / Cohere2Config: tie_word_embeddings=True
# issue 10, branch families2
_MB_TIED_BY_DEFAULT |= {"smollm3"}  # SmolLM3Config: tie_word_embeddings=True
_MB_TIED_BY_DEFAULT |= {"lfm2"}  # Lfm2Config: tie_word_embeddings=True (issue 10, branch mimo)
_MB_TIED_BY_DEFAULT |= {"gemma4_text"}  # Gemma4TextConfig: tie_word_embeddings=True (issue 10, branch gemma4)
_MB_TIED_BY_DEFAULT |= {"ernie4_5_moe"}  # Ernie4_5_MoeConfig: tie_word_embeddings=True (issue 10, branch jamba)
# Llama4TextConfig (transformers 5.23): 8 KV heads and head_dim 128 when the file leaves them out
_MB_CLASS_DEFAULTS.update({"llama4": {"num_key_value_heads": 8}, "llama4_text": {"num_key_value_heads": 8}})
_MB_HEAD_DIM_DEFAULT.update({"llama4": 128, "llama4_text": 128})
# issue 10, branch qwen35: Qwen3_5TextConfig / Qwen3_5MoeTextConfig (transformers 5.23) defaults
_MB_CLASS_DEFAULTS.update({"qwen3_5": {"num_key_value_heads": 4}, "qwen3_5_text": {"num_key_value_heads": 4},
                           "qwen3_5_moe": {"num_key_value_heads": 2}, "qwen3_5_moe_text": {"num_key_value_heads": 2}})
_MB_HEAD_DIM_DEFAULT.update({"qwen3_5": 256, "qwen3_5_text": 256, "qwen3_5_moe": 256, "qwen3_5_moe_text": 256})
# issue 10, branch gemma -- Gemma3TextConfig (transformers 5.23 configuration_gemma3.py) builds these sizes when the file
# leaves them out; the published wrappers' text_config omit vocab_size (google/gemma-3-27b-it: 262,208 rows)
_MB_SIZE_DEFAULTS = {"gemma3_text": {"vocab_size": 262_208, "hidden_size": 2304, "intermediate_size": 9216,
                                     "num_hidden_layers": 26, "num_attention_heads": 8}}
# issue 10, branch mamba: BambaConfig's 8 KV heads (an explicit null: as many as query heads)
_MB_CLASS_DEFAULTS.update({"bamba": {"num_key_value_heads": 8}})
# issue 10, branch moefams: MiniMaxM2Config (transformers 5.23): 8 KV heads and head_dim 128 when absent
_MB_CLASS_DEFAULTS.update({"minimax_m2": {"num_key_value_heads": 8}})
_MB_HEAD_DIM_DEFAULT.update({"minimax_m2": 128})
# Dots1Config (transformers 5.23): 32 KV heads when absent (as many as query heads when null), window 4096 on the
# layers i >= max_window_layers (62 by default)
_MB_CLASS_DEFAULTS.update({"dots1": {"num_key_value_heads": 32, "sliding_window": 4096}})
# Exaone4Config: 32 KV heads (a null is rejected by its strict dataclass), window 4096 on all but every 4th layer
_MB_CLASS_DEFAULTS.update({"exaone4": {"num_key_value_heads": 32, "sliding_window": 4096}})
# issue 10, branch mimo: MiMoV2FlashConfig's defaults are read in _mb_read_mimo_v2_flash (4 KV heads, head_dim 192,
# v_head_dim 128, window 129, 256 experts of 2048, top-8, untied head)


def _mb_read_gpt(r: _MBFields, mt: str) -> dict:
    """GPT-2 (fused c_attn, learned positions), GPT-J (one LayerNorm per block, biased LM head, unbiased
    attention), BLOOM (ALiBi, fused query_key_value, embedding LayerNorm; BloomMLP is 4h whatever n_inner says)."""
    h = r.int("n_embd", "hidden_size", "n_embed")
    v = dict(hidden_size=h, num_layers=r.int("n_layer", "num_hidden_layers"),
             num_attention_heads=r.int("n_head", "num_attention_heads"), vocab_size=r.int("vocab_size"),
             gated_mlp=False, norm="layernorm", mlp_bias=True, gguf_arch=mt)
    if mt == "gpt2":
        v.update(ffn_hidden_size=r.int("n_inner", default=4 * h), position_embedding="learned", fused_qkv=True,
                 max_position_embeddings=r.int("n_positions", "max_position_embeddings", default=1024),
                 qkv_bias=True, o_bias=True, softmax_fp32=False)
    elif mt == "gptj":
        v.update(ffn_hidden_size=r.int("n_inner", default=4 * h), norms_per_layer=1, lm_head_bias=True)
        r.get("rotary_dim")
    else:
        r.get("n_inner")
        v.update(ffn_hidden_size=4 * h, position_embedding="alibi", fused_qkv=True, qkv_bias=True, o_bias=True,
                 embedding_norm=True)
    return v


def _mb_read_neox_opt_falcon(r: _MBFields, mt: str) -> dict:
    h = r.int("hidden_size", "n_embed")
    heads = r.int("num_attention_heads", "n_head")
    v = dict(hidden_size=h, num_layers=r.int("num_hidden_layers", "n_layer"), num_attention_heads=heads,
             vocab_size=r.int("vocab_size"), gated_mlp=False, norm="layernorm")
    if mt == "gpt_neox":
        bias = r.flag("attention_bias", True)
        v.update(ffn_hidden_size=r.int("intermediate_size"), fused_qkv=True, qkv_bias=bias, o_bias=bias,
                 mlp_bias=True, gguf_arch="gptneox")  # its eager softmax runs in fp32 (modeling_gpt_neox.py)
    elif mt == "opt":
        # OPTLearnedPositionalEmbedding keeps 2 extra rows; project_in / project_out when word_embed_proj_dim
        # differs from hidden_size; the final LayerNorm exists only for pre-LN models
        bias = r.flag("enable_bias", True)
        final = r.flag("do_layer_norm_before", True) and not r.flag("_remove_final_layer_norm", False)
        v.update(ffn_hidden_size=r.int("ffn_dim"), qkv_bias=bias, o_bias=bias, mlp_bias=bias,
                 position_embedding="learned", max_position_embeddings=r.int("max_position_embeddings"),
                 position_offset=2, word_embed_proj_dim=r.int("word_embed_proj_dim", default=h),
                 norm="layernorm" if r.flag("layer_norm_elementwise_affine", True) else "nonparametric",
                 final_norm=final, gguf_arch="opt")
        if r.number("layerdrop"):
            raise InputError(f"{r.where}: field 'layerdrop' {r.raw['layerdrop']} skips layers at random in "
                             "training; not modelled")
    else:  # falcon: transformers FalconAttention / FalconDecoderLayer
        bias = r.flag("bias", False)
        new_arch = r.flag("new_decoder_architecture", False)
        multi_query = r.flag("multi_query", True)
        parallel = r.flag("parallel_attn", True)
        if new_arch:
            kv = r.int("num_kv_heads", "n_head_kv", default=heads)
        else:
            r.get("num_kv_heads", "n_head_kv")  # read, but this architecture takes multi_query instead
            kv = 1 if multi_query else heads
        lns = r.int("num_ln_in_parallel_attn", default=0, minimum=0) or (2 if new_arch else 1)
        two_norms = not parallel or lns == 2
        v.update(ffn_hidden_size=r.int("ffn_hidden_size", default=4 * h), num_kv_heads=kv, fused_qkv=True,
                 qkv_bias=bias, o_bias=bias, mlp_bias=bias, norms_per_layer=2 if two_norms else 1,
                 norm_placement="parallel" if parallel else "pre", softmax_fp32=False, hf_kv_broadcast=new_arch,
                 position_embedding="alibi" if r.flag("alibi", False) else "rotary", gguf_arch="falcon")
    return v


def _mb_read_llama_style(r: _MBFields, mt: str) -> dict:
    """Llama and its descendants: gated MLP and RMSNorm unless the family says otherwise."""
    heads = r.int("num_attention_heads")
    v = dict(hidden_size=r.int("hidden_size"), num_layers=r.int("num_hidden_layers"), num_attention_heads=heads,
             vocab_size=r.int("vocab_size"),
             num_kv_heads=_MB_CLASS_DEFAULTS.get(mt, {}).get("num_key_value_heads", heads)
             if r.absent("num_key_value_heads") else r.int("num_key_value_heads", default=heads),
             head_dim=r.int("head_dim", default=_MB_HEAD_DIM_DEFAULT.get(mt, 0)),  # 0 would build 0-wide heads
             ffn_hidden_size=0 if mt in _MB_QWEN3_5_MOE else r.int("intermediate_size"), gguf_arch=mt)
    if mt in _MB_CLASS_DEFAULTS and "num_key_value_heads" in _MB_CLASS_DEFAULTS[mt] and \
            mt not in ("qwen2", "qwen3", "bamba", "dots1") \
            and "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        raise InputError(f"{r.where}: field 'num_key_value_heads' is null, which transformers' {mt} config does not "
                         "accept; give the number of KV heads")
    # these classes do not read attention_bias: their biases are fixed (Qwen2: q/k/v only) or come from elsewhere
    if mt in ("mistral", "mixtral", "qwen2", "qwen2_moe", "phi", "phi3", "starcoder2", "minimax_m2"):
        r.get("attention_bias")
    else:
        bias = r.flag("attention_bias", False)
        v.update(qkv_bias=bias, o_bias=bias)
    if mt == "qwen2":
        v["qkv_bias"] = True
    elif mt == "qwen2_moe":
        v["qkv_bias"] = r.flag("qkv_bias", True)
    if mt in ("llama", "deepseek_v2", "granite", "bamba"):
        v["mlp_bias"] = r.flag("mlp_bias", False)
    if mt == "granite":  # modeling_granite.py: scalars on the embedding, scores, residual branches and logits
        for key in ("embedding_multiplier", "attention_multiplier", "residual_multiplier", "logits_scaling"):
            r.number(key)
    else:
        r.get("mlp_bias")  # the other classes build their MLPs without reading it
    if mt == "gemma2":
        v.update(norms_per_layer=4, attn_softcap=bool(r.number("attn_logit_softcapping")))
    if mt == "gemma3_text":  # modeling_gemma3.py: four norms per layer, q_norm / k_norm over head_dim
        v.update(norms_per_layer=4, qk_norm="head", attn_softcap=bool(r.number("attn_logit_softcapping")),
                 gguf_arch="gemma3")
        r.expect("use_bidirectional_attention", False, mt)  # a bidirectional mask and half window: not modelled
        r.get("rope_local_base_freq")  # the sliding layers' rotary base: no parameter, no matmul
    if mt.startswith("gemma"):
        v["norm_fp32_scale"] = True
    if mt in ("qwen3", "qwen3_moe"):
        v["qk_norm"] = "head"
    if mt == "qwen3_next":
        _mb_read_qwen3_next(r, mt, v)
    if mt in _MB_QWEN3_5_DENSE + _MB_QWEN3_5_MOE:
        _mb_read_qwen3_5(r, mt, v)
    if mt == "olmo":
        v.update(norm="nonparametric", norm_fp32_input=True)
    if mt == "olmo2":
        v.update(qk_norm="full", norm_placement="post", norm_fp32_scale=True)
    if mt == "phi":
        v.update(gated_mlp=False, norm="layernorm", norms_per_layer=1, qkv_bias=True, o_bias=True, mlp_bias=True,
                 lm_head_bias=True, qk_norm="head" if r.flag("qk_layernorm", False) else "none")
    if mt == "phi3":
        v.update(fused_qkv=True, fused_gate_up=True)
        # Phi-4-mini's config carries full_attn_mod 1 (every layer full) and lm_head_bias false, which transformers'
        # Phi3 does not read: accepted at the values that class builds, refused at any other
        r.expect("full_attn_mod", 1, mt)
        r.expect("lm_head_bias", False, mt)
    if mt == "starcoder2":
        r.expect("mlp_type", "default", mt)  # published files carry "default"; the class builds its one MLP
        norm = r.text("norm_type", default="layer_norm")
        if norm != "layer_norm":  # Starcoder2 builds nn.LayerNorm whatever the field says; another value is new
            raise InputError(f"{r.where}: field 'norm_type' {norm!r} is not modelled for starcoder2 "
                             "(only 'layer_norm')")
        bias = r.flag("use_bias", True)
        v.update(gated_mlp=False, norm="layernorm", qkv_bias=bias, o_bias=bias, mlp_bias=bias)
    if mt == "mixtral":
        v.update(num_experts=r.int("num_local_experts", "num_experts", default=8),
                 top_k=r.int("num_experts_per_tok", default=2))
    elif mt in ("qwen2_moe", "qwen3_moe"):
        defaults = _MB_CLASS_DEFAULTS[mt]
        experts = defaults["num_experts"] if r.absent("num_experts", "num_local_experts") else \
            r.int("num_experts", "num_local_experts", default=0, minimum=0)
        r.get("moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers", "num_experts_per_tok",
              "shared_expert_intermediate_size")
        if experts:
            v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=4 if mt == "qwen2_moe" else 8),
                     moe_ffn_hidden_size=r.int("moe_intermediate_size", default=defaults["moe_intermediate_size"]),
                     expert_interval=r.int("decoder_sparse_step", default=1), expert_interval_phase=1,
                     dense_layers=r.layer_list("mlp_only_layers"))
            if mt == "qwen2_moe":  # one shared expert behind a sigmoid gate (hidden -> 1)
                v.update(num_shared_experts=1, shared_expert_gate=True,
                         shared_expert_ffn_size=r.int("shared_expert_intermediate_size", default=5632))
    elif mt in ("deepseek_v2", "deepseek_v3"):
        v3 = mt == "deepseek_v3"
        # configuration_deepseek_v2/_v3.py: an absent q_lora_rank is 1536 (q-LoRA on), an explicit null turns it off;
        # absent experts are 64 (V2) / 256 (V3), null means a dense model
        # an explicit 0 is refused: the classes test `is None`, so 0 would build zero-width q_a_proj / q_b_proj
        v.update(q_lora_rank=1536 if r.absent("q_lora_rank") else r.int("q_lora_rank", default=0),
                 kv_lora_rank=r.int("kv_lora_rank", default=512),
                 qk_nope_head_dim=r.int("qk_nope_head_dim", default=128),
                 qk_rope_head_dim=r.int("qk_rope_head_dim", default=64), v_head_dim=r.int("v_head_dim", default=128),
                 head_dim=0, num_kv_heads=0)
        r.get("num_key_value_heads", "head_dim")  # MLA: every head has its own K and V, from the latent
        expert_keys = ("n_routed_experts", "num_local_experts", "num_experts")
        experts = (256 if v3 else 64) if r.absent(*expert_keys) else r.int(*expert_keys, default=0, minimum=0)
        r.get("moe_intermediate_size", "n_shared_experts", "first_k_dense_replace", "moe_layer_freq",
              "num_experts_per_tok")
        if experts:
            # modeling_deepseek.py: layer i is MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0
            v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8 if v3 else None),
                     moe_ffn_hidden_size=r.int("moe_intermediate_size", default=2048 if v3 else 1407),
                     num_shared_experts=r.int("n_shared_experts", default=1 if v3 else 2, minimum=0),
                     first_k_dense=r.int("first_k_dense_replace", default=3 if v3 else 0, minimum=0),
                     expert_interval=_mb_moe_layer_freq(r), expert_interval_phase=0,
                     router_score_correction_bias=v3)
    if mt == "glm4_moe":
        _mb_read_glm4_moe(r, v)
    if mt in ("deepseek_v32", "glm_moe_dsa"):
        _mb_read_dsa(r, mt, v)
    if mt == "olmo3":  # modeling_olmo3.py: Olmo2's post-norm block and whole-projection q/k norms
        v.update(qk_norm="full", norm_placement="post", norm_fp32_scale=True)
    if mt == "seed_oss":
        _mb_read_seed_oss(r, v)
    if mt == "olmoe":
        _mb_read_olmoe(r, v)
    if mt in ("cohere", "cohere2"):
        _mb_read_cohere(r, mt, v)
    if mt == "nemotron":
        _mb_read_nemotron(r, v)
    if mt == "smollm3":
        _mb_read_smollm3(r, v)
    if mt == "granitemoe":
        _mb_read_granitemoe(r, v)
    if mt == "phimoe":
        _mb_read_phimoe(r, v)
    if mt == "stablelm":
        _mb_read_stablelm(r, v)
    if mt in ("llama4", "llama4_text"):
        _mb_read_llama4(r, mt, v)
    if mt == "bamba":
        _mb_read_bamba(r, v)
    if mt == "minimax_m2":
        _mb_read_minimax_m2(r, v)
    if mt == "dots1":
        _mb_read_dots1(r, v)
    if mt == "exaone4":  # modeling_exaone4.py: Exaone4DecoderLayer normalises each sub-layer's output only
        v.update(qk_norm="head", norm_placement="post", gguf_arch="exaone4")
    return v


def _mb_read_bamba(r: _MBFields, v: dict) -> None:
    """BambaConfig (transformers 5.23 configuration_bamba.py, modeling_bamba.py): layer i is full attention when i
    is in attn_layer_indices and a Mamba-2 mixer otherwise (layers_block_type); every layer has the SwiGLU MLP
    (mlp_bias) and two RMSNorms; attention is the Llama one (attention_bias, head_dim hidden / heads unless the file
    gives one, partial rotary: no count).  The mixer: mamba_n_heads (128) heads of mamba_d_head ("auto": mamba_expand
    (2) x hidden / heads; the class refuses a product other than mamba_expand x hidden), mamba_n_groups (1) groups of
    B and C of mamba_d_state (256), conv kernel mamba_d_conv (4) with a bias (mamba_conv_bias, true), in/out
    projections biased by mamba_proj_bias (false), the torch scan's chunk mamba_chunk_size (256)."""
    layers, h = v["num_layers"], v["hidden_size"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    attention = r.layer_list("attn_layer_indices")
    if any(i >= layers for i in attention):  # the class ignores them: a typo, not a model
        raise InputError(f"{r.where}: field 'attn_layer_indices' names layer {max(attention)} of a "
                         f"{layers}-layer model")
    r.get("layers_block_type", "layer_types")  # derived by the class from attn_layer_indices (a property)
    mixers = tuple("attention" if i in attention else "linear" for i in range(layers))
    heads = r.int("mamba_n_heads", default=128)
    expand = r.int("mamba_expand", default=2)
    _, head_dim = r.get("mamba_d_head")
    if head_dim is None or head_dim == "auto":
        head_dim = expand * h // heads
    elif isinstance(head_dim, bool) or not isinstance(head_dim, int) or not 1 <= head_dim <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'mamba_d_head' must be a positive integer or \"auto\", got "
                         f"{head_dim!r:.60}")
    if (expand * h) % heads or head_dim * heads != expand * h:  # BambaConfig.validate_architecture
        raise InputError(f"{r.where}: fields 'mamba_n_heads' {heads} x 'mamba_d_head' {head_dim} must equal "
                         f"'mamba_expand' {expand} x 'hidden_size' {h}, as BambaConfig requires")
    for key in ("num_logits_to_keep", "time_step_limit", "z_loss_coefficient", "attn_rotary_emb"):
        r.get(key)  # logits kept at generation, dt clamp, a loss term, the rotary width: no count, no matmul
    v.update(mixer_types=mixers if "linear" in mixers else (), ssm_kind="mamba2" if "linear" in mixers else "",
             mamba_num_heads=heads, mamba_head_dim=head_dim, mamba_n_groups=r.int("mamba_n_groups", default=1),
             mamba_d_state=r.int("mamba_d_state", default=256), mamba_d_conv=r.int("mamba_d_conv", default=4),
             mamba_chunk_size=r.int("mamba_chunk_size", default=256),
             mamba_conv_bias=r.flag("mamba_conv_bias", True), mamba_proj_bias=r.flag("mamba_proj_bias", False))


def _mb_read_qwen3_next(r: _MBFields, mt: str, v: dict) -> None:
    """Qwen3NextConfig (transformers 5.23 configuration_qwen3_next.py and modeling_qwen3_next.py): layer i is a
    gated delta-net unless (i + 1) % full_attention_interval == 0 (default 4), or as layer_types lists; the
    attention layers' q_proj carries an output gate and q/k RMSNorm over head_dim; RMSNorms scale by (1 + w) in
    fp32; MoE as Qwen3-MoE (decoder_sparse_step, mlp_only_layers) with one shared expert behind a sigmoid gate.
    Defaults are the class signature's: 16 key / 32 value heads of 128, kernel 4, 512 experts of 512, top-10."""
    _mb_read_delta_net_mixers(r, v)
    v["gguf_arch"] = "qwen3next"
    experts = 512 if r.absent("num_experts") else r.int("num_experts", default=0, minimum=0)
    for key in ("moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers", "num_experts_per_tok",
                "shared_expert_intermediate_size"):
        r.get(key)  # without experts the class builds every layer's MLP from intermediate_size alone
    if experts:  # Qwen3NextSparseMoeBlock: router, stacked experts, shared_expert and shared_expert_gate (h -> 1)
        v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=10),
                 moe_ffn_hidden_size=r.int("moe_intermediate_size", default=512),
                 expert_interval=r.int("decoder_sparse_step", default=1), expert_interval_phase=1,
                 dense_layers=r.layer_list("mlp_only_layers"), num_shared_experts=1, shared_expert_gate=True,
                 shared_expert_ffn_size=r.int("shared_expert_intermediate_size", default=512))


def _mb_read_delta_net_mixers(r: _MBFields, v: dict) -> None:
    """The Qwen3-Next / Qwen3.5 token mixers: layer i is a gated delta-net unless (i + 1) % full_attention_interval
    == 0 (default 4; the config classes read it only when layer_types is absent), or as layer_types lists; the
    attention layers are gated (q_proj emits an output gate) with q/k RMSNorm over head_dim; every RMSNorm scales
    by (1 + w) in fp32.  Delta-net defaults are both classes' signatures: 16 key / 32 value heads of 128, kernel 4."""
    layers = v["num_layers"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    interval = r.int("full_attention_interval", default=4)
    types = r.get("layer_types")[1]
    if types is None:
        mixers = tuple("linear" if (i + 1) % interval else "attention" for i in range(layers))
    elif not isinstance(types, list) or not all(t in ("linear_attention", "full_attention") for t in types):
        raise InputError(f"{r.where}: field 'layer_types' must list 'linear_attention' or 'full_attention' per "
                         f"layer, got {types!r:.80}")
    elif len(types) != layers:
        raise InputError(f"{r.where}: field 'layer_types' has {len(types)} entries for {layers} layers")
    else:
        mixers = tuple("linear" if t == "linear_attention" else "attention" for t in types)
    v.update(qk_norm="head", norm_fp32_scale=True, attn_output_gate=True,
             mixer_types=mixers if "linear" in mixers else (),
             linear_num_key_heads=r.int("linear_num_key_heads", default=16),
             linear_num_value_heads=r.int("linear_num_value_heads", default=32),
             linear_key_head_dim=r.int("linear_key_head_dim", default=128),
             linear_value_head_dim=r.int("linear_value_head_dim", default=128),
             linear_conv_kernel=r.int("linear_conv_kernel_dim", default=4))


_MB_QWEN3_5_DENSE = ("qwen3_5", "qwen3_5_text")
_MB_QWEN3_5_MOE = ("qwen3_5_moe", "qwen3_5_moe_text")


def _mb_read_qwen3_5(r: _MBFields, mt: str, v: dict) -> None:
    """Qwen3.5, dense (qwen3_5 / qwen3_5_text) and MoE (qwen3_5_moe / qwen3_5_moe_text): transformers 5.23
    configuration_qwen3_5(_moe).py and modeling_qwen3_5(_moe).py.  AutoModelForCausalLM builds Qwen3_5ForCausalLM /
    Qwen3_5MoeForCausalLM from the wrapper's text_config alone (no vision tower, no MTP layer; its head is tied only
    when the text_config says so).  What differs from Qwen3-Next (everything else is its block, read by
    _mb_read_delta_net_mixers):

    * the delta-net input projections are four Linears, in_proj_qkv / in_proj_z / in_proj_b / in_proj_a (the same
      rows as in_proj_qkvz / in_proj_ba; no per-key-head interleaving to undo);
    * dense: every layer has a SwiGLU MLP of intermediate_size (no MoE field exists; a file's MoE field is refused);
    * MoE: every layer is MoE (the class has no decoder_sparse_step or mlp_only_layers: only 1 and [] are accepted),
      top-k weights always renormalised (norm_topk_prob is not read: no count changes), one shared expert behind a
      sigmoid gate; defaults 256 experts of 512, top-8, shared 512;
    * multimodal RoPE (mrope_section, interleaved) over partial_rotary_factor 0.25 of head_dim: for text the three
      position axes are equal, and no parameter or counted matmul changes;
    * the published files carry fields the class does not read: attn_output_gate (the gate is always built: only
      true is accepted), output_gate_type (the delta-net's gated-RMSNorm activation, "swish" in the published files;
      transformers' Qwen3_5RMSNormGated applies silu whatever it says: elementwise, no count or counted FLOP either
      way), mamba_ssm_dtype (serving engines' state dtype; transformers' cache keeps the recurrent state in fp32
      whatever it says) and mtp_num_hidden_layers (a note: the MTP layer is not built).
    Class defaults: 4 (dense) / 2 (MoE) KV heads, head_dim 256; the sizes must be in the file."""
    if mt in ("qwen3_5", "qwen3_5_moe") and not r.where.endswith(" text_config"):
        raise InputError(f"{r.where}: model_type '{mt}' without a text_config: transformers' {mt} config builds its "
                         f"default text model whatever the top-level fields say; give the text_config (or model_type "
                         f"{mt}_text)")
    _mb_read_delta_net_mixers(r, v)
    v.update(linear_proj_split=True, gguf_arch="qwen35moe" if mt in _MB_QWEN3_5_MOE else "qwen35")
    r.expect("attn_output_gate", True, mt)
    r.text("output_gate_type")  # an activation: no parameter, no counted matmul, no cached byte
    r.text("mamba_ssm_dtype")
    r.int("mtp_num_hidden_layers", default=0, minimum=0)  # model_from_config notes it
    r.flag("mtp_use_dedicated_embeddings", False)
    if mt in _MB_QWEN3_5_DENSE:
        return
    # Qwen3_5MoeSparseMoeBlock in every layer: router (E, h), stacked experts, shared_expert, shared_expert_gate
    r.get("intermediate_size", "norm_topk_prob")  # no dense MLP is built; the router always renormalises top-k
    r.expect("decoder_sparse_step", 1, mt)
    if r.layer_list("mlp_only_layers"):
        raise InputError(f"{r.where}: field 'mlp_only_layers' is not modelled for model_type '{mt}' (transformers "
                         "builds every layer MoE whatever it lists; only [] is accepted)")
    moe_width = r.int("moe_intermediate_size", default=512)
    v.update(num_experts=r.int("num_experts", default=256), top_k=r.int("num_experts_per_tok", default=8),
             moe_ffn_hidden_size=moe_width, ffn_hidden_size=moe_width, expert_interval=1, expert_interval_phase=1,
             num_shared_experts=1, shared_expert_gate=True,
             shared_expert_ffn_size=r.int("shared_expert_intermediate_size", default=512))
    if v["top_k"] > v["num_experts"]:
        raise InputError(f"{r.where}: field 'num_experts_per_tok' {v['top_k']} is more than num_experts "
                         f"{v['num_experts']}")


def _mb_moe_layer_freq(r: _MBFields) -> int:
    """DeepSeek's moe_layer_freq: its hub code (modeling_deepseek.py) makes layer i MoE only when
    i % moe_layer_freq == 0, while transformers' DeepseekV2/V3 ignore the field and make every layer past
    first_k_dense_replace MoE.  At 1 (every published config) both agree; any other value builds two different
    models, so it is refused rather than one of them guessed."""
    freq = r.int("moe_layer_freq", default=1)
    if freq != 1:
        raise InputError(f"{r.where}: field 'moe_layer_freq' {freq}: DeepSeek's own code makes every {freq}-th layer "
                         "MoE and transformers makes them all MoE; refusing rather than guessing (1 is modelled)")
    return freq


def _mb_read_gpt_oss(r: _MBFields, mt: str) -> dict:
    """gpt-oss (transformers 5.23 configuration_gpt_oss.py / modeling_gpt_oss.py; OpenAI's model card,
    arXiv:2508.10925 sec. 2.1): the Llama block with biased q/k/v/o (attention_bias, true by default), one learned
    sink logit per query head, and every layer MoE: a biased router (E x h + E) picking num_experts_per_tok of
    num_local_experts experts, each a clamped SwiGLU of intermediate_size with biases on both projections.
    GptOssConfig's defaults where the file leaves a field out: 8 KV heads, head_dim 64, 128 experts, top-4, window
    128 on the even layers (layer_types); its strict dataclass rejects a null KV-head count or head_dim, and so does
    this reader."""
    for key in ("num_key_value_heads", "head_dim"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a number")
    heads = r.int("num_attention_heads")
    bias = r.flag("attention_bias", True)
    experts = r.int("num_local_experts", "num_experts", default=128)
    top_k = r.int("num_experts_per_tok", default=4)
    # OpenAI's own field for top-k, which GptOssConfig does not read: accepted only where it agrees
    r.expect("experts_per_token", top_k, mt)
    r.number("swiglu_alpha")  # the experts' clamped SwiGLU: elementwise scalars, no parameter, no matmul
    r.number("swiglu_limit")
    r.get("initial_context_length")  # the reference code's YaRN base context: no parameter
    return dict(hidden_size=r.int("hidden_size"), num_layers=r.int("num_hidden_layers"), num_attention_heads=heads,
                vocab_size=r.int("vocab_size"), ffn_hidden_size=r.int("intermediate_size"),
                num_kv_heads=r.int("num_key_value_heads", default=_MB_CLASS_DEFAULTS[mt]["num_key_value_heads"]),
                head_dim=r.int("head_dim", default=64),
                qkv_bias=bias, o_bias=bias, num_experts=experts, top_k=top_k, router_bias=True, expert_bias=True,
                attention_sinks=True, clamped_swiglu=True, gguf_arch="gpt-oss",
                norm_fp32_scale=True,  # GptOssRMSNorm multiplies by its weight in fp32, then casts back
                softmax_fp32=False)  # eager_attention_forward's softmax keeps the logits' dtype


def _mb_read_gemma4_text(r: _MBFields, mt: str) -> dict:
    """Gemma 4's language model (transformers 5.23 configuration_gemma4.py Gemma4TextConfig, modeling_gemma4.py
    Gemma4TextModel): Gemma 3's block (four RMSNorms per layer, q/k RMSNorm over the head, GeGLU, tied head by
    default, final-logit soft-capping) with

    * per-layer attention shapes: a sliding layer has num_key_value_heads heads of head_dim (256); a full layer
      (layer_types; by default every 6th and always the last) heads of global_head_dim (512), and with
      attention_k_eq_v num_global_key_value_heads KV heads (else num_key_value_heads) and no v_proj, its values
      being k_proj's output (Gemma4TextConfig.__post_init__ per_layer_config; Gemma4TextAttention);
    * KV sharing: the last num_kv_shared_layers layers build no k_proj, v_proj or k_norm and reuse the K/V of the
      last earlier layer of their kind (kv_sharing_modes), caching nothing; with use_double_wide_mlp their MLPs are
      twice intermediate_size wide;
    * per-layer input embeddings (PLE), with p = hidden_size_per_layer_input (256 by default; 0: none): a table of
      vocab_size_per_layer_input x (layers x p) looked up per token, per_layer_model_projection (h -> layers x p) and
      its RMSNorm (p), and in each layer a gate (h -> p), a projection (p -> h) and an RMSNorm (h);
    * with enable_moe_block, beside every layer's dense MLP a router (proj E x h, scale h, per_expert_scale E), E
      experts of moe_intermediate_size, top_k_experts per token, and three more RMSNorms (_mb_gemma4_moe_block).

    The multimodal wrapper's use_bidirectional_attention "vision" changes the mask of image tokens only (text-only
    counts are unchanged); "all" (no causal mask, a halved window) is refused."""
    layers = r.int("num_hidden_layers", default=30)
    if layers > MODEL_MAX_LAYERS:
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if "per_layer_config" in r.raw:
        raise InputError(f"{r.where}: field 'per_layer_config' (explicit per-layer attention shapes) is not modelled "
                         f"for model_type '{mt}'; refusing rather than guessing")
    bidirectional = r.get("use_bidirectional_attention")[1]
    if bidirectional not in (None, "vision"):
        raise InputError(f"{r.where}: field 'use_bidirectional_attention' {bidirectional!r:.20} is not modelled for "
                         f"model_type '{mt}' (only null or 'vision'); refusing rather than guessing")
    # Gemma4TextConfig is a strict dataclass: these fields must be numbers / booleans, null is rejected
    for key in ("num_key_value_heads", "head_dim", "global_head_dim", "vocab_size_per_layer_input", "vocab_size",
                "hidden_size_per_layer_input", "num_kv_shared_layers", "hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "sliding_window", "attention_k_eq_v", "enable_moe_block",
                "use_double_wide_mlp", "attention_bias", "tie_word_embeddings"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a value")
    heads = r.int("num_attention_heads", default=8)
    kv = r.int("num_key_value_heads", default=4)
    head_dim, global_dim = r.int("head_dim", default=256), r.int("global_head_dim", default=512)
    k_eq_v = r.flag("attention_k_eq_v", False)
    global_kv = r.int("num_global_key_value_heads", default=kv) if k_eq_v else kv
    if not k_eq_v:
        r.get("num_global_key_value_heads")  # read by the class only with attention_k_eq_v
    types = _mb_type_list(r, "layer_types", ("full_attention", "sliding_attention"), layers)
    if types is None:  # Gemma4TextConfig.__post_init__: 5 sliding : 1 full (sliding_window_pattern is not read)
        types = ["sliding_attention" if (i + 1) % 6 else "full_attention" for i in range(layers)]
    types = list(types[:-1]) + ["full_attention"]  # the class forces the last layer to full attention
    r.get("sliding_window_pattern")  # some published files carry it; Gemma4TextConfig does not read it
    window = r.int("sliding_window", default=512)
    shared = r.int("num_kv_shared_layers", default=0, minimum=0)
    ple = r.int("hidden_size_per_layer_input", default=256, minimum=0)  # 0: no PLE
    ple_vocab = r.int("vocab_size_per_layer_input", default=262_144)
    layer_types = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
    bias = r.flag("attention_bias", False)
    v = dict(hidden_size=r.int("hidden_size", default=2304), num_layers=layers, num_attention_heads=heads,
             vocab_size=r.int("vocab_size", default=262_144), ffn_hidden_size=r.int("intermediate_size", default=9216),
             num_kv_heads=global_kv, head_dim=global_dim, qkv_bias=bias, o_bias=bias, norms_per_layer=4,
             qk_norm="head", norm_fp32_scale=True, gguf_arch="gemma4", full_k_eq_v=k_eq_v, kv_shared_layers=shared,
             double_wide_shared_mlp=r.flag("use_double_wide_mlp", False), per_layer_input_size=ple,
             per_layer_vocab=ple_vocab if ple else 0)
    if "sliding" in layer_types:
        v.update(sliding_window=window, layer_types=layer_types, sliding_kv_heads=kv, sliding_head_dim=head_dim)
    if r.flag("enable_moe_block", False):
        v.update(num_experts=r.int("num_experts"), top_k=r.int("top_k_experts"),
                 moe_ffn_hidden_size=r.int("moe_intermediate_size"), moe_beside_mlp=True)
    else:  # the expert fields build nothing without the MoE block
        r.get("num_experts", "top_k_experts", "moe_intermediate_size")
        r.get("top_k_experts")
        r.get("moe_intermediate_size")
    # the published files carry expert_intermediate_size (null), which Gemma4TextConfig does not read: accepted null
    # or equal to what the experts are built with, refused otherwise
    r.expect("expert_intermediate_size", v.get("moe_ffn_hidden_size") or None, mt) \
        if v.get("moe_ffn_hidden_size") else r.expect("expert_intermediate_size", None, mt)
    r.number("final_logit_softcapping")  # tanh on the logits: no parameter, no matmul
    return v


def _mb_read_lfm2(r: _MBFields, mt: str) -> dict:
    """LFM2 (transformers 5.23 configuration_lfm2.py / modeling_lfm2.py; LiquidAI's LFM2 model cards): each layer
    a short convolution ("conv": Lfm2ShortConv, in_proj h -> 3h giving B, C, x; a depthwise causal conv of
    conv_L_cache taps over B*x; C times it; out_proj h -> h; biases by conv_bias) or GQA attention with q/k RMSNorm
    over head_dim and an out_proj, as layer_types says, else attention on full_attn_idxs (every layer when that is
    null too); then an RMSNorm'd SwiGLU (w1, w3, w2) of the adjusted width: block_ff_dim (else intermediate_size),
    with block_auto_adjust_ff_dim int(2 f / 3), times block_ffn_dim_multiplier, rounded up to block_multiple_of
    (Lfm2MLP).  Two RMSNorms a layer (operator_norm, ffn_norm) and one after the last layer (embedding_norm); the
    head tied (tie_embedding, else tie_word_embeddings, true by default).  The hub file's own fields that transformers
    does not read (block_dim, conv_dim, conv_dim_out, num_heads, block_use_swiglu, use_pos_enc) are accepted where
    they describe that model and refused where they do not."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        raise InputError(f"{r.where}: field 'num_key_value_heads' is null, which transformers' {mt} config does not "
                         "accept; give a number")
    types = _mb_type_list(r, "layer_types", ("full_attention", "conv"), layers)
    attention_at = r.get("full_attn_idxs")[1]
    if types is None:
        if attention_at is not None and (not isinstance(attention_at, list) or any(
                isinstance(i, bool) or not isinstance(i, int) for i in attention_at)):
            raise InputError(f"{r.where}: field 'full_attn_idxs' must be a list of layer indices, got "
                             f"{attention_at!r:.60}")
        chosen = set(range(layers)) if attention_at is None else set(attention_at)
        types = ["full_attention" if i in chosen else "conv" for i in range(layers)]
    width = r.int("block_ff_dim") if not r.absent("block_ff_dim") else r.int("intermediate_size", default=12288)
    r.get("intermediate_size")  # block_ff_dim, when given, replaces it (Lfm2Config pops it into intermediate_size)
    if r.flag("block_auto_adjust_ff_dim", True):  # Lfm2MLP's arithmetic, float for float
        width = int(2 * width / 3)
        if "block_ffn_dim_multiplier" in r.raw and r.raw["block_ffn_dim_multiplier"] is None:
            raise InputError(f"{r.where}: field 'block_ffn_dim_multiplier' is null, which transformers' {mt} config "
                             "does not accept; give a number")
        multiplier = r.number("block_ffn_dim_multiplier", 1.0)
        multiple = r.int("block_multiple_of", default=256)
        width = multiple * ((int(multiplier * width) + multiple - 1) // multiple)
    else:
        r.get("block_ffn_dim_multiplier")
        r.get("block_multiple_of")
    if width < 1:
        raise InputError(f"{r.where}: the MLP width Lfm2MLP derives from block_ff_dim / intermediate_size is {width}")
    for key in ("block_dim", "conv_dim", "conv_dim_out"):
        r.expect(key, hidden, mt)
    r.expect("num_heads", heads, mt)
    r.expect("block_use_swiglu", True, mt)
    r.expect("use_pos_enc", True, mt)
    for key in ("block_norm_eps", "block_mlp_init_scale", "block_out_init_scale"):
        r.number(key)  # an epsilon and initialisation scales: no parameter
    for key in ("block_use_xavier_init", "conv_use_xavier_init"):
        r.flag(key, True)  # initialisation only
    mixers = tuple("conv" if t == "conv" else "attention" for t in types)
    return dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
                num_kv_heads=r.int("num_key_value_heads", default=8), head_dim=r.int("head_dim", default=0),
                ffn_hidden_size=width, qk_norm="head", gguf_arch="lfm2", mixer_types=mixers if "conv" in mixers else (),
                short_conv_kernel=r.int("conv_L_cache", default=3), short_conv_bias=r.flag("conv_bias", False))


_MB_NEMOTRON_H_BLOCKS = {"M": "linear", "*": "attention", "-": "mlp", "E": "moe"}  # hybrid_override_pattern
# NemotronHConfig's layers_block_type names, with the legacy ones remap_legacy_layer_types turns into them
_MB_NEMOTRON_H_TYPES = {"linear_attention": "linear", "mamba": "linear", "full_attention": "attention",
                        "attention": "attention", "mlp": "mlp", "moe": "moe"}


def _mb_read_nemotron_h(r: _MBFields, mt: str) -> dict:
    """Nemotron-H (transformers 5.23 configuration_nemotron_h.py / modeling_nemotron_h.py; NVIDIA, "Nemotron-H: A
    Family of Accurate and Efficient Hybrid Mamba-Transformer Models", arXiv:2504.03624): every layer
    (NemotronHBlock) is one RMSNorm and ONE block, named per layer by layers_block_type (alias layer_types; legacy
    "mamba" / "attention" remapped), else by hybrid_override_pattern (M Mamba-2, * attention, - MLP, E MoE), else
    the class default [Mamba-2, MoE, attention, MLP]; num_hidden_layers is ignored (the list's length wins).

    * attention (NemotronHAttention): q/k/v/o without bias whatever attention_bias says, num_key_value_heads (8;
      null: as many as the heads) heads of head_dim (128), no rotary embedding (no count changes);
    * Mamba-2 (NemotronHMamba2Mixer, Bamba's mixer): mamba_num_heads (128) x mamba_head_dim (64) wide, n_groups
      (8) groups of B and C of ssm_state_size (128), conv kernel conv_kernel (4) biased by use_conv_bias (true),
      in_proj / out_proj biased by use_bias (false; mamba_proj_bias and expand are not read), chunk_size (128);
      the legacy names mamba_n_groups / mamba_d_conv / mamba_conv_bias / mamba_chunk_size win when given;
    * MLP (NemotronHMLP): up_proj -> relu^2 -> down_proj of intermediate_size (21504), biased by mlp_bias;
    * MoE (NemotronHMoE): a sigmoid router (n_routed_experts, h) with a score-correction bias (a buffer), stacked
      ungated experts up_proj (E, moe_intermediate_size, h) / down_proj, top num_experts_per_tok, and ONE shared
      NemotronHMLP of moe_shared_expert_intermediate_size (n_shared_experts is not read);
    * one final RMSNorm (norm_f) and an untied LM head: NemotronHForCausalLM ties nothing (_tied_weights_keys is
      empty), so a file asking for a tied head is refused rather than counted either way.
    Refused: moe_latent_size (latent expert projections), a sliding window.  num_nextn_predict_layers: a note (the
    MTP layers are not built)."""
    types = r.get("layers_block_type", "layer_types")[1]
    if types is not None:
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and t in _MB_NEMOTRON_H_TYPES
                                                                 for t in types):
            raise InputError(f"{r.where}: field 'layers_block_type' must list 'mamba' / 'linear_attention', "
                             f"'attention' / 'full_attention', 'mlp' or 'moe' per layer, got {types!r:.80}")
        blocks = [_MB_NEMOTRON_H_TYPES[t] for t in types]
        r.get("hybrid_override_pattern")  # the class ignores it when the list is given
    else:
        pattern = r.get("hybrid_override_pattern")[1]
        if pattern is None:
            blocks = ["linear", "moe", "attention", "mlp"]  # NemotronHConfig's default layers_block_type
        elif not isinstance(pattern, str) or not pattern or set(pattern) - set(_MB_NEMOTRON_H_BLOCKS):
            raise InputError(f"{r.where}: field 'hybrid_override_pattern' must be a string of M (Mamba-2), "
                             f"* (attention), - (MLP) and E (MoE), got {pattern!r:.80}")
        else:
            blocks = [_MB_NEMOTRON_H_BLOCKS[c] for c in pattern]
    if len(blocks) > MODEL_MAX_LAYERS:
        raise InputError(f"{r.where}: {len(blocks)} layers is beyond {MODEL_MAX_LAYERS:,}")
    r.get("num_hidden_layers")  # deprecated: the class derives the depth from the layer list
    heads = r.int("num_attention_heads", default=32)
    # absent: the class's 8; an explicit null: as many as the query heads (NemotronHConfig.__post_init__)
    kv = heads if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None else \
        r.int("num_key_value_heads", default=8)
    head_dim = r.int("head_dim", default=128)
    r.expect("attention_head_dim", head_dim, mt)  # the hub files' own name; the class reads head_dim
    r.get("attention_bias")  # NemotronHAttention builds q/k/v/o without bias whatever it says
    r.expect("sliding_window", None, mt)
    if r.flag("tie_word_embeddings", False):
        raise InputError(f"{r.where}: field 'tie_word_embeddings' true is not modelled for nemotron_h "
                         "(transformers 5.23 NemotronHForCausalLM ties nothing and builds an untied head)")
    if r.get("moe_latent_size")[1] is not None:
        raise InputError(f"{r.where}: field 'moe_latent_size' (latent expert projections) is not modelled for "
                         "nemotron_h; refusing rather than guessing")
    r.expect("n_shared_experts", 1, mt)  # NemotronHMoE builds one shared MLP whatever it says
    for key in ("mamba_hidden_act", "mlp_hidden_act", "mamba_ssm_cache_dtype"):
        r.text(key)  # activations (elementwise) and a serving engine's state dtype: transformers keeps fp32
    for key in ("expand", "mamba_expand", "mamba_proj_bias", "time_step_min", "time_step_max", "time_step_limit",
                "time_step_floor", "mamba_dt_min", "mamba_dt_max", "mamba_dt_limit", "mamba_dt_init_floor",
                "use_mamba_kernels", "num_logits_to_keep", "residual_in_fp32", "rescale_prenorm_residual",
                "moe_shared_expert_overlap", "mtp_layers_block_type", "mtp_hybrid_override_pattern",
                "num_nextn_predict_layers"):
        r.get(key)  # not read by the modules transformers builds (widths come from the heads), or runtime only
    moe_layers = [i for i, b in enumerate(blocks) if b == "moe"]
    v = dict(hidden_size=r.int("hidden_size", default=4096), num_layers=len(blocks), num_attention_heads=heads,
             vocab_size=r.int("vocab_size", default=131072), num_kv_heads=kv, head_dim=head_dim,
             ffn_hidden_size=r.int("intermediate_size", default=21504), gated_mlp=False,
             mlp_bias=r.flag("mlp_bias", False), norms_per_layer=1, norm_fp32_scale=True,
             position_embedding="none", single_block_layers=True, gguf_arch="nemotron_h",
             mixer_types=tuple({"linear": "linear", "attention": "attention"}.get(b, "none") for b in blocks),
             ssm_kind="mamba2" if "linear" in blocks else "",
             mamba_num_heads=r.int("mamba_num_heads", default=128), mamba_head_dim=r.int("mamba_head_dim", default=64),
             mamba_n_groups=r.int("mamba_n_groups", "n_groups", default=8),
             mamba_d_state=r.int("ssm_state_size", default=128), mamba_d_conv=r.int("mamba_d_conv", "conv_kernel",
                                                                                   default=4),
             mamba_chunk_size=r.int("mamba_chunk_size", "chunk_size", default=128),
             mamba_conv_bias=r.flag("mamba_conv_bias" if "mamba_conv_bias" in r.raw else "use_conv_bias", True),
             mamba_proj_bias=r.flag("use_bias", False))
    if "mamba_conv_bias" in r.raw:
        r.get("use_conv_bias")
    experts = r.int("n_routed_experts", "num_local_experts", default=8) if moe_layers else 0
    width = r.int("moe_intermediate_size", default=7688) if moe_layers else 0
    shared = r.int("moe_shared_expert_intermediate_size", default=7688) if moe_layers else 0
    top_k = r.int("num_experts_per_tok", default=2) if moe_layers else 0
    for key in ("n_routed_experts", "num_local_experts", "moe_intermediate_size", "moe_shared_expert_intermediate_size",
                "num_experts_per_tok"):
        r.get(key)  # without an MoE layer the class builds no expert
    if moe_layers:
        v.update(num_experts=experts, top_k=top_k, moe_ffn_hidden_size=width, num_shared_experts=1,
                 shared_expert_ffn_size=shared, router_score_correction_bias=True,
                 dense_layers=tuple(i for i in range(len(blocks)) if i not in set(moe_layers)))
    return v


def _mb_read_falcon_h1(r: _MBFields, mt: str) -> dict:
    """Falcon-H1 (transformers 5.23 configuration_falcon_h1.py / modeling_falcon_h1.py; TII, "Falcon-H1: A Family of
    Hybrid-Head Language Models", arXiv:2507.22448): every layer (FalconH1DecoderLayer) normalises its input once
    (input_layernorm) and runs a Mamba-2 mixer and GQA attention side by side on it, sums them into the residual,
    then a pre-normed SwiGLU MLP (pre_ff_layernorm; gate/up/down of intermediate_size, biased by mlp_bias); a final
    RMSNorm; the head tied by tie_word_embeddings (false by default).

    * attention: num_key_value_heads (8; null: as many as the heads), head_dim from the file (the class has no such
      field; FalconH1Attention reads it when present), else hidden / heads; q/k/v/o biased by attention_bias; rotary;
    * Mamba-2 (FalconH1Mixer): width mamba_d_ssm (1024; null: mamba_expand x hidden) in mamba_n_heads (128) heads of
      mamba_d_head ("auto": width / heads; FalconH1Config.validate_architecture refuses heads x head width other than
      the width), mamba_n_groups (1) groups of B and C of mamba_d_state (256), conv kernel mamba_d_conv (4) biased by
      mamba_conv_bias (true), in_proj biased by mamba_proj_bias (false), out_proj by projectors_bias (false), the
      gated RMSNorm over the width only with mamba_rms_norm (false; else silu(z) gates the scan, elementwise), the
      torch scan's chunk mamba_chunk_size (256);
    * the muP multipliers (embedding_multiplier, lm_head_multiplier, key_multiplier, attention_in/out_multiplier,
      ssm_in/out_multiplier, mlp_multipliers, ssm_multipliers as the mixer's mup_vector buffer, not persistent) scale
      activations elementwise: no parameter, no counted FLOP, no cached byte; read and checked, nothing else.
    The hub files' own mamba_use_mlp (the MLP is always built: only true accepted) and attn_layer_indices (every
    layer attends: only null accepted) are not read by the class.  Refused: a sliding window."""
    h, heads = r.int("hidden_size", default=4096), r.int("num_attention_heads", default=32)
    layers = r.int("num_hidden_layers", default=32)
    if layers > MODEL_MAX_LAYERS:
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    kv = heads if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None else \
        r.int("num_key_value_heads", default=8)
    expand = r.int("mamba_expand", default=2)
    width = expand * h if "mamba_d_ssm" in r.raw and r.get("mamba_d_ssm")[1] is None else \
        r.int("mamba_d_ssm", default=1024)
    m_heads = r.int("mamba_n_heads", default=128)
    _, head_dim = r.get("mamba_d_head")
    if head_dim is None or head_dim == "auto":
        head_dim = width // m_heads
    elif isinstance(head_dim, bool) or not isinstance(head_dim, int) or not 1 <= head_dim <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'mamba_d_head' must be a positive integer or \"auto\", got "
                         f"{head_dim!r:.60}")
    if width % m_heads or head_dim * m_heads != width:  # FalconH1Config.validate_architecture
        raise InputError(f"{r.where}: fields 'mamba_n_heads' {m_heads} x 'mamba_d_head' {head_dim} must equal the "
                         f"Mamba-2 width {width} ('mamba_d_ssm', else 'mamba_expand' x 'hidden_size'), as "
                         "FalconH1Config requires")
    r.expect("mamba_use_mlp", True, mt)
    r.expect("attn_layer_indices", None, mt)
    r.expect("sliding_window", None, mt)
    for key in ("lm_head_multiplier", "embedding_multiplier", "key_multiplier", "attention_out_multiplier",
                "attention_in_multiplier", "ssm_in_multiplier", "ssm_out_multiplier"):
        r.number(key, 1.0)
    for key, size in (("mlp_multipliers", 2), ("ssm_multipliers", 5)):
        value = r.get(key)[1]
        if value is not None and (not isinstance(value, list) or len(value) != size or any(
                isinstance(x, bool) or not isinstance(x, (int, float)) for x in value)):
            raise InputError(f"{r.where}: field '{key}' must be a list of {size} numbers, got {value!r:.60}")
    r.flag("mamba_norm_before_gate", True)  # where the gate meets the norm: elementwise either way
    for key in ("time_step_limit", "num_logits_to_keep"):
        r.get(key)  # the dt clamp and the logits kept at generation: no count, no matmul
    return dict(hidden_size=h, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size",
                                                                                               default=128000),
                num_kv_heads=kv, head_dim=r.int("head_dim", default=0),
                ffn_hidden_size=r.int("intermediate_size", default=14336), qkv_bias=r.flag("attention_bias", False),
                o_bias=r.flag("attention_bias", False), mlp_bias=r.flag("mlp_bias", False), gguf_arch="falcon-h1",
                parallel_ssm=True, ssm_kind="mamba2", mamba_num_heads=m_heads, mamba_head_dim=head_dim,
                mamba_n_groups=r.int("mamba_n_groups", default=1), mamba_d_state=r.int("mamba_d_state", default=256),
                mamba_d_conv=r.int("mamba_d_conv", default=4), mamba_chunk_size=r.int("mamba_chunk_size", default=256),
                mamba_conv_bias=r.flag("mamba_conv_bias", True), mamba_proj_bias=r.flag("mamba_proj_bias", False),
                mamba_out_proj_bias=r.flag("projectors_bias", False),
                mamba_gated_norm=r.flag("mamba_rms_norm", False))
def _mb_read_jamba(r: _MBFields, mt: str) -> dict:
    """JambaConfig (transformers 5.23 configuration_jamba.py, modeling_jamba.py; Lieber et al. 2024, arXiv:2403.19887):
    layer i is attention when i % attn_layer_period == attn_layer_offset (8, 4) and a Mamba-1 mixer otherwise
    (layers_block_type); its feed-forward is a sparse MoE block when i % expert_layer_period == expert_layer_offset
    (2, 1) and num_experts (16) > 1 (layers_num_experts), a SwiGLU JambaMLP of intermediate_size otherwise.  The MoE
    block: a bias-free router (num_experts, h), softmax top-num_experts_per_tok (2) weights left unnormalised, experts
    of intermediate_size, no shared expert.  Attention: JambaAttention, no biases, no positional encoding at all,
    head_dim hidden / heads (a head_dim field, which getattr would read, too), 8 KV heads by default.  The mixer:
    inner d = mamba_expand (2) x hidden, state mamba_d_state (16), conv kernel mamba_d_conv (4) with a bias
    (mamba_conv_bias, true), dt rank mamba_dt_rank ("auto": ceil(hidden / 16)), in/out projections biased by
    mamba_proj_bias (false), RMSNorms on dt, B and C.  Two RMSNorms a layer and a final one; untied head by default.
    use_mamba_kernels / use_mambapy / use_associative_scan pick how the scan runs, not what it computes (the same
    matmuls: calc_transformer_flops.py's mamba1_flops)."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        kv = heads  # JambaConfig.__post_init__: a null KV-head count is as many as query heads
        r.get("num_key_value_heads")
    else:
        kv = r.int("num_key_value_heads", default=8)
    periods = {}
    for period, offset, default in (("attn_layer_period", "attn_layer_offset", (8, 4)),
                                    ("expert_layer_period", "expert_layer_offset", (2, 1))):
        every, first = r.int(period, default=default[0]), r.int(offset, default=default[1], minimum=0)
        if first >= every:  # JambaConfig.validate_architecture
            raise InputError(f"{r.where}: field '{offset}' {first} must be smaller than '{period}' {every}, as "
                             "JambaConfig requires")
        periods[period] = (every, first)
    attn_every, attn_first = periods["attn_layer_period"]
    expert_every, expert_first = periods["expert_layer_period"]
    mixers = tuple("attention" if i % attn_every == attn_first else "linear" for i in range(layers))
    experts = r.int("num_experts", "num_local_experts", default=16)
    top_k = r.int("num_experts_per_tok", default=2)
    moe = experts > 1 and any(i % expert_every == expert_first for i in range(layers))
    for key, built in (("layers_block_type", ["attention" if t == "attention" else "mamba" for t in mixers]),
                       ("layer_types", ["full_attention" if t == "attention" else "linear_attention" for t in mixers]),
                       ("layers_num_experts", [experts if i % expert_every == expert_first else 1
                                               for i in range(layers)])):
        _, found = r.get(key)  # properties of JambaConfig: a file may repeat them, never override them
        if found is not None and found != built:
            raise InputError(f"{r.where}: field '{key}' does not match what JambaConfig derives from the layer "
                             "periods and offsets; refusing rather than guessing")
    expand = r.int("mamba_expand", default=2)
    _, rank = r.get("mamba_dt_rank")
    if rank is None or rank == "auto":
        rank = -(-hidden // 16)  # math.ceil(hidden_size / 16)
    elif isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'mamba_dt_rank' must be a positive integer or \"auto\", got {rank!r:.60}")
    for key in ("use_mamba_kernels", "use_mambapy", "use_associative_scan"):
        r.flag(key, key != "use_mambapy")  # how the scan runs (kernels, pscan, associative scan): the same matmuls
    r.get("num_logits_to_keep")  # logits kept at generation: no count
    return dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
                num_kv_heads=kv, head_dim=r.int("head_dim", default=0), ffn_hidden_size=r.int("intermediate_size"),
                position_embedding="none", gguf_arch="jamba",
                num_experts=experts if moe else 0, top_k=top_k if moe else 0,
                expert_interval=expert_every, expert_interval_phase=(expert_every - expert_first) % expert_every,
                mixer_types=mixers if "linear" in mixers else (), ssm_kind="mamba1" if "linear" in mixers else "",
                mamba1_inner=expand * hidden, mamba_dt_rank=rank, mamba_bcdt_norms=True,
                mamba_d_state=r.int("mamba_d_state", default=16), mamba_d_conv=r.int("mamba_d_conv", default=4),
                mamba_conv_bias=r.flag("mamba_conv_bias", True), mamba_proj_bias=r.flag("mamba_proj_bias", False))


def _mb_read_ernie4_5_moe(r: _MBFields, mt: str) -> dict:
    """Ernie4_5_MoeConfig (transformers 5.23 configuration_ernie4_5_moe.py, modeling_ernie4_5_moe.py; Baidu's ERNIE
    4.5 technical report and model cards): the Llama block (GQA, head_dim hidden / heads unless the file gives one,
    RMSNorm, SwiGLU of intermediate_size) with use_bias (false) on q/k/v/o, the dense and shared MLPs and the LM head
    (Ernie4_5_MoeForCausalLM's lm_head = nn.Linear(h, V, bias=use_bias), a bias kept even with the tied head), a
    tied head by default; layer i is MoE when (i + 1) % moe_layer_interval (1) == 0 and moe_layer_start_index (1) <= i
    <= moe_layer_end_index (-1: the last layer): moe_num_experts (64) stacked SwiGLU experts of moe_intermediate_size
    (1536) without bias, top-moe_k (6) of a softmax router (E, h) held in fp32, moe_statics.e_score_correction_bias
    (1, E) an fp32 Parameter without gradient, and moe_num_shared_experts (2) shared experts fused into one SwiGLU of
    2 x moe_intermediate_size.  Paddle's own switches the class does not read are accepted where they describe that
    model (moe_gate "topk", use_rmsnorm true; moe_capacity and moe_use_aux_free change no tensor: the statics are
    built either way); num_nextn_predict_layers: MTP modules transformers does not build (a note)."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    bias = r.flag("use_bias", False)
    experts = r.int("moe_num_experts", "num_experts", default=64)
    top_k = r.int("moe_k", "num_experts_per_tok", default=6)
    start = r.int("moe_layer_start_index", default=1, minimum=0)
    _, end = r.get("moe_layer_end_index")
    end = layers - 1 if end is None or end == -1 else end  # Ernie4_5_MoeConfig.__post_init__
    if isinstance(end, bool) or not isinstance(end, int) or end < 0:
        raise InputError(f"{r.where}: field 'moe_layer_end_index' must be -1 or a layer index, got {end!r:.60}")
    interval = r.int("moe_layer_interval", default=1)
    moe_layers = [i for i in range(layers) if (i + 1) % interval == 0 and start <= i <= end]
    shared = r.int("moe_num_shared_experts", default=2, minimum=0)
    width = r.int("moe_intermediate_size", default=1536)
    r.expect("moe_gate", "topk", mt)
    r.expect("use_rmsnorm", True, mt)
    r.flag("moe_use_aux_free", True)  # Paddle's switch; transformers builds moe_statics whatever it says
    _, capacity = r.get("moe_capacity")  # Paddle's training capacity: transformers drops no token
    if capacity is not None and not isinstance(capacity, list):
        raise InputError(f"{r.where}: field 'moe_capacity' must be a list, got {capacity!r:.60}")
    r.number("moe_norm_min")
    r.number("multi_token_pred_lambda")
    v = dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
             num_kv_heads=heads if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None
             else r.int("num_key_value_heads", default=4), head_dim=r.int("head_dim", default=0),
             ffn_hidden_size=r.int("intermediate_size", default=12288), qkv_bias=bias, o_bias=bias, mlp_bias=bias,
             lm_head_bias=bias, gguf_arch="ernie4_5-moe")
    if moe_layers:
        v.update(num_experts=experts, top_k=top_k, moe_ffn_hidden_size=width, num_shared_experts=shared,
                 shared_expert_ffn_size=width if shared else 0, first_k_dense=start, expert_interval=interval,
                 expert_interval_phase=1, dense_layers=tuple(range(end + 1, layers)), router_fp32=True,
                 router_frozen_bias=True)
    return v


def _mb_one_per_layer(r: _MBFields, key: str, layers: int, default: int, minimum: int = 1) -> int:
    """A field that is an integer or a per-layer list (Hunyuan's moe_topk, moe_intermediate_size, num_shared_expert):
    its one value; a list must give it for every layer, the same each time (the block has one value per model)."""
    _, value = r.get(key)
    if isinstance(value, list):
        if len(value) < layers or len(set(map(repr, value[:layers]))) != 1:
            raise InputError(f"{r.where}: field '{key}' must give one value for each of the {layers} layers, the same "
                             f"each time (per-layer values are not modelled), got {value!r:.60}")
        value = value[0]
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field '{key}' must be an integer >= {minimum}, got {value!r:.60}")
    return value


def _mb_read_hunyuan_v1_moe(r: _MBFields, mt: str) -> dict:
    """HunYuanMoEV1Config (transformers 5.23 configuration_hunyuan_v1_moe.py, modeling_hunyuan_v1_moe.py; Tencent's
    Hunyuan-A13B model card): every layer HunYuanMoEV1Moe: a router nn.Linear(h, num_experts, bias=False,
    dtype=torch.float32) with softmax top-moe_topk weights renormalised, num_experts stacked SwiGLU experts of
    intermediate_size (HunYuanMoEV1Experts reads that, not moe_intermediate_size) and one shared SwiGLU (shared_mlp) of
    intermediate_size, none biased; attention with attention_bias on q/k/v/o and RMSNorms over head_dim on queries and
    keys (query_layernorm / key_layernorm, always built); two RMSNorms a layer, a final one; untied head by default.
    head_dim must be in the file: HunYuanMoEV1Attention takes getattr(config, "head_dim"), which the class leaves None
    (no model can be built without it).  The Hub file's own fields are accepted where they describe what transformers
    builds (attention_head_dim = head_dim; moe_intermediate_size = intermediate_size and num_shared_expert 1, for
    every layer; use_mixed_mlp_moe and use_qk_norm true, use_cla false, moe_layer_num_skipped 0, mlp_bias false) and
    refused otherwise; num_experts must be one integer (HunYuanMoEV1Experts cannot stack a per-layer list)."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if r.absent("head_dim") or r.raw["head_dim"] is None:
        raise InputError(f"{r.where}: field 'head_dim' is missing: transformers' HunYuanMoEV1Attention reads it "
                         "(attention_head_dim is not read) and builds no model without it")
    head_dim = r.int("head_dim")
    r.expect("attention_head_dim", head_dim, mt)
    width = r.int("intermediate_size", default=11008)
    if _mb_one_per_layer(r, "moe_intermediate_size", layers, width) != width:
        raise InputError(f"{r.where}: field 'moe_intermediate_size' differs from 'intermediate_size' {width}, which "
                         "transformers' HunYuanMoEV1Experts uses for every expert; refusing rather than guessing")
    if _mb_one_per_layer(r, "num_shared_expert", layers, 1) != 1:
        raise InputError(f"{r.where}: field 'num_shared_expert' is not 1: transformers builds one shared MLP a layer")
    for key, value in (("use_mixed_mlp_moe", True), ("use_qk_norm", True), ("use_cla", False),
                       ("moe_layer_num_skipped", 0), ("mlp_bias", False)):
        r.expect(key, value, mt)
    r.number("cla_share_factor")  # cross-layer attention's sharing factor, unused with use_cla false
    _, experts = r.get("num_experts", "num_local_experts")
    experts = 1 if experts is None else experts
    if isinstance(experts, bool) or not isinstance(experts, int) or not 1 <= experts <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'num_experts' must be one positive integer (HunYuanMoEV1Experts stacks "
                         f"that many for every layer), got {experts!r:.60}")
    kv = r.raw.get("num_key_value_heads")
    bias = r.flag("attention_bias", False)
    return dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
                num_kv_heads=heads if kv is None else r.int("num_key_value_heads"), head_dim=head_dim,
                ffn_hidden_size=width, qkv_bias=bias, o_bias=bias, qk_norm="head", gguf_arch="hunyuan-moe",
                num_experts=experts, top_k=_mb_one_per_layer(r, "moe_topk", layers, 1), moe_ffn_hidden_size=width,
                num_shared_experts=1, shared_expert_ffn_size=width, router_fp32=True)


def _mb_type_list(r: _MBFields, key: str, allowed: tuple, layers: int):
    """A per-layer list of names (layer_types, mlp_layer_types): None when absent or null."""
    value = r.get(key)[1]
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) and t in allowed for t in value):
        raise InputError(f"{r.where}: field '{key}' must list {' or '.join(map(repr, allowed))} per layer, "
                         f"got {value!r:.80}")
    if len(value) != layers:
        raise InputError(f"{r.where}: field '{key}' has {len(value)} entries for {layers} layers")
    return value


def _mb_hub_pattern(r: _MBFields, key: str, built: list, meaning: str) -> None:
    """MiMo's own per-layer 0/1 lists (hybrid_layer_pattern, moe_layer_freq), which MiMoV2FlashConfig does not read:
    accepted where they describe the layers transformers builds, refused where they would build another model."""
    value = r.get(key)[1]
    if value is not None and value != built:
        raise InputError(f"{r.where}: field '{key}' {value!r:.60} disagrees with the layers transformers' "
                         f"mimo_v2_flash builds ({meaning}); refusing rather than guessing")


def _mb_read_mimo_v2_flash(r: _MBFields, mt: str) -> dict:
    """MiMo-V2-Flash (transformers 5.23 configuration_mimo_v2_flash.py / modeling_mimo_v2_flash.py; Xiaomi's
    model card, 309B total / 15B active): the Llama block (RMSNorm, SwiGLU) with queries and keys of head_dim (192)
    and values of v_head_dim (128), so o_proj reads heads x v_head_dim; o_proj never has a bias, q/k/v one with
    attention_bias.  Full-attention layers (the first and every 6th, or layer_types) have num_key_value_heads
    KV heads; sliding layers twice as many and one learned sink logit per query head (MiMoV2FlashAttention:
    num_key_value_heads * 2 if is_swa), a window of sliding_window_size + 1 tokens where the hub file gives
    sliding_window_size (the SGLang reference attends to that many previous tokens plus the query), else
    sliding_window (129).  MLP per mlp_layer_types: "dense" (intermediate_size) for the first layer, "sparse"
    for the rest: n_routed_experts (256) experts of moe_intermediate_size (2048), top num_experts_per_tok (8), a
    sigmoid router with a score-correction bias (a buffer), no shared expert.  The hub file's own fields
    (hybrid_layer_pattern, moe_layer_freq, swa_*, add_*_attention_sink_bias) are not read by transformers: each is
    accepted where it describes the model transformers builds and refused where it does not.  The checkpoint's
    MTP modules are not built by transformers (ignored on load) and not counted."""
    for key in ("num_key_value_heads", "head_dim", "v_head_dim"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a number")
    layers = r.int("num_hidden_layers")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    heads = r.int("num_attention_heads")
    kv = r.int("num_key_value_heads", default=4)
    head_dim, v_dim = r.int("head_dim", default=192), r.int("v_head_dim", default=128)
    types = _mb_type_list(r, "layer_types", ("full_attention", "sliding_attention"), layers)
    if types is None:  # MiMoV2FlashConfig.__post_init__: full at layer 0 and every 6th layer
        types = ["full_attention" if i == 0 or not (i + 1) % 6 else "sliding_attention" for i in range(layers)]
    mlp = _mb_type_list(r, "mlp_layer_types", ("dense", "sparse"), layers)
    if mlp is None:
        mlp = ["dense"] + ["sparse"] * (layers - 1)
    _mb_hub_pattern(r, "hybrid_layer_pattern", [int(t == "sliding_attention") for t in types], "1 = sliding")
    _mb_hub_pattern(r, "moe_layer_freq", [int(t == "sparse") for t in mlp], "1 = experts")
    r.expect("swa_num_attention_heads", heads, mt)
    r.expect("swa_num_key_value_heads", 2 * kv, mt)
    r.expect("swa_head_dim", head_dim, mt)
    r.expect("swa_v_head_dim", v_dim, mt)
    r.expect("add_swa_attention_sink_bias", True, mt)
    r.expect("add_full_attention_sink_bias", False, mt)
    r.expect("use_qk_norm", False, mt)  # MiMoV2FlashConfig drops it: no q/k norm is built
    r.expect("mlp_bias", False, mt)  # its MLPs are built without biases whatever the file says
    shared = r.get("n_shared_experts")[1]
    if shared not in (None, 0):  # MiMoV2FlashMoE deletes DeepseekV3MoE's shared experts
        raise InputError(f"{r.where}: field 'n_shared_experts' {shared!r:.40} is not modelled for model_type "
                         f"'{mt}' (transformers builds no shared expert); refusing rather than guessing")
    if r.get("hybrid_block_size")[1] is not None:
        raise InputError(f"{r.where}: field 'hybrid_block_size' is not modelled for model_type '{mt}'")
    window = r.int("sliding_window", default=129)
    size = r.get("sliding_window_size")[1]
    if size is not None:
        window = r.int("sliding_window_size", minimum=0) + 1
    r.get("attention_chunk_size")  # hub-only: transformers' MiMo builds no chunked attention from it
    r.number("attention_value_scale")  # a scalar on the values: no parameter, no matmul
    r.number("swa_rope_theta")
    r.number("layernorm_epsilon")
    experts = r.int("n_routed_experts", "num_local_experts", default=256)
    bias = r.flag("attention_bias", False)
    sliding = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
    dense = tuple(i for i, t in enumerate(mlp) if t == "dense")
    v = dict(hidden_size=r.int("hidden_size"), num_layers=layers, num_attention_heads=heads,
             vocab_size=r.int("vocab_size"), ffn_hidden_size=r.int("intermediate_size", default=16384),
             num_kv_heads=kv, head_dim=head_dim, v_head_dim=v_dim, qkv_bias=bias, o_bias=False,
             softmax_fp32=False)  # its eager attention takes the softmax in the logits' dtype
    if "sliding" in sliding:
        v.update(sliding_window=window, layer_types=sliding, sliding_kv_heads=2 * kv, attention_sinks=True,
                 sinks_sliding_only=True)
    if len(dense) < layers:
        v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8),
                 moe_ffn_hidden_size=r.int("moe_intermediate_size", default=2048), dense_layers=dense,
                 expert_interval=1, expert_interval_phase=0, router_score_correction_bias=True)
    else:  # no "sparse" layer: the expert fields build nothing
        r.get("num_experts_per_tok")
        r.get("moe_intermediate_size")
    return v


# PretrainedConfig's own attributes, which transformers 4.x wrote into every nested sub-config it saved (DBRX's
# attn_config / ffn_config): no DBRX module reads them from a sub-config
_MB_NESTED_CONFIG_GENERIC = frozenset("""
return_dict output_hidden_states output_attentions torchscript torch_dtype dtype use_bfloat16 tf_legacy_loss
pruned_heads tie_word_embeddings chunk_size_feed_forward is_encoder_decoder is_decoder cross_attention_hidden_size
add_cross_attention tie_encoder_decoder max_length min_length do_sample early_stopping num_beams num_beam_groups
diversity_penalty temperature top_k top_p typical_p repetition_penalty length_penalty no_repeat_ngram_size
encoder_no_repeat_ngram_size bad_words_ids num_return_sequences output_scores return_dict_in_generate
forced_bos_token_id forced_eos_token_id remove_invalid_values exponential_decay_length_penalty suppress_tokens
begin_suppress_tokens architectures finetuning_task id2label label2id tokenizer_class prefix bos_token_id
pad_token_id eos_token_id sep_token_id decoder_start_token_id task_specific_params problem_type _name_or_path
transformers_version model_type
""".split())


def _mb_read_dbrx(r: _MBFields) -> dict:
    """DBRX (transformers 5.23 configuration_dbrx.py / modeling_dbrx.py): d_model, n_heads, n_layers at the top and
    two nested blocks.  attn_config: kv_n_heads (1 by default), clip_qkv (a clamp of the fused projection: no
    parameter, no matmul), rope_theta, attn_pdrop.  ffn_config: moe_num_experts (4), moe_top_k (1),
    ffn_hidden_size (3584), ffn_act_fn ({"name": "silu"}), router scalars.  Each layer: a bias-free LayerNorm, one
    fused Wqkv (h + 2 x KV heads x head_dim, h) and out_proj (h, h) without biases (head_dim = d_model / n_heads), a
    second bias-free LayerNorm, a bias-free router (E, h) and E SwiGLU experts stored fused as w1, v1, w2 of
    (E x ffn, h) each: 3 x E x ffn x h elements, as the stacked layout counts them.  A final bias-free LayerNorm and
    an untied head (DbrxConfig refuses tie_word_embeddings).  Any nested key other than these and PretrainedConfig's
    own is refused."""
    blocks = {}
    known = {"attn_config": {"kv_n_heads", "clip_qkv", "rope_theta", "attn_pdrop"},
             "ffn_config": {"moe_num_experts", "moe_top_k", "ffn_hidden_size", "ffn_act_fn", "moe_jitter_eps",
                            "moe_loss_weight", "moe_normalize_expert_weights", "uniform_expert_assignment",
                            "hidden_size"}}  # ffn_config.hidden_size: DbrxConfig overwrites it with d_model
    for name, keys in known.items():
        _, block = r.get(name)
        if block is not None and not isinstance(block, dict):
            raise InputError(f"{r.where}: field '{name}' must be a JSON object, got {block!r:.60}")
        block = block or {}
        for key in block:
            if key not in keys and key not in _MB_NESTED_CONFIG_GENERIC:
                raise InputError(f"{r.where}: field '{name}.{key}' is not modelled for model_type 'dbrx'; refusing "
                                 "rather than guessing")
        blocks[name] = _MBFields(block, f"{r.where} {name}")
    attn, ffn = blocks["attn_config"], blocks["ffn_config"]
    h, heads = r.int("d_model", default=2048), r.int("n_heads", default=16)
    if r.raw.get("tie_word_embeddings") is True:
        raise InputError(f"{r.where}: field 'tie_word_embeddings' true: DbrxConfig refuses a tied head")
    if h % heads:  # DbrxAttention: head_dim = d_model // n_heads, q of d_model rows: another width cannot run
        raise InputError(f"{r.where}: field 'd_model' {h} is not divisible by 'n_heads' {heads}")
    kv = attn.int("kv_n_heads", default=1)
    if heads % kv:
        raise InputError(f"{r.where}: field 'attn_config.kv_n_heads' {kv} does not divide 'n_heads' {heads}")
    attn.number("clip_qkv")
    attn.number("rope_theta")
    act = ffn.get("ffn_act_fn")[1]
    if act is not None and (not isinstance(act, dict) or act.get("name", "silu") != "silu" or set(act) - {"name"}):
        raise InputError(f"{r.where}: field 'ffn_config.ffn_act_fn' {act!r:.60} is not modelled (only "
                         "{'name': 'silu'}, DBRX's SwiGLU experts)")
    for key in ("moe_jitter_eps", "moe_loss_weight", "moe_normalize_expert_weights"):
        ffn.number(key)
    ffn.flag("uniform_expert_assignment", False)
    experts = ffn.int("moe_num_experts", default=4)
    dropout = max(r.number("emb_pdrop"), r.number("resid_pdrop"), attn.number("attn_pdrop")) > 0
    return dict(hidden_size=h, num_layers=r.int("n_layers", default=24), num_attention_heads=heads,
                vocab_size=r.int("vocab_size", default=32000), ffn_hidden_size=ffn.int("ffn_hidden_size", default=3584),
                num_kv_heads=kv, fused_qkv=True, norm="layernorm-nobias", num_experts=experts,
                top_k=ffn.int("moe_top_k", default=1), dropout=dropout, expert_rows_fused=True, gguf_arch="dbrx")


def _mb_read_glm4_moe(r: _MBFields, v: dict) -> None:
    """GLM-4.5 / GLM-4.6 (transformers 5.23 modeling_glm4_moe.py): the Llama block with q/k/v biased by
    attention_bias and o_proj never biased; q_norm / k_norm (RMSNorm over head_dim) when use_qk_norm; layers
    i >= first_k_dense_replace are MoE: a sigmoid router (Glm4MoeTopkRouter: an (E, h) weight and the
    e_score_correction_bias buffer), E stacked experts of moe_intermediate_size and one shared MLP of
    moe_intermediate_size x n_shared_experts.  Its MTP modules (num_nextn_predict_layers) are not built by
    transformers: the params script's --mtp-layers counts them as DeepSeek-V3's (report sec. 2.2 layout)."""
    defaults = _MB_CLASS_DEFAULTS["glm4_moe"]
    v.update(o_bias=False, gguf_arch="glm4moe")
    if r.flag("use_qk_norm", False):
        v["qk_norm"] = "head"
    experts = defaults["n_routed_experts"] if r.absent("n_routed_experts", "num_local_experts") else \
        r.int("n_routed_experts", "num_local_experts")  # Glm4MoeExperts of 0 experts is not a model
    v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8),
             moe_ffn_hidden_size=r.int("moe_intermediate_size", default=defaults["moe_intermediate_size"]),
             # 0 shared experts would still build a zero-width shared MLP (three empty tensors): refused
             num_shared_experts=r.int("n_shared_experts", default=1),
             first_k_dense=r.int("first_k_dense_replace", default=1, minimum=0), expert_interval_phase=0,
             router_score_correction_bias=True)
    r.get("num_nextn_predict_layers", "num_mtp_layers")  # MTP modules: a note, counted only with --mtp-layers


# DeepseekV32Config / GlmMoeDsaConfig (transformers 5.23) signature defaults where the file leaves a field out
_MB_DSA_DEFAULTS = {
    "deepseek_v32": dict(num_key_value_heads=128, q_lora_rank=1536, qk_nope_head_dim=128, v_head_dim=128,
                         index_n_heads=64),
    "glm_moe_dsa": dict(num_key_value_heads=64, q_lora_rank=2048, qk_nope_head_dim=192, v_head_dim=256,
                        index_n_heads=32),
}


def _mb_read_dsa(r: _MBFields, mt: str, v: dict) -> None:
    """DeepSeek-V3.2 (deepseek_v32) and GLM-5 (glm_moe_dsa), transformers 5.23 configuration_/modeling_deepseek_v32.py
    and _glm_moe_dsa.py.  Attention is MLA always with a q-LoRA (q_a_proj, q_a_layernorm, q_b_proj; a null or 0
    q_lora_rank is not a model these classes build), kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj (q_a,
    kv_a and o biased by attention_bias), plus the DSA indexer (_mb_indexer: index_n_heads, index_head_dim;
    index_topk keys per query).  The MLP of layer i is dense when mlp_layer_types[i] is "dense" (by default the first
    first_k_dense_replace layers, 3), else a sigmoid router (an (E, h) weight and the e_score_correction_bias buffer),
    E stacked experts of moe_intermediate_size and one shared MLP of moe_intermediate_size x n_shared_experts.
    head_dim is overwritten by the class (qk_rope_head_dim), qk_head_dim is nope + rope; num_key_value_heads only
    sets how often eager attention repeats the already per-head keys, so anything but num_attention_heads cannot
    run.  GLM-5's indexer_types "shared" layers (GLM-5.2's IndexShare: no indexer, the previous layer's top-k reused)
    are refused, not modelled.  MTP modules (num_nextn_predict_layers) are not built by transformers; the params
    script's --mtp-layers counts them as DeepSeek-V3 lays one out (their layer has an indexer: the checkpoints'
    layer 61 / 78)."""
    defaults = _MB_DSA_DEFAULTS[mt]
    heads = v["num_attention_heads"]
    kv = defaults["num_key_value_heads"] if r.absent("num_key_value_heads") else r.int("num_key_value_heads")
    if kv != heads:
        raise InputError(f"{r.where}: field 'num_key_value_heads' {kv} differs from 'num_attention_heads' {heads}: "
                         f"{mt}'s eager attention repeats its per-head keys heads / num_key_value_heads times, which "
                         "cannot run; give num_key_value_heads = num_attention_heads")
    if not r.absent("q_lora_rank") and r.raw["q_lora_rank"] is None:
        raise InputError(f"{r.where}: field 'q_lora_rank' is null, which {mt}'s attention (always a q-LoRA) does not "
                         "build; give its rank")
    nope, rope = r.int("qk_nope_head_dim", default=defaults["qk_nope_head_dim"]), r.int("qk_rope_head_dim", default=64)
    r.expect("qk_head_dim", nope + rope, mt)  # the class sets nope + rope whatever the file says
    r.get("head_dim")  # overwritten with qk_rope_head_dim by the class
    v.update(q_lora_rank=r.int("q_lora_rank", default=defaults["q_lora_rank"]),
             kv_lora_rank=r.int("kv_lora_rank", default=512), qk_nope_head_dim=nope, qk_rope_head_dim=rope,
             v_head_dim=r.int("v_head_dim", default=defaults["v_head_dim"]), head_dim=0, num_kv_heads=0,
             index_n_heads=r.int("index_n_heads", default=defaults["index_n_heads"]),
             index_head_dim=r.int("index_head_dim", default=128), index_topk=r.int("index_topk", default=2048),
             gguf_arch=mt)
    for key in ("rope_interleave", "indexer_rope_interleave"):  # RoPE layouts: no count
        r.flag(key, True)
    _mb_moe_layer_freq(r)  # not read by these classes; DeepSeek's own code would place experts otherwise
    experts = 256 if r.absent("n_routed_experts", "num_local_experts", "num_experts") else         r.int("n_routed_experts", "num_local_experts", "num_experts")
    layers = v["num_layers"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    first = r.int("first_k_dense_replace", default=3, minimum=0)
    types = r.get("mlp_layer_types")[1]
    if types is None:
        dense = tuple(range(min(first, layers)))
    elif not isinstance(types, list) or len(types) != layers or set(types) - {"dense", "sparse"}:
        raise InputError(f"{r.where}: field 'mlp_layer_types' must list 'dense' or 'sparse' for each of the "
                         f"{layers} layers, got {types!r:.80}")
    else:
        dense = tuple(i for i, t in enumerate(types) if t == "dense")
    v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8),
             moe_ffn_hidden_size=r.int("moe_intermediate_size", default=2048),
             num_shared_experts=r.int("n_shared_experts", default=1), dense_layers=dense, first_k_dense=0,
             expert_interval_phase=0, router_score_correction_bias=True)
    r.get("num_nextn_predict_layers")  # MTP modules: a note, counted only with --mtp-layers
    _mb_read_index_share(r, mt, layers)


def _mb_read_index_share(r: _MBFields, mt: str, layers: int) -> None:
    """GlmMoeDsaConfig.__post_init__: indexer_types, else index_topk_pattern ("F" full, "S" shared), else layer i is
    "full" when max(i - index_skip_topk_offset + 1, 0) % index_topk_freq == 0 (freq 1, offset 2 by default: every
    layer full).  A "shared" layer has no indexer and reuses the previous full layer's top-k (GLM-5.2's IndexShare):
    not modelled, refused.  DeepseekV32Config reads none of these fields."""
    keys = ("indexer_types", "index_topk_pattern", "index_topk_freq", "index_skip_topk_offset")
    if mt != "glm_moe_dsa":
        for key in keys:
            r.expect(key, None, mt)
        return
    types, pattern = r.get("indexer_types")[1], r.get("index_topk_pattern")[1]
    freq, offset = r.int("index_topk_freq", default=1, minimum=0), r.int("index_skip_topk_offset", default=2,
                                                                         minimum=0)
    if types is None and pattern is not None:
        types = [{"F": "full", "S": "shared"}.get(c, c) for c in pattern] if isinstance(pattern, str) else pattern
        key = "index_topk_pattern"
    elif types is None:
        types = ["full" if max(i - offset + 1, 0) % max(freq, 1) == 0 else "shared" for i in range(layers)]
        key = "index_topk_freq"
    else:
        key = "indexer_types"
    if not isinstance(types, list) or len(types) != layers or set(types) - {"full", "shared"}:
        raise InputError(f"{r.where}: field '{key}' must give 'full' or 'shared' for each of the {layers} layers, "
                         f"got {types!r:.80}")
    if "shared" in types:
        raise InputError(f"{r.where}: field '{key}' makes {types.count('shared')} layers reuse another layer's top-k "
                         "without an indexer of their own (GLM-5.2's IndexShare); not modelled yet")


def _mb_read_minimax_m2(r: _MBFields, v: dict) -> None:
    """MiniMax-M2 (transformers 5.23 configuration_minimax_m2.py / modeling_minimax_m2.py): the Mixtral block with
    q/k/v/o never biased (MiniMaxM2Attention does not read attention_bias), q_norm / k_norm RMSNorms over the whole
    projection (heads x head_dim and KV heads x head_dim, before the split into heads: the published
    qk_norm_type "per_layer"), partial rotary (rotary_dim: no parameter); every layer MoE: a bias-free sigmoid router
    (E, h), the e_score_correction_bias buffer (E) on the MoE block and E stacked SwiGLU experts of intermediate_size,
    no shared expert.  MiniMaxM2Config: 8 KV heads, head_dim 128, 256 experts, top-8 when absent; its strict
    dataclass rejects a null KV-head count or head_dim, and so does this reader.

    The published file also carries MiniMax's own switches, which transformers does not read: accepted at the values
    transformers builds (use_qk_norm and use_routing_bias true, qk_norm_type "per_layer", shared_intermediate_size 0,
    attn_type_list all 1 = softmax attention, no sliding_window) and refused at any other; its multi-token-prediction
    modules (use_mtp, num_mtp_modules, mtp_transformer_layers) are not built by transformers: a note, not counted."""
    mt = "minimax_m2"
    for key in ("num_key_value_heads", "head_dim"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a number")
    r.expect("attention_bias", False, mt)
    r.expect("use_qk_norm", True, mt)
    r.expect("qk_norm_type", "per_layer", mt)
    r.expect("use_routing_bias", True, mt)
    r.expect("shared_intermediate_size", 0, mt)
    r.expect("sliding_window", None, mt)  # MiniMaxM2Model masks causally whatever the field says
    # MiniMax-01's per-layer 0 (lightning attention) or 1 (softmax attention); MiniMax's own code indexes it by layer
    _, kinds = r.get("attn_type_list")
    if kinds is not None and (not isinstance(kinds, list) or len(kinds) < v["num_layers"]
                              or any(k != 1 or isinstance(k, bool) for k in kinds)):
        raise InputError(f"{r.where}: field 'attn_type_list' {kinds!r:.60} is not modelled for model_type '{mt}' "
                         f"(only 1, softmax attention, for each of the {v['num_layers']} layers)")
    r.flag("use_mtp", False)
    r.int("num_mtp_modules", default=0, minimum=0)
    r.int("mtp_transformer_layers", default=0, minimum=0)
    r.number("rotary_dim")
    v.update(qkv_bias=False, o_bias=False, qk_norm="full", gguf_arch="minimax-m2",
             num_experts=r.int("num_local_experts", "num_experts", default=256),
             top_k=r.int("num_experts_per_tok", default=8), router_score_correction_bias=True)


def _mb_read_dots1(r: _MBFields, v: dict) -> None:
    """dots.llm1 (transformers 5.23 configuration_dots1.py / modeling_dots1.py): the Qwen3 attention (q/k/v/o biased
    by attention_bias, q_norm / k_norm RMSNorm over head_dim; head_dim from the file, else hidden / heads) and
    DeepSeek-V3's MoE: layers i >= first_k_dense_replace hold a sigmoid router (Dots1TopkRouter: an (E, h) weight and
    the e_score_correction_bias buffer), E stacked SwiGLU experts of moe_intermediate_size and one shared SwiGLU of
    moe_intermediate_size x n_shared_experts; the others a SwiGLU of intermediate_size.  Dots1Config leaves
    n_routed_experts, num_experts_per_tok and n_shared_experts None when absent, which its modules cannot build:
    each is required here (0 shared experts would build a zero-width shared MLP: refused, as for GLM-4.5).
    moe_layer_freq, which the class does not read, is accepted only at 1 (every layer past the dense ones)."""
    v.update(qk_norm="head", gguf_arch="dots1",
             num_experts=r.int("n_routed_experts", "num_local_experts"), top_k=r.int("num_experts_per_tok"),
             moe_ffn_hidden_size=r.int("moe_intermediate_size", default=1408),
             num_shared_experts=r.int("n_shared_experts"),
             first_k_dense=r.int("first_k_dense_replace", default=0, minimum=0), expert_interval=_mb_moe_layer_freq(r),
             expert_interval_phase=0, router_score_correction_bias=True)


def _mb_minimax_m2_mtp_note(raw: dict) -> list:
    """MiniMax-M2's config announces MTP modules (use_mtp, num_mtp_modules of mtp_transformer_layers layers) that
    transformers does not build: said, not counted (their layout is MiniMax's own, not DeepSeek-V3's)."""
    modules = raw.get("num_mtp_modules")
    if raw.get("use_mtp") is not True or not isinstance(modules, int) or isinstance(modules, bool) or modules < 1:
        return []
    return [f"num_mtp_modules = {modules} (use_mtp): MiniMax-M2's multi-token-prediction modules are not counted, as "
            "transformers does not build them"]


def _mb_read_seed_oss(r: _MBFields, v: dict) -> None:
    """Seed-OSS (modeling_seed_oss.py): the Llama block; q/k/v biased by attention_bias (true by default), o_proj by
    attention_out_bias (false), the MLP by mlp_bias (false).  SeedOssConfig: head_dim 128 and 8 KV heads when absent,
    hidden / heads and as many KV heads as query heads when null."""
    v.update(qkv_bias=r.flag("attention_bias", True), o_bias=r.flag("attention_out_bias", False),
             mlp_bias=r.flag("mlp_bias", False), gguf_arch="seed_oss")
    if r.absent("head_dim"):
        v["head_dim"] = 128
    if r.absent("num_key_value_heads"):
        v["num_kv_heads"] = 8


def _mb_read_olmoe(r: _MBFields, v: dict) -> None:
    """OLMoE (modeling_olmoe.py): every layer is MoE: a bias-free router (E, h) and E stacked SwiGLU experts of
    intermediate_size (OLMoE has no moe_intermediate_size), no shared expert; q_norm over hidden_size and k_norm over
    (hidden / heads) x KV heads.  OlmoeConfig: 64 experts, top-8 when absent."""
    h, heads = v["hidden_size"], v["num_attention_heads"]
    if v["head_dim"] and v["head_dim"] * heads != h:  # q_norm is built hidden_size wide: another width cannot run
        raise InputError(f"{r.where}: field 'head_dim' {v['head_dim']} is not hidden_size / num_attention_heads "
                         f"({h} / {heads}), which OLMoE's q_norm and k_norm assume; not modelled")
    r.expect("sliding_window", None, "olmoe")  # OlmoeConfig has no window; a value here is some other model's
    v.update(qk_norm="full", num_experts=64 if r.absent("num_experts") else r.int("num_experts"),
             top_k=r.int("num_experts_per_tok", default=8), gguf_arch="olmoe")


def _mb_read_cohere(r: _MBFields, mt: str, v: dict) -> None:
    """Command-R / Aya (cohere) and Command-R7B / Command-A (cohere2), modeling_cohere(2).py: one CohereLayerNorm
    (weight only, no bias) per layer feeding attention and MLP in parallel, a final one, biases on all four
    attention projections by attention_bias, a SwiGLU MLP without biases; logit_scale multiplies the logits (a
    scalar).  Cohere's use_qk_norm adds LayerNorms whose weights are (heads, head_dim) and (KV heads, head_dim)
    matrices (qk_norm "per-head": the elements of whole-projection norms, the shapes an optimizer factors).
    Cohere2Config sets head_dim to hidden / heads whatever the file says."""
    v.update(norm="layernorm-nobias", norms_per_layer=1, norm_placement="parallel", gguf_arch=mt)
    r.number("logit_scale")
    r.expect("layer_norm_bias", False, mt)  # no class reads it; CohereLayerNorm is built without a bias
    if mt == "cohere":
        v["qk_norm"] = "per-head" if r.flag("use_qk_norm", False) else "none"
    else:
        r.expect("use_qk_norm", False, mt)  # Cohere2Attention builds no q/k norm
        if v["head_dim"] and v["head_dim"] * v["num_attention_heads"] != v["hidden_size"]:
            raise InputError(f"{r.where}: field 'head_dim' {v['head_dim']} differs from hidden_size / "
                             "num_attention_heads, which transformers' Cohere2Config uses instead; not modelled")
        v["head_dim"] = 0


def _mb_read_nemotron(r: _MBFields, v: dict) -> None:
    """Nemotron-4 / Minitron (modeling_nemotron.py): LayerNorm1P (a LayerNorm with weight and bias; it normalises with
    weight + 1), a plain MLP up_proj -> relu^2 -> down_proj (no gate) biased by mlp_bias, attention biased by
    attention_bias; head_dim from the file, else hidden / heads."""
    if r.raw.get("num_key_value_heads") is None:  # NemotronConfig leaves it None and NemotronAttention then fails
        raise InputError(f"{r.where}: field 'num_key_value_heads' is missing or null, which transformers' nemotron "
                         "model cannot build; give the number of KV heads")
    v.update(gated_mlp=False, norm="layernorm", mlp_bias=r.flag("mlp_bias", False), gguf_arch="nemotron")


def _mb_read_smollm3(r: _MBFields, v: dict) -> None:
    """SmolLM3 (transformers 5.23 modeling_smollm3.py): the Llama block, q/k/v/o biased by attention_bias and the
    MLP by mlp_bias (both false by default), a tied head by default; 4 KV heads when the file leaves the count out
    (SmolLM3Config), as many as query heads when null.  Its NoPE layers (no_rope_layers, else every
    no_rope_layer_interval-th layer) skip the rotary embedding only: an elementwise rotation, no parameter and no
    matmul, so they change no count here; the list is checked (one 0/1 per layer) since the class indexes it."""
    v.update(mlp_bias=r.flag("mlp_bias", False), gguf_arch="smollm3")
    if r.absent("num_key_value_heads"):
        v["num_kv_heads"] = 4
    _, rope = r.get("no_rope_layers")
    if rope is None:
        r.int("no_rope_layer_interval", default=4)  # 0 would divide by zero in SmolLM3Config
    else:
        r.get("no_rope_layer_interval")  # the class reads the interval only without a list
    if rope is not None and (not isinstance(rope, list) or len(rope) < v["num_layers"] or
                             any(isinstance(x, bool) or x not in (0, 1) for x in rope)):
        raise InputError(f"{r.where}: field 'no_rope_layers' must list 1 (RoPE) or 0 (NoPE) for each of the "
                         f"{v['num_layers']} layers, got {rope!r:.60}")


def _mb_read_granitemoe(r: _MBFields, v: dict) -> None:
    """Granite 3.0/3.1 MoE (transformers 5.23 modeling_granitemoe.py): Granite's scalars (embedding_multiplier,
    attention_multiplier as the softmax scale, residual_multiplier, logits_scaling: no parameter, no matmul) on a
    Mixtral-style block: every layer MoE, a bias-free router (E, h) (GraniteMoeTopKRouter) and E stacked SwiGLU
    experts of intermediate_size (GraniteMoeExperts: gate_up_proj (E, 2f, h), down_proj (E, h, f)), no shared
    expert; q/k/v/o biased by attention_bias.  GraniteMoeConfig: 8 experts, top-2, untied when absent."""
    for key in ("embedding_multiplier", "attention_multiplier", "residual_multiplier", "logits_scaling"):
        r.number(key)
    r.expect("sliding_window", None, "granitemoe")  # GraniteMoeConfig has no window; a value is another model's
    v.update(num_experts=r.int("num_local_experts", default=8), top_k=r.int("num_experts_per_tok", default=2),
             gguf_arch="granitemoe")


def _mb_read_phimoe(r: _MBFields, v: dict) -> None:
    """Phi-3.5-MoE (transformers 5.23 modeling_phimoe.py): nn.LayerNorm with weight and bias (two per layer and a
    final one), q/k/v/o biased by attention_bias, an LM-head bias by lm_head_bias; every layer MoE: a bias-free
    router (PhimoeTopKRouter, E x h) and E stacked SwiGLU experts of intermediate_size without biases.  PhimoeConfig:
    16 experts, top-2, 8 KV heads when absent (as many as query heads when null); sliding_window, when set, makes
    every layer slide (Mistral's rule)."""
    if r.absent("num_key_value_heads"):
        v["num_kv_heads"] = 8
    r.number("input_jitter_noise")  # a training-time scaling of the input: no parameter, no matmul
    v.update(norm="layernorm", lm_head_bias=r.flag("lm_head_bias", False), num_experts=r.int("num_local_experts",
             default=16), top_k=r.int("num_experts_per_tok", default=2), gguf_arch="phimoe")


def _mb_read_stablelm(r: _MBFields, v: dict) -> None:
    """StableLM-3B-4E1T / StableLM 2 (transformers 5.23 modeling_stablelm.py): nn.LayerNorm with weight and bias,
    q/k/v biased by use_qkv_bias (o_proj never), a SwiGLU MLP without biases; use_parallel_residual: attention and
    MLP both read input_layernorm's output (one LayerNorm per layer), else two; qk_layernorm: a bias-free LayerNorm
    per head on q and k.  Rotary on partial_rotary_factor of each head (no parameter).  head_dim is hidden / heads
    whatever the file says (StableLmAttention)."""
    if v["head_dim"] and v["head_dim"] * v["num_attention_heads"] != v["hidden_size"]:
        raise InputError(f"{r.where}: field 'head_dim' {v['head_dim']} differs from hidden_size / "
                         "num_attention_heads, which StableLmAttention uses instead; not modelled")
    r.expect("sliding_window", None, "stablelm")  # StableLmConfig has no window; a value is another model's
    bias = r.flag("use_qkv_bias", False)
    parallel = r.flag("use_parallel_residual", False)
    qk = r.flag("qk_layernorm", False)
    v.update(head_dim=0, norm="layernorm", qkv_bias=bias, o_bias=False, gguf_arch="stablelm",
             norms_per_layer=1 if parallel else 2, norm_placement="parallel" if parallel else "pre",
             qk_norm="per-head" if qk else "none", qk_norm_module_per_head=qk)


def _mb_read_smollm3_windows(r: _MBFields, v: dict) -> None:
    """SmolLM3Config's windows: when layer_types is absent, a layer slides only if use_sliding_window, a
    sliding_window is given and the layer is a NoPE layer; the attention module slides only under
    use_sliding_window.  A layer_types naming sliding layers without both is built inconsistently (the mask and the
    cache slide, flash attention does not): refused."""
    layers = v["num_layers"]
    use = r.flag("use_sliding_window", False)
    window = r.int("sliding_window", default=0)  # 0 is not "no window" to SmolLM3Config (it tests None)
    types = r.get("layer_types")[1]
    if types is None:
        rope = r.raw.get("no_rope_layers")
        if rope is None:
            interval = r.int("no_rope_layer_interval", default=4)
            rope = [int((i + 1) % interval != 0) for i in range(layers)]
        slides = tuple("sliding" if use and window and not rope[i] else "full" for i in range(layers))
    elif not isinstance(types, list) or len(types) != layers or \
            not all(t in ("full_attention", "sliding_attention") for t in types):
        raise InputError(f"{r.where}: field 'layer_types' must list 'full_attention' or 'sliding_attention' for each "
                         f"of the {layers} layers, got {types!r:.80}")
    else:
        slides = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
        if "sliding" in slides and not (use and window):
            raise InputError(f"{r.where}: field 'layer_types' names sliding layers without use_sliding_window and a "
                             "sliding_window; transformers' SmolLM3 builds those inconsistently; not modelled")
    if "sliding" not in slides:
        window, slides = 0, ()
    elif "full" not in slides:
        slides = ()
    v.update(sliding_window=window, layer_types=slides)
def _mb_read_llama4(r: _MBFields, mt: str, v: dict) -> None:
    """Llama 4 Scout / Maverick, the text model (transformers 5.23 configuration_llama4.py Llama4TextConfig and
    modeling_llama4.py; AutoModelForCausalLM builds Llama4ForCausalLM from a llama4 file's text_config alone).

    The Llama block (q/k/v/o biased by attention_bias, RMSNorms, untied head by default) where layer i is MoE when i
    is in moe_layers, else when (i + 1) % interleave_moe_layer_step == 0 (Scout: every layer; Maverick: the odd
    ones).  A MoE layer (Llama4TextMoe) holds a bias-free router (E, h), E stacked SwiGLU experts of
    intermediate_size and one shared SwiGLU expert of intermediate_size; a dense layer a SwiGLU MLP of
    intermediate_size_mlp.  Layer i uses RoPE when no_rope_layers[i] is 1 (absent or []: every
    no_rope_layer_interval-th layer, default 4, is NoPE); RoPE layers attend within aligned chunks of
    attention_chunk_size tokens (layer_types "chunked_attention", here "sliding" layers with attention_chunked),
    NoPE layers to the whole context.  use_qk_norm's Llama4TextL2Norm and the NoPE layers' temperature tuning carry
    no parameter and no matmul.  Llama4TextConfig rejects a null KV-head count or head_dim (so does this reader); a
    null attention_chunk_size builds a model whose forward raises (create_chunked_causal_mask), refused too."""
    if mt == "llama4" and not r.where.endswith(" text_config"):
        raise InputError(f"{r.where}: model_type 'llama4' without a text_config: transformers' Llama4Config builds its "
                         "default text model whatever the top-level fields say; give the text_config (or model_type "
                         "llama4_text)")
    layers = v["num_layers"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    for key in ("num_key_value_heads", "head_dim", "attention_chunk_size"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' Llama 4 cannot build or run; "
                             "give a number")

    def per_layer(key, allowed):
        _, value = r.get(key)
        if not isinstance(value, list) or len(value) != layers or any(
                type(x) not in (int, str) or x not in allowed for x in value):
            raise InputError(f"{r.where}: field '{key}' must list one of {', '.join(map(repr, allowed))} for each of "
                             f"the {layers} layers, got {value!r:.80}")
        return value

    step = r.int("interleave_moe_layer_step", default=1)
    if r.get("moe_layers")[1] is None:  # Llama4TextConfig: range(step - 1, layers, step)
        moe = set(range(step - 1, layers, step))
    else:
        moe = set(r.layer_list("moe_layers"))
        if any(i >= layers for i in moe):
            raise InputError(f"{r.where}: field 'moe_layers' names layer {max(moe)} of a {layers}-layer model")
    interval = r.int("no_rope_layer_interval", default=4)
    if r.get("no_rope_layers")[1] in (None, []):  # the class's default: every interval-th layer is NoPE
        rope = [int((i + 1) % interval != 0) for i in range(layers)]
    else:
        rope = per_layer("no_rope_layers", (0, 1))
    if r.get("layer_types")[1] is None:  # Llama4TextConfig: the RoPE layers are the chunked ones
        chunked = tuple(bool(x) for x in rope)
    else:
        chunked = tuple(t == "chunked_attention" for t in per_layer("layer_types", ("chunked_attention",
                                                                                  "full_attention")))
    chunk = r.int("attention_chunk_size", default=8192)
    r.flag("use_qk_norm", True)  # Llama4TextL2Norm on q and k of the RoPE layers: no weight
    for key in ("attn_temperature_tuning", "attn_scale", "floor_scale", "for_llm_compressor"):
        r.get(key)  # the NoPE layers' query scaling (scalars) and a checkpoint-tool switch: no parameter
    experts, top_k = r.int("num_local_experts", default=16), r.int("num_experts_per_tok", default=1)
    expert_width = v["ffn_hidden_size"]  # intermediate_size: each routed expert and the shared one
    v.update(ffn_hidden_size=r.int("intermediate_size_mlp", default=16384), gguf_arch="llama4",
             softmax_fp32=False,  # modeling_llama4.eager_attention_forward keeps the softmax in the logits' dtype
             sliding_window=chunk if any(chunked) else 0, attention_chunked=any(chunked),
             layer_types=tuple("sliding" if c else "full" for c in chunked) if any(chunked) and not all(chunked)
             else ())
    if moe:
        v.update(num_experts=experts, top_k=top_k, moe_ffn_hidden_size=expert_width, num_shared_experts=1,
                 shared_expert_ffn_size=expert_width, expert_interval=1, expert_interval_phase=1,
                 dense_layers=tuple(i for i in range(layers) if i not in moe))


def _mb_read_windows(r: _MBFields, mt: str, v: dict) -> None:
    """Sliding-window attention: the window, and which layers use it (as each transformers config class says)."""
    if mt == "qwen3_next" or mt in _MB_QWEN3_5_DENSE + _MB_QWEN3_5_MOE:  # no window; layer_types name the mixers
        return v.update(sliding_window=0, layer_types=())
    if mt in ("llama4", "llama4_text"):  # chunks, not windows: _mb_read_llama4 set sliding_window and layer_types
        return None
    if mt in ("deepseek_v32", "glm_moe_dsa"):  # no window; layer_types only picks the indexed cache layer per layer
        r.expect("sliding_window", None, mt)
        types = r.get("layer_types")[1]
        if types is not None and (not isinstance(types, list) or len(types) != v["num_layers"]
                                  or set(types) != {"indexed_attention"}):
            raise InputError(f"{r.where}: field 'layer_types' must give 'indexed_attention' for each of the "
                             f"{v['num_layers']} layers (the only kind {mt} builds), got {types!r:.80}")
        return v.update(sliding_window=0, layer_types=())
    if mt == "bamba":  # BambaConfig has no window
        return v.update(sliding_window=0, layer_types=())
    if mt == "mimo_v2_flash":  # _mb_read_mimo_v2_flash set the window and its layers (all sliding kept as a list)
        return None
    if mt == "gemma4_text":  # _mb_read_gemma4_text set the window and its layers
        return None
    if mt == "lfm2":  # no window; its layer_types name the mixers (_mb_read_lfm2)
        return v.update(sliding_window=0, layer_types=())
    if mt in ("nemotron_h", "falcon_h1"):  # no window (refused by their readers); every layer is full attention
        return v.update(sliding_window=0, layer_types=())
    if mt in ("ernie4_5_moe", "hunyuan_v1_moe"):  # neither config class has a window
        r.expect("sliding_window", None, mt)
        return v.update(sliding_window=0, layer_types=())
    if mt == "jamba":  # JambaConfig has no window (AI21's files write "sliding_window": null)
        r.expect("sliding_window", None, mt)
        return v.update(sliding_window=0, layer_types=())
    if v["num_layers"] > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field '{'n_layer' if 'n_layer' in r.raw else 'num_hidden_layers'}' "
                         f"{v['num_layers']} is beyond {MODEL_MAX_LAYERS:,}")
    if mt == "smollm3":
        return _mb_read_smollm3_windows(r, v)
    if mt == "exaone4":
        _mb_check_exaone4_windows(r, v)
    window = _MB_CLASS_DEFAULTS.get(mt, {}).get("sliding_window", 0) if r.absent("sliding_window") else \
        r.int("sliding_window", default=0, minimum=0)
    if "sliding_window_size" in r.raw:  # Gemma-2's files repeat the window under this name, which no class reads
        r.expect("sliding_window_size", r.raw.get("sliding_window"), mt)
    qwen = mt in ("qwen2", "qwen2_moe", "qwen3", "qwen3_moe")
    # Qwen configs carry a window that is off unless use_sliding_window is true (false by default in each class)
    # only the Qwen config classes read use_sliding_window; Mistral, Gemma-2, Phi-3, StarCoder2 keep their window
    if qwen and not r.flag("use_sliding_window", False):
        window = 0
    types = r.get("layer_types")[1]
    limit = r.int("max_window_layers", default=28 if qwen else 62 if mt == "dots1" else 0, minimum=0)
    if mt in ("gemma2", "gemma3_text", "qwen2", "qwen2_moe", "qwen3") or types is not None:
        r.get("sliding_window_pattern")
    if types is not None:
        if not isinstance(types, list) or not all(t in ("full_attention", "sliding_attention") for t in types):
            raise InputError(f"{r.where}: field 'layer_types' must list 'full_attention' or 'sliding_attention' "
                             f"per layer, got {types!r:.80}")
        if len(types) != v["num_layers"]:
            raise InputError(f"{r.where}: field 'layer_types' has {len(types)} entries for {v['num_layers']} layers")
        layer_types = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
        if not window:
            layer_types = ()
    elif window and mt == "gemma3_text":  # Gemma3TextConfig: every layer but each sliding_window_pattern-th slides
        pattern = r.int("sliding_window_pattern", default=6)
        layer_types = tuple("sliding" if (i + 1) % pattern else "full" for i in range(v["num_layers"]))
    elif window and mt in ("olmo3", "cohere2", "exaone4"):  # Olmo3Config: every 4th layer full; Cohere2Config,
        # Exaone4Config: every sliding_window_pattern-th (a string such as "LLLG" there builds nothing without
        # layer_types: transformers' (i + 1) % pattern fails, and the reader refuses it)
        pattern = r.int("sliding_window_pattern", default=4) if mt in ("cohere2", "exaone4") else 4
        layer_types = tuple("sliding" if (i + 1) % pattern else "full" for i in range(v["num_layers"]))
    elif window and mt in ("gemma2", "gpt_oss"):  # Gemma2Config, GptOssConfig: even layers slide
        layer_types = tuple("sliding" if i % 2 == 0 else "full" for i in range(v["num_layers"]))
    elif window and mt in ("qwen2", "qwen3", "dots1"):  # configuration_qwen2/3.py, dots1: i >= max_window_layers
        layer_types = tuple("sliding" if i >= limit else "full" for i in range(v["num_layers"]))
    elif window and mt == "qwen2_moe":  # configuration_qwen2_moe.py: even layers below max_window_layers slide
        layer_types = tuple("sliding" if i % 2 == 0 and i < limit else "full" for i in range(v["num_layers"]))
    else:
        layer_types = ()
    if layer_types and "sliding" not in layer_types:
        window, layer_types = 0, ()
    if layer_types and "full" not in layer_types:
        layer_types = ()
    v.update(sliding_window=window, layer_types=layer_types)


def _mb_gemma3_text_config(outer: dict, raw: dict, where: str) -> dict:
    """The language model of a Gemma 3 wrapper (transformers 5.23 configuration_gemma3.py Gemma3Config): text_config is
    built as Gemma3TextConfig whatever else it names, so a text_config of another model_type is refused.  The head is
    tied when the wrapper's tie_word_embeddings says so (True when absent): PreTrainedModel.tie_weights reads the
    config of the model it ties, Gemma3ForConditionalGeneration's Gemma3Config, not the text_config's field."""
    wrapper = outer["model_type"]  # gemma3, or gemma4 (Gemma4Config: text_config built as Gemma4TextConfig alike)
    inner = raw.get("model_type")
    if inner not in (wrapper, f"{wrapper}_text"):
        raise InputError(f"{where}: model_type {inner!r:.40} inside a {wrapper} wrapper: transformers builds its "
                         f"text_config as {wrapper.capitalize()}TextConfig; only '{wrapper}_text' is modelled there")
    tie = outer.get("tie_word_embeddings", True)
    if not isinstance(tie, bool):
        raise InputError(f"{where}: field 'tie_word_embeddings' of the {wrapper} wrapper must be true or false, got "
                         f"{tie!r:.60}")
    return dict(raw, model_type=f"{wrapper}_text", tie_word_embeddings=tie)


# SiglipVisionConfig (transformers 5.23 configuration_siglip.py): the fields that shape its parameters, with defaults
_MB_SIGLIP_DEFAULTS = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
                       "num_channels": 3, "image_size": 224, "patch_size": 16}
_MB_SIGLIP_QUIET = {"model_type", "hidden_act", "layer_norm_eps", "attention_dropout", "vision_use_head"}


def gemma3_tower_parameters(outer: dict, text_hidden: int) -> tuple | None:
    """(vision tower, projector) parameters that Gemma3ForConditionalGeneration adds to the language model, or None
    when its vision_config holds a field this count does not know.

    The tower is SiglipVisionModel (modeling_siglip.py) of width h, MLP width i, L layers, c channels, patches of p
    pixels over images of s pixels: a Conv2d patch embedding (c p^2 h + h), a position table of (s // p)^2 rows,
    per layer two LayerNorms (4h), biased q/k/v/out projections (4 h^2 + 4h) and a biased fc1/fc2 MLP
    (2 h i + i + h); a final LayerNorm (2h); with vision_use_head (SiglipVisionConfig's default, false in every
    Gemma 3 file) a pooling head: probe (h), nn.MultiheadAttention (4 h^2 + 4h), LayerNorm (2h) and an MLP
    (2 h i + i + h).  The projector (Gemma3MultiModalProjector): mm_input_projection_weight (h, text hidden) and the
    RMSNorm mm_soft_emb_norm (h).  Google's Gemma 3 report (arXiv:2503.19786) Table 1: a 417M vision encoder."""
    vision = outer.get("vision_config")
    vision = {} if vision is None else vision
    if not isinstance(vision, dict) or vision.get("model_type", "siglip_vision_model") != "siglip_vision_model":
        return None
    sizes = dict(_MB_SIGLIP_DEFAULTS)
    for key, value in vision.items():
        if key in sizes:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MODEL_MAX_WIDTH:
                return None
            sizes[key] = value
        elif key not in _MB_SIGLIP_QUIET and key not in _MB_NESTED_CONFIG_GENERIC and not key.startswith("_") \
                and key not in HARMLESS_FIELDS:
            return None
    head = vision.get("vision_use_head", True)
    if not isinstance(head, bool):
        return None
    h, i, c, p = sizes["hidden_size"], sizes["intermediate_size"], sizes["num_channels"], sizes["patch_size"]
    mlp = 2 * h * i + i + h
    tower = c * p * p * h + h + (sizes["image_size"] // p) ** 2 * h
    tower += sizes["num_hidden_layers"] * (4 * h + 4 * h * h + 4 * h + mlp) + 2 * h
    if head:
        tower += h + 4 * h * h + 4 * h + 2 * h + mlp
    return tower, h * text_hidden + h


def _mb_check_exaone4_windows(r: _MBFields, v: dict) -> None:
    """Exaone4Config (transformers 5.23): without layer_types, layer i slides unless (i + 1) % sliding_window_pattern
    is 0, with the pattern 0 when sliding_window is null: that division fails, as does a string pattern ("LLLG", which
    the published files carry beside their layer_types); sliding layers named in layer_types need a window (the
    module would attend fully and the mask slide).  Each is refused rather than guessed; a null KV-head count too."""
    if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        raise InputError(f"{r.where}: field 'num_key_value_heads' is null, which transformers' exaone4 config does not "
                         "accept; give the number of KV heads")
    types = r.raw.get("layer_types")
    window = r.raw.get("sliding_window", 4096)
    if types is None:
        pattern = r.raw.get("sliding_window_pattern", 4)
        if window is None or not isinstance(pattern, int) or isinstance(pattern, bool) or pattern < 1:
            raise InputError(f"{r.where}: field 'sliding_window_pattern' {pattern!r:.20} with sliding_window "
                             f"{window!r:.20} and no layer_types: transformers' exaone4 config cannot place its "
                             "sliding layers; give layer_types")
    else:
        r.get("sliding_window_pattern")  # the class reads it only without layer_types
        if window is None and isinstance(types, list) and "sliding_attention" in types:
            raise InputError(f"{r.where}: field 'layer_types' names sliding layers with sliding_window null; "
                             "not modelled for model_type 'exaone4'")


def _mb_read_kimi_k2(r: _MBFields, family: str) -> str:
    """Kimi-K2 (moonshotai/Kimi-K2-*): its config.json names model_type kimi_k2 so that serving engines can tell it
    apart, and architectures ["DeepseekV3ForCausalLM"] with auto_map to DeepSeek's own configuration_deepseek /
    modeling_deepseek: the network is DeepSeek-V3's (Kimi K2 report, arXiv 2507.20534, sec. 2.3: 384 experts,
    64 heads, one dense first layer).  transformers 5.23 has no kimi_k2 type; the fields are read as
    DeepseekV3Config reads them.  Any other architecture under this model_type is refused."""
    _, names = r.get("architectures")
    if names is not None and names != ["DeepseekV3ForCausalLM"]:
        raise InputError(f"{r.where}: field 'architectures' {names!r:.60} under model_type 'kimi_k2' is not "
                         "modelled (only ['DeepseekV3ForCausalLM'], the network of every published Kimi-K2)")
    return "deepseek_v3"


def _mb_structural_field(name: str) -> bool:
    """A field name that may change a count: refused when no reader takes it (experts, layers, heads, norms,
    mixers, widths...)."""
    words = ("expert", "moe", "layer", "head", "tie", "norm", "mamba", "ssm", "conv", "linear", "attn", "attention",
             "window", "chunk", "kv", "lora", "shared", "router", "dim", "size", "intermediate", "hidden", "vocab",
             "embed", "bias", "mlp", "ffn", "sink", "gate", "state", "group", "nope", "num_", "n_", "mtp", "nextn",
             "proj", "multiplier", "scale", "parallel", "residual", "block", "interval", "freq", "pattern", "type")
    low = name.lower()
    return any(w in low for w in words)


def model_from_config(raw, where: str = "config.json", generic: bool = False) -> tuple:
    """A Hugging Face config dict -> (Model, notes).  Nested text_config is followed (the language model only).

    A model type outside SUPPORTED_MODEL_TYPES is refused (InputError naming it); with generic=True an unknown
    type is read as a dense Llama-style decoder and the first note says so (types in NOT_YET_MODELLED are refused
    even then).  A field that is neither read nor in HARMLESS_FIELDS is refused when its name says it may change a
    count, and named in a note otherwise."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    notes, outer = [], {}
    if raw.get("text_config") is not None:
        if not isinstance(raw["text_config"], dict):
            raise InputError(f"{where}: field 'text_config' must be a JSON object, got "
                             f"{type(raw['text_config']).__name__}")
        outer = raw
        raw = dict(outer["text_config"])
        for key in ("tie_word_embeddings", "model_type"):
            if key not in raw and key in outer and not (key == "tie_word_embeddings" and outer.get("model_type") in
                                                        ("llama4", "qwen3_5", "qwen3_5_moe")):  # text_config's only
                raw[key] = outer[key]
        where += " text_config"
        notes.append("nested text_config read: the language model only (no vision or audio tower)")
        if outer.get("model_type") in ("qwen3_5", "qwen3_5_moe") and raw.get("model_type") != outer["model_type"] and \
                raw.get("model_type") != f"{outer['model_type']}_text":  # the wrapper builds its own text class
            raise InputError(f"{where}: model_type {raw.get('model_type')!r:.40} inside a {outer['model_type']} file: "
                             f"transformers builds {outer['model_type']}_text from it whatever it names; not modelled")
        if outer.get("model_type") in ("gemma3", "gemma4"):
            raw = _mb_gemma3_text_config(outer, raw, where)
    model_type = raw.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        raise InputError(f"{where}: field 'model_type' must be a string, got {model_type!r:.60}")
    model_type = model_type or ""
    if model_type in NOT_YET_MODELLED:
        raise InputError(f"{where}: model_type '{model_type}' is not modelled yet ({NOT_YET_MODELLED[model_type]}); "
                         "refusing rather than reading it as a dense Llama")
    if model_type not in SUPPORTED_MODEL_TYPES:
        if not generic:
            shown = f"'{model_type}'" if model_type else "(none given)"
            raise InputError(f"{where}: model_type {shown} is not one this script models; give --generic to read "
                             "it as a dense Llama-style decoder (RMSNorm, SwiGLU, GQA), or see the README's table "
                             "of supported model types")
        notes.insert(0, f"--generic: model_type {model_type or '(none)'!r} read as a dense Llama-style decoder "
                        "(RMSNorm, SwiGLU, GQA, untied unless tie_word_embeddings); nothing else is modelled")
    if model_type in ("gemma3", "gemma4"):  # a wrapper with a text_config was read as <wrapper>_text above
        raise InputError(f"{where}: model_type '{model_type}' without a text_config: transformers' "
                         f"{model_type.capitalize()}Config builds its default text model whatever the top-level fields "
                         f"say; give the text_config (or model_type {model_type}_text)")
    if model_type in _MB_SIZE_DEFAULTS:  # the config class's sizes where the file leaves them out (not where null)
        raw = dict(_MB_SIZE_DEFAULTS[model_type], **raw)
    r = _MBFields(raw, where)
    family = model_type if model_type in SUPPORTED_MODEL_TYPES else "llama"
    family = _mb_read_kimi_k2(r, family) if family == "kimi_k2" else family
    if family in ("gpt2", "gptj", "bloom"):
        values = _mb_read_gpt(r, family)
    elif family in ("gpt_neox", "opt", "falcon"):
        values = _mb_read_neox_opt_falcon(r, family)
    elif family == "gpt_oss":
        values = _mb_read_gpt_oss(r, family)
    elif family == "dbrx":
        values = _mb_read_dbrx(r)
    elif family == "mimo_v2_flash":
        values = _mb_read_mimo_v2_flash(r, family)
    elif family == "lfm2":
        values = _mb_read_lfm2(r, family)
    elif family == "gemma4_text":
        values = _mb_read_gemma4_text(r, family)
    elif family == "nemotron_h":
        values = _mb_read_nemotron_h(r, family)
    elif family == "falcon_h1":
        values = _mb_read_falcon_h1(r, family)
    elif family == "jamba":  # issue 10, branch jamba
        values = _mb_read_jamba(r, family)
    elif family == "ernie4_5_moe":  # issue 10, branch jamba
        values = _mb_read_ernie4_5_moe(r, family)
    elif family == "hunyuan_v1_moe":  # issue 10, branch jamba
        values = _mb_read_hunyuan_v1_moe(r, family)
    else:
        values = _mb_read_llama_style(r, family)
    values["tied_embeddings"] = r.flag("tie_word_embeddings", family in _MB_TIED_BY_DEFAULT)
    if family == "lfm2" and not r.absent("tie_embedding"):  # Lfm2Config: tie_embedding, when given, wins
        values["tied_embeddings"] = r.flag("tie_embedding", True)
    _mb_read_windows(r, family, values)
    rope = raw.get("rope_scaling")
    if isinstance(rope, dict) and (rope.get("rope_type") or rope.get("type")) == "llama3":
        values["rope_freqs"] = True  # llama.cpp stores the llama3 rope factors as rope_freqs (head_dim / 2)
    drop = max([r.number(k) for k in ("attention_dropout", "hidden_dropout", "resid_pdrop", "attn_pdrop",
                                      "embd_pdrop", "residual_dropout") if k in raw] or [0.0])
    if family == "seed_oss" and (r.absent("attention_dropout") or r.absent("residual_dropout")):
        drop = max(drop, 0.1)  # SeedOssConfig: attention_dropout and residual_dropout are 0.1 when absent
    values["dropout"] = drop > 0 or values.get("dropout", False)  # a reader may have found nested dropout (DBRX)
    # the MLP activation as the eager module runs it (what autograd saves): each config class's own default
    act = r.text("activation_function", "hidden_act", "hidden_activation",
                 default=_MB_ACTIVATION_DEFAULT.get(family, ""))
    values["python_gelu"] = act == "gelu_new"  # written in Python: saves 4 MLP-wide tensors, not 1
    values["relu_mlp"] = act == "relu" and not values.get("gated_mlp", True)
    mtp = raw.get("num_nextn_predict_layers")
    if family in ("deepseek_v3", "glm4_moe", "deepseek_v32", "glm_moe_dsa") and isinstance(mtp, int) \
            and not isinstance(mtp, bool) and mtp > 0:
        notes.append(f"num_nextn_predict_layers = {mtp}: the multi-token-prediction module(s) are not counted, as "
                     f"transformers does not build them (calc_transformer_params.py --mtp-layers {mtp} counts them)")
    if family in _MB_QWEN3_5_DENSE + _MB_QWEN3_5_MOE and (raw.get("mtp_num_hidden_layers") or 0) > 0:
        notes.append(f"mtp_num_hidden_layers = {raw['mtp_num_hidden_layers']}: the multi-token-prediction layer is not "
                     "counted, as transformers does not build it (Qwen3_5ForCausalLM drops the mtp.* weights)")
    if family == "minimax_m2":
        notes += _mb_minimax_m2_mtp_note(raw)
    if family == "ernie4_5_moe" and isinstance(mtp, int) and not isinstance(mtp, bool) and mtp > 0:
        notes.append(f"num_nextn_predict_layers = {mtp}: the multi-token-prediction module(s) are not counted, as "
                     "transformers does not build them (Ernie4_5_MoePreTrainedModel ignores the mtp.* weights)")
    values.update(model_type=model_type, source=where,
                  name=raw.get("_name_or_path") if isinstance(raw.get("_name_or_path"), str) and
                  raw.get("_name_or_path") else (model_type or "config"))
    unread = sorted(k for k in raw if k not in r.used and k not in HARMLESS_FIELDS and k != "text_config"
                    and not k.startswith("_")  # private bookkeeping: _name_or_path, _attn_implementation, ...
                    and not k.endswith(("_token_id", "_token_ids", "_dropout", "_pdrop")))
    structural = [k for k in unread if _mb_structural_field(k) and not k.endswith("_config")]
    if structural:
        raise InputError(f"{where}: field '{structural[0]}' is not modelled for model_type "
                         f"'{model_type or 'generic'}' and may change the numbers; refusing rather than guessing")
    if unread:
        notes.append("config fields not read (they change no count): " + ", ".join(unread))
    labels = {field: "config field '%s'" % next((k for k in keys if k in raw), keys[0])
              for field, keys in CONFIG_FIELDS_OF.items()}
    try:
        model = validate_model(Model(**values), labels)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    if outer.get("model_type") == "gemma3":
        notes.append(_mb_gemma3_note(outer, model))
    if outer.get("model_type") == "gemma4":
        towers = [k for k in ("vision_config", "audio_config") if outer.get(k) is not None]
        notes.append("model_type 'gemma4': AutoModelForCausalLM builds Gemma4ForConditionalGeneration; the language "
                     "model is counted here" + (f", its {' and '.join(t.split('_')[0] for t in towers)} tower(s) and "
                                                "their embedders (" + ", ".join(towers) + ") are not counted; they run "
                                                "on images / audio only" if towers else ""))
    return model, notes


def _mb_gemma3_note(outer: dict, model: Model) -> str:
    """What AutoModelForCausalLM builds from a gemma3 file (transformers 5.23 MODEL_FOR_CAUSAL_LM_MAPPING: gemma3 ->
    Gemma3ForConditionalGeneration): the language model counted here plus the vision tower and projector."""
    towers = gemma3_tower_parameters(outer, model.hidden_size)
    if towers is None:
        return ("model_type 'gemma3': AutoModelForCausalLM builds Gemma3ForConditionalGeneration, whose vision tower "
                "and projector (vision_config) are not counted here")
    language = count_model(model)["total"]
    return (f"model_type 'gemma3': AutoModelForCausalLM builds Gemma3ForConditionalGeneration, which adds a SigLIP "
            f"vision tower of {towers[0]:,} and a projector of {towers[1]:,} parameters to the {language:,} of the "
            f"language model counted here ({language + sum(towers):,} in all); they run on images only")


def parse_config_bytes(data: bytes, where: str):
    """A config.json's bytes -> parsed JSON (at most MODEL_MAX_CONFIG_BYTES); one InputError naming `where`."""
    if len(data) > MODEL_MAX_CONFIG_BYTES:
        raise InputError(f"{where}: larger than {MODEL_MAX_CONFIG_BYTES // 2**20} MiB, not a config.json")
    try:
        return _json.loads(data.decode("utf-8-sig"))  # -sig: a byte-order mark from a Windows editor is fine
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 text") from None
    except _json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError:  # json's own limit on integer literals is not a JSONDecodeError
        raise InputError(f"{where}: a number in it is too long to be a model dimension") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None


def read_config_json(path: str) -> tuple:
    """Read a config.json (or a folder holding one, or a Hub id org/name[@revision]) safely -> (parsed JSON, label
    for messages).

    Regular files and pipes (--config <(...)) are read, at most MODEL_MAX_CONFIG_BYTES; a device such as /dev/zero
    is refused.  A path that does not exist and reads as a Hub id is fetched by hub_file (the local Hugging Face
    cache first).  Errors are one line naming --config."""
    if not isinstance(path, str) or not path.strip():
        raise InputError(f"--config expects a path to a config.json or a folder holding one, got {path!r}")
    if not _os.path.exists(path) and HUB_ID_PATTERN.fullmatch(path):
        repo, _, revision = path.partition("@")
        data = hub_file(repo, "config.json", revision or "main")
        return parse_config_bytes(data, f"--config {path}"), path
    if _os.path.isdir(path):
        path = _os.path.join(path, "config.json")
    shown = path if path.isprintable() else repr(path)  # a newline in a path must not split the one-line error
    try:
        mode = _os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"--config {shown}: no such file") from None
    except OSError as exc:
        raise InputError(f"--config {shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    if not (_stat.S_ISREG(mode) or _stat.S_ISFIFO(mode)):
        raise InputError(f"--config {shown}: not a regular file or pipe")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MODEL_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError(f"--config {shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    raw = parse_config_bytes(data, f"--config {shown}")
    if _stat.S_ISFIFO(mode):
        label = "config.json (pipe)"
    elif _os.path.basename(path) == "config.json":  # the folder names the model (meta-llama/Llama-3.1-8B/...)
        label = _os.path.basename(_os.path.dirname(_os.path.abspath(path))) or "config.json"
    else:
        label = _os.path.basename(path)
    return raw, (label if label.isprintable() else repr(label))


# --------------------------------------------------------------------------------------------------------------
# The Hugging Face Hub: one file of a repo, from the local cache or over HTTP (standard library only)
# --------------------------------------------------------------------------------------------------------------
# A Hub id as huggingface_hub accepts it (org/name, each part starting with a letter or digit) with an optional
# @revision (branch, tag, commit or refs/pr/N; never '..', so it cannot walk out of the cache).
HUB_ID_PATTERN = _re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
                         r"(?:@(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,199})?")
_MB_TRUE = ("1", "true", "yes", "on")


def _mb_env_path(name: str) -> str:
    """An environment variable holding a path, with ~ and $VARS expanded (as huggingface_hub's constants.py does)."""
    value = _os.environ.get(name, "")
    return _os.path.expandvars(_os.path.expanduser(value)) if value else ""


def _mb_hf_home() -> str:
    return _mb_env_path("HF_HOME") or _os.path.join(
        _mb_env_path("XDG_CACHE_HOME") or _os.path.join(_os.path.expanduser("~"), ".cache"), "huggingface")


def _mb_hub_commit(repo: str, revision: str) -> tuple:
    """(the repo's cache folder, the commit `revision` names there or None): a 40-hex revision is its own commit,
    a branch or tag is looked up in refs/ (huggingface_hub's cache layout)."""
    cache = _mb_env_path("HF_HUB_CACHE") or _mb_env_path("HUGGINGFACE_HUB_CACHE") or _os.path.join(_mb_hf_home(), "hub")
    folder = _os.path.join(cache, "models--" + repo.replace("/", "--"))
    if _re.fullmatch(r"[0-9a-f]{40}", revision):
        return folder, revision
    try:
        with open(_os.path.join(folder, "refs", revision), encoding="utf-8") as handle:
            commit = handle.read(100).strip()
    except (OSError, UnicodeDecodeError):
        return folder, None
    return folder, (commit if _re.fullmatch(r"[0-9a-f]{40}", commit) else None)


def hub_cache_path(repo: str, filename: str, revision: str = "main") -> str | None:
    """The file in the local Hugging Face cache (huggingface_hub's layout: HF_HUB_CACHE, else HF_HOME/hub;
    models--org--name/refs/<revision> holds the commit, snapshots/<commit>/<file> the file), or None."""
    folder, commit = _mb_hub_commit(repo, revision)
    found = _os.path.join(folder, "snapshots", commit, filename) if commit else ""
    return found if commit and _os.path.isfile(found) else None


def _mb_hub_token() -> str | None:
    """HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the token `huggingface-cli login` saved
    (HF_TOKEN_PATH, else HF_HOME/token)."""
    token = (_os.environ.get("HF_TOKEN") or _os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip()
    if token:
        return token
    try:
        with open(_mb_env_path("HF_TOKEN_PATH") or _os.path.join(_mb_hf_home(), "token"), encoding="utf-8") as f:
            return f.read(1000).strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _mb_hub_offline() -> bool:
    return any(_os.environ.get(name, "").strip().lower() in _MB_TRUE for name in ("HF_HUB_OFFLINE",
                                                                                  "TRANSFORMERS_OFFLINE"))


def _mb_urlopen(url: str, headers: dict):
    """urllib.request.urlopen, except that a redirect to another host drops the token (the Hub sends LFS files to
    a CDN: huggingface_hub's HTTP clients drop Authorization across hosts too) and https never falls back to http."""
    import urllib.parse
    import urllib.request

    class SameHostAuth(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, hdrs, newurl):
            new = super().redirect_request(req, fp, code, msg, hdrs, newurl)
            if new is None:
                return None
            old, moved = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if old.scheme == "https" and moved.scheme != "https":
                raise ValueError(f"a redirect from https to {moved.scheme} ({moved.netloc})")
            if moved.netloc != old.netloc:
                new.remove_header("Authorization")
            return new

    return urllib.request.build_opener(SameHostAuth).open(urllib.request.Request(url, headers=headers), timeout=30)


def hub_file(repo: str, filename: str, revision: str = "main", *, flag: str = "--config",
             limit: int = MODEL_MAX_CONFIG_BYTES, byte_range: tuple | None = None) -> bytes:
    """The bytes of one file of a Hub model repo (at most `limit`; byte_range=(first, last) for a part of it, as an
    HTTP range request): the local cache first, then, unless HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set,
    HF_ENDPOINT (default https://huggingface.co)/{repo}/resolve/{revision}/{filename} with HF_TOKEN or the saved
    login token.  A branch the cache has resolved is fetched at that commit, so a repo's files never mix commits.
    A gated, private or missing repo, a network failure or an oversized answer is one InputError saying what to do
    (HubFileMissing for a 404, HubNotCached for an offline cache miss)."""
    where = f"{flag} {repo}" + ("" if revision == "main" else f"@{revision}")
    first, last = byte_range if byte_range else (0, None)
    wanted = limit + 1 if last is None else min(limit + 1, last - first + 1)
    cached = hub_cache_path(repo, filename, revision)
    if cached is not None:
        try:
            with open(cached, "rb") as handle:
                handle.seek(first)
                data = handle.read(wanted)
        except OSError as exc:
            raise InputError(f"{where}: cannot read the cached {filename} ({exc.strerror or exc})") from None
    elif _mb_hub_offline():
        raise HubNotCached(f"{where}: {filename} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
                           "download it once online, or give a local path")
    else:
        import urllib.error
        import urllib.parse
        endpoint = (_os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
        pinned = _mb_hub_commit(repo, revision)[1] or revision  # the commit the cache already holds files of
        url = f"{endpoint}/{repo}/resolve/{urllib.parse.quote(pinned, safe='')}/{urllib.parse.quote(filename)}"
        headers = {"User-Agent": "transformer-sizing-calculators"}
        token = _mb_hub_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if byte_range:
            headers["Range"] = f"bytes={first}-{last}"
        try:
            with _mb_urlopen(url, headers) as answer:
                if byte_range and answer.status == 206:  # the part asked for, and only that part
                    got = _re.fullmatch(r"bytes (\d+)-(\d+)/(?:\d+|\*)", answer.headers.get("Content-Range", ""))
                    if not got or (int(got[1]), int(got[2])) != (first, min(last, int(got[2]))):
                        raise InputError(f"{where}: the Hub answered bytes {answer.headers.get('Content-Range')!r:.60}"
                                         f" for {filename}, not bytes {first}-{last}")
                elif byte_range:  # a server without ranges: skip to the part asked for
                    answer.read(first)
                data = answer.read(wanted)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise InputError(f"{where}: the Hub answered {exc.code}: a gated or private repo; accept its "
                                 "licence on huggingface.co and set HF_TOKEN (or run `huggingface-cli login`)") \
                    from None
            if exc.code == 404:
                raise HubFileMissing(f"{where}: no such repo, revision or file ({filename}) on {endpoint}") from None
            raise InputError(f"{where}: the Hub answered HTTP {exc.code} for {filename}") from None
        except InputError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise InputError(f"{where}: cannot reach {endpoint} ({' '.join(str(reason).split())}); set "
                             "HF_HUB_OFFLINE=1 to use the local cache only, or give a local path") from None
    if len(data) > limit:
        raise InputError(f"{where}: {filename} is larger than {limit:,} bytes; refusing to read it")
    if last is not None and len(data) != last - first + 1:
        raise InputError(f"{where}: {filename} ended after {first + len(data):,} bytes, before byte {last:,}")
    return data


# --------------------------------------------------------------------------------------------------------------
# The architecture flags: one spelling, one meaning and one default in every script
# --------------------------------------------------------------------------------------------------------------
# (flags, the Model field it sets, help).  A flag replaces the field of the preset or config.json it is given with;
# the cookbook's spellings and short aliases (-l, -hs, -v, -a, -kv, -ff, -nl, -e, -t, -ei) keep the cookbook's
# meaning.  Counts are read by parse_count (7B, 32k, 32Ki, 1_000).
MODEL_COUNT_FLAGS = (
    (("--num-layers", "-l"), "num_layers", "decoder layers"),
    (("--hidden-size", "-hs"), "hidden_size", "model width d_model"),
    (("--vocab-size", "-v"), "vocab_size", "vocabulary size"),
    (("--num-attention-heads", "-a"), "num_attention_heads", "query heads"),
    (("--num-kv-heads",), "num_kv_heads", "key/value heads (GQA; 1 = MQA; default: as many as query heads)"),
    (("--head-dim",), "head_dim", "per-head width (default hidden / heads; a model's own head_dim stays when "
                                  "-hs or -a change)"),
    (("--ffn-hidden-size",), "ffn_hidden_size", "FFN (intermediate) width, the experts' too unless "
                                                "--moe-ffn-hidden-size (default from flags alone: 4 x hidden)"),
    (("--learned-positions",), "max_position_embeddings", "a learned position table for N positions (HF "
                                                          "max_position_embeddings; OPT keeps 2 more rows); 0: none"),
    (("--position-offset",), "position_offset", "extra rows of a learned position table (OPT: 2)"),
    (("--pad-vocab-to-multiple",), "pad_vocab_multiple", "pad the vocabulary up to a multiple of N"),
    (("--word-embed-proj-dim",), "word_embed_proj_dim", "OPT: an embedding this wide, projected in and out"),
    (("--norms-per-layer",), "norms_per_layer", "hidden-size norms per layer (2 pre-norm, 1 parallel block, "
                                                "4 Gemma-2 sandwich)"),
    (("--q-lora-rank",), "q_lora_rank", "MLA query latent width (0: no q-LoRA)"),
    (("--kv-lora-rank",), "kv_lora_rank", "MLA key/value latent width (> 0 makes attention MLA)"),
    (("--qk-nope-head-dim",), "qk_nope_head_dim", "MLA: the non-rotary part of each q/k head"),
    (("--qk-rope-head-dim",), "qk_rope_head_dim", "MLA: the rotary part of each q/k head"),
    (("--v-head-dim",), "v_head_dim", "MLA: value head width"),
    (("--num-experts", "-e"), "num_experts", "routed experts per MoE layer"),
    (("--topk", "-t"), "top_k", "experts per token (default 1, the cookbook's, when a model names none)"),
    (("--expert-interval", "-ei"), "expert_interval", "every N-th layer is MoE (layers N-1, 2N-1, ...; "
                                                      "DeepSeek models: 0, N, 2N, ...)"),
    (("--moe-ffn-hidden-size",), "moe_ffn_hidden_size", "routed expert width (default --ffn-hidden-size)"),
    (("--num-shared-experts",), "num_shared_experts", "always-on shared experts"),
    (("--shared-expert-ffn-size",), "shared_expert_ffn_size", "width of each shared expert (default "
                                                              "--moe-ffn-hidden-size)"),
    (("--first-k-dense",), "first_k_dense", "the first K layers stay dense"),
    (("--mtp-layers",), "mtp_layers", "DeepSeek-V3 multi-token-prediction modules (transformers builds none)"),
    (("--sliding-window",), "sliding_window", "sliding-window span in tokens (0: every layer full attention)"),
)
# (flag, the Model field it switches, help): each also has a --no- form.
MODEL_SWITCH_FLAGS = (
    ("--tied-embeddings", "tied_embeddings", "the LM head shares the input embedding (--untied-embeddings too)"),
    ("--qkv-bias", "qkv_bias", "biases on q, k and v"),
    ("--o-bias", "o_bias", "a bias on the attention output"),
    ("--mlp-bias", "mlp_bias", "biases in the MLP"),
    ("--lm-head-bias", "lm_head_bias", "a bias on the LM head (GPT-J, Phi-2)"),
    ("--embedding-norm", "embedding_norm", "a norm after the token embedding (BLOOM)"),
    ("--final-norm", "final_norm", "a norm before the LM head"),
    ("--shared-expert-gate", "shared_expert_gate", "Qwen-MoE's sigmoid gate (hidden x 1) on the shared expert"),
    ("--router-bias", "router_bias", "a bias on the router"),
)
MODEL_NORM_ALIASES = {"none": "nonparametric", "layernorm-nonparametric": "nonparametric"}
# What a model from flags alone is, where no flag says: the cookbook's transformer (Anthony, Biderman & Schoelkopf
# 2023, "Transformer Math 101"; EleutherAI cookbook calc/): a 2-linear MLP 4 x hidden wide, LayerNorm with weight
# and bias, untied embeddings; no linear biases and no position table (rotary).  Printed as assumed, never silent.
MODEL_FLAGS_ONLY_NOTE = ("from flags alone: a plain 2-linear MLP (-nl 3 for SwiGLU) 4 x hidden wide unless -ff or "
                         "--ffn-hidden-size, LayerNorm with biases (--norm), no linear biases (--bias), untied "
                         "embeddings, rotary positions with no table (--position-embedding learned with -s N or "
                         "--learned-positions N adds one)")


# The cookbook's defaults for the shape flags it lets a user leave out (EleutherAI cookbook calc/
# calc_transformer_params.py and calc_transformer_flops.py: --num-layers 44, --hidden-size 6144, --vocab-size 51200).
MODEL_COOKBOOK_DEFAULTS = {"num_layers": 44, "hidden_size": 6144, "vocab_size": 51200}


def add_model_arguments(parser) -> tuple:
    """Add the model flags every script shares to an argparse parser -> (source group, architecture group).

    Every value is read by model_from_arguments (so that each error is one line naming the flag); a script adds
    its own alternatives to the source group (mem's and quantization's --params)."""
    source = parser.add_argument_group("model: a preset, a config.json, or flags alone (flags override the first two)")
    source.add_argument("--preset", "-p", metavar="NAME", help="a built-in model (--list-presets lists them)")
    source.add_argument("--list-presets", action="store_true", help="list the presets with their sources")
    source.add_argument("--config", "--hf_model_name_or_path", dest="config", metavar="PATH",
                        help="a Hugging Face config.json, a folder holding one, or a Hub id org/name[@revision] "
                             "(the local Hugging Face cache first; HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE as "
                             "huggingface_hub reads them)")
    source.add_argument("--generic", action="store_true", help="read an unknown model_type as a dense Llama-style "
                                                               "decoder; the output says so first")
    arch = parser.add_argument_group("architecture (cookbook names and aliases; each replaces the model's value)")
    for flags, field, text in MODEL_COUNT_FLAGS:
        arch.add_argument(*flags, dest=field, metavar="N", help=text)
    arch.add_argument("--kv-size-ratio", "-kv", dest="kv_size_ratio", metavar="R",
                      help="kv heads / query heads as a decimal (cookbook; 1 MHA, 0.25 for 8 of 32 heads); "
                           "--num-kv-heads is exact")
    arch.add_argument("--ffn-expansion-factor", "-ff", dest="ffn_expansion_factor", metavar="F",
                      help="FFN width = F x hidden, which must come out whole (2.6875 for Llama-2-7B)")
    arch.add_argument("--num-mlp-linears", "-nl", dest="num_mlp_linears", choices=("2", "3"),
                      help="2: plain MLP; 3: gated (SwiGLU / GeGLU)")
    arch.add_argument("--swiglu", dest="swiglu", action="store_true", default=None,
                      help="the cookbook's older spelling of -nl 3 (a gated MLP of three --ffn-hidden-size linears)")
    arch.add_argument("--moe", action="store_true", help="the cookbook's switch for MoE layers (-e, default 8)")
    arch.add_argument("--dense-layers", dest="dense_layers", metavar="I,J,...",
                      help="layer indices that stay dense (Qwen-MoE mlp_only_layers)")
    arch.add_argument("--layer-types", dest="layer_types", metavar="LIST",
                      help="full or sliding per layer, comma-separated, or 'alternate' (sliding first, Gemma-2)")
    arch.add_argument("--num-sliding-layers", dest="num_sliding_layers", metavar="N",
                      help="the first N layers use --sliding-window, the rest full attention")
    arch.add_argument("--position-embedding", dest="position_embedding", choices=POSITION_KINDS,
                      help="learned (a table), rotary, alibi or none (no parameters), relative (Transformer-XL)")
    arch.add_argument("--norm", dest="norm", choices=NORM_KINDS + tuple(MODEL_NORM_ALIASES),
                      help="layernorm has a weight and a bias; nonparametric (also: none) has neither (OLMo)")
    arch.add_argument("--qk-norm", dest="qk_norm", choices=QK_NORM_KINDS,
                      help="norms on q and k: per head (Qwen3) or over the projection (OLMo-2)")
    arch.add_argument("--bias", action=_argparse.BooleanOptionalAction, dest="all_bias",
                      help="biases on every linear of attention and MLP (LayerNorm biases: --norm)")
    for flag, field, text in MODEL_SWITCH_FLAGS:
        arch.add_argument(flag, dest=field, action=_argparse.BooleanOptionalAction, help=text)
    arch.add_argument("--untied-embeddings", dest="tied_embeddings", action="store_false", help=_argparse.SUPPRESS)
    arch.add_argument("--dropout", dest="dropout", choices=("on", "off"),
                      help="dropout in training (activation memory; default: the model's config)")
    return source, arch


def model_arguments_given(args) -> bool:
    """Whether the command line names a model at all (a preset, a config or any architecture flag)."""
    names = [field for _, field, _ in MODEL_COUNT_FLAGS] + [field for _, field, _ in MODEL_SWITCH_FLAGS] + [
        "preset", "config", "kv_size_ratio", "ffn_expansion_factor", "num_mlp_linears", "dense_layers",
        "layer_types", "num_sliding_layers", "position_embedding", "norm", "qk_norm", "all_bias", "dropout", "swiglu"]
    return any(getattr(args, name, None) is not None for name in names) or bool(getattr(args, "moe", False))


def _mb_whole_product(flag: str, text: str, other: str, count: int, what: str) -> int:
    """count x the ratio `text` (the cookbook's -kv, -ff), which must come out a whole number: the 1e-6 slack
    absorbs float error in a factor such as 2.6666666666666665; a fraction of a head or a column is refused."""
    product = count * parse_number(text, flag, allow_zero=False)
    if not product <= MODEL_MAX_WIDTH:
        raise InputError(f"{flag} {text} times {other} {count} is beyond {MODEL_MAX_WIDTH:.0e}")
    if abs(product - round(product)) > 1e-6 or round(product) < 1:
        raise InputError(f"{flag} {text} times {other} {count} = {product:g} is not {what}")
    return int(round(product))


_MB_POSITIVE_WHEN_GIVEN = ("num_kv_heads", "head_dim", "moe_ffn_hidden_size", "shared_expert_ffn_size", "top_k",
                           "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "word_embed_proj_dim")
_MB_EXPERT_FIELDS = ("top_k", "expert_interval", "moe_ffn_hidden_size", "num_shared_experts", "shared_expert_ffn_size",
                     "first_k_dense", "dense_layers", "expert_interval_phase")


def _mb_flag(field: str) -> str:
    return next(flags[0] for flags, name, _ in MODEL_COUNT_FLAGS if name == field)


def _mb_layer_list(text: str, flag: str, layers: int) -> tuple:
    try:
        indices = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise InputError(f"{flag} expects comma-separated layer indices, got {text!r}") from None
    if any(not 0 <= i < layers for i in indices):
        raise InputError(f"{flag} entries must be layer indices in [0, {layers}), got {text!r}")
    return indices


def model_from_arguments(args, *, sequence_length: int | None = None, template: Model | None = None) -> tuple:
    """(Model, notes) from flags parsed with add_model_arguments: a preset or config.json first (else `template`,
    else flags alone), then each architecture flag replaces the field it names, then validate_model.

    sequence_length: the run's -s, which sizes a learned position table for a model from flags alone (the
    cookbook's reading of -s) when --learned-positions does not.  The notes say what was assumed or is not the
    source's own value; errors are InputError naming the flag (or the config.json field)."""
    notes = []
    preset, config = getattr(args, "preset", None), getattr(args, "config", None)
    if preset is not None and config is not None:
        raise InputError("--preset and --config are alternatives; give one")
    if getattr(args, "generic", False) and config is None:
        raise InputError("--generic reads an unknown model_type in a config.json; give it with --config")
    from_flags = preset is None and config is None and template is None
    if preset is not None:
        base = preset_model(preset)
    elif config is not None:
        raw, label = read_config_json(config)
        try:
            base, notes = model_from_config(raw, label, generic=getattr(args, "generic", False))
        except InputError as exc:  # the message names the file and its field; the flag too
            raise InputError(f"--config {exc}") from None
    elif template is not None:
        base = template
    else:
        if not model_arguments_given(args):
            raise InputError("no model given: --preset NAME, --config PATH|org/name, or architecture flags "
                             "(-l, -hs, ...)")
        # the cookbook lets -l, -hs and -v default (calc/calc_transformer_params.py: 44, 6144, 51200) and its mem
        # script -a (64; its params and flops scripts have no head count): the same values, each said in a note
        assumed = {field: value for field, value in MODEL_COOKBOOK_DEFAULTS.items()
                   if getattr(args, field, None) is None}
        hidden = parse_count(getattr(args, "hidden_size"), "--hidden-size", allow_zero=True, limit=MODEL_MAX_WIDTH) \
            if getattr(args, "hidden_size", None) is not None else assumed["hidden_size"]
        if getattr(args, "num_attention_heads", None) is None:
            ratio = getattr(args, "kv_size_ratio", None)
            ratio = parse_number(ratio, "--kv-size-ratio", allow_zero=False) if ratio is not None else 1
            heads = [64] + [hidden // d for d in (128, 64, 32) if hidden and hidden % d == 0]
            heads = [n for n in heads if hidden % n == 0 and abs(n * ratio - round(n * ratio)) < 1e-6]
            if not heads:
                raise InputError(f"--num-attention-heads is needed: neither 64 heads nor a head width of 128, 64 "
                                 f"or 32 divides --hidden-size {hidden} into heads that -kv leaves whole")
            assumed["num_attention_heads"] = heads[0]
        base = Model(num_layers=1, hidden_size=1, num_attention_heads=1, vocab_size=1, ffn_hidden_size=1,
                     gated_mlp=False, norm="layernorm")
        for field, value in assumed.items():
            setattr(args, field, str(value))
        notes.append(MODEL_FLAGS_ONLY_NOTE)
        if assumed:
            notes.append("assumed (the cookbook's defaults): " + ", ".join(
                f"{_mb_flag(field)} {value}" for field, value in assumed.items())
                + (f" (head_dim {hidden // assumed['num_attention_heads']}: the cookbook mem script's 64 heads where "
                   "they divide the width, else heads of 128; heads change no parameter or FLOP of a model with as "
                   "many KV heads as query heads, but eager attention's activation memory)"
                   if "num_attention_heads" in assumed else ""))
    values = {f.name: getattr(base, f.name) for f in _dc.fields(Model)}
    given = {}
    for flags, field, _ in MODEL_COUNT_FLAGS:
        text = getattr(args, field, None)
        if text is not None:
            given[field] = parse_count(text, flags[0], allow_zero=True, limit=MODEL_MAX_WIDTH)
    for field in _MB_POSITIVE_WHEN_GIVEN:  # 0 is the Model's "derived" marker there: a typed 0 is not a width
        if given.get(field) == 0:
            raise InputError(f"{_mb_flag(field)} must be a positive integer, got {getattr(args, field)!r}")
    if given.get("kv_lora_rank") == 0 and base.kv_lora_rank:
        raise InputError("--kv-lora-rank 0 turns MLA off, which leaves no head width of the model's own: describe "
                         "the model without MLA with flags or another preset")
    if given.get("num_experts") == 0 and base.num_experts:
        raise InputError("--num-experts 0 on a MoE model: transformers would build its MoE layers without routed "
                         "experts (Mixtral's with no MLP at all), not a dense model; describe the dense model with "
                         "flags or another preset")
    if given.get("mtp_layers") and (base.model_type != "deepseek_v3" and not base.router_score_correction_bias):
        raise InputError("--mtp-layers: multi-token-prediction modules are modelled for DeepSeek-V3's layout only "
                         "(DeepSeek-V3, Kimi-K2, GLM-4.5, DeepSeek-V3.2, GLM-5)")
    if "expert_interval" in given and given["expert_interval"] != 1 and base.num_experts \
            and base.expert_interval_phase == 0:
        raise InputError("--expert-interval on a DeepSeek model: DeepSeek's own code makes every N-th layer MoE and "
                         "transformers makes them all MoE (moe_layer_freq); only 1 is modelled")
    values.update(given)
    if values["num_layers"] > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"--num-layers {values['num_layers']} is beyond {MODEL_MAX_LAYERS:,}")
    if getattr(args, "swiglu", None) and str(getattr(args, "num_mlp_linears", None)) == "2":
        raise InputError("--swiglu (3 linears) and -nl 2 contradict each other; give one")
    if getattr(args, "num_mlp_linears", None) is not None or getattr(args, "swiglu", None):
        values["gated_mlp"] = bool(getattr(args, "swiglu", None)) or str(args.num_mlp_linears) == "3"
    # the attention shape: -kv is the cookbook's ratio; a model's own head_dim is kept (as editing hidden_size in
    # a config.json keeps its head_dim field), and said so
    if getattr(args, "kv_size_ratio", None) is not None:
        if "num_kv_heads" in given:
            raise InputError("--kv-size-ratio and --num-kv-heads are alternatives; give one")
        if parse_number(args.kv_size_ratio, "--kv-size-ratio", allow_zero=False) > 1:
            raise InputError(f"--kv-size-ratio is kv heads / query heads, at most 1, got {args.kv_size_ratio!r}")
        values["num_kv_heads"] = _mb_whole_product("--kv-size-ratio", args.kv_size_ratio, "--num-attention-heads",
                                                   values["num_attention_heads"], "a whole number of kv heads")
    if base.head_dim and "head_dim" not in given and {"hidden_size", "num_attention_heads"} & set(given) \
            and not values["kv_lora_rank"]:
        notes.append(f"head_dim stays the model's {base.head_dim} with the new --hidden-size / "
                     "--num-attention-heads (as in its config.json); --head-dim changes it")
    if values["kv_lora_rank"]:
        unused = [flag for flag, given_here in (("--num-kv-heads", "num_kv_heads" in given), ("--kv-size-ratio",
                  getattr(args, "kv_size_ratio", None) is not None), ("--head-dim", "head_dim" in given)) if given_here]
        if unused:
            notes.append(f"{', '.join(unused)}: no effect with MLA (--kv-lora-rank > 0), whose head widths are "
                         "--qk-nope-head-dim, --qk-rope-head-dim and --v-head-dim")
    # the MLP width: -ff is the cookbook's ratio; a model from flags alone is 4 x hidden wide
    if getattr(args, "ffn_expansion_factor", None) is not None:
        if "ffn_hidden_size" in given:
            raise InputError("--ffn-expansion-factor and --ffn-hidden-size are alternatives; give one")
        values["ffn_hidden_size"] = _mb_whole_product("--ffn-expansion-factor", args.ffn_expansion_factor,
                                                      "--hidden-size", values["hidden_size"],
                                                      "a whole FFN width; use --ffn-hidden-size")
    elif from_flags and "ffn_hidden_size" not in given:
        values["ffn_hidden_size"] = 4 * values["hidden_size"]
    # positions
    kind = getattr(args, "position_embedding", None)
    if kind is not None:
        values["position_embedding"] = kind
    if "max_position_embeddings" in given:
        rows = given["max_position_embeddings"]
        if rows and kind not in (None, "learned"):
            raise InputError(f"--learned-positions {rows} adds a learned table, which --position-embedding {kind} "
                             "says the model does not have; give one of them")
        if rows and values["position_embedding"] == "relative" and kind is None:
            raise InputError("--learned-positions: the model has relative positions (Transformer-XL); give "
                             "--position-embedding learned to replace them")
        if rows:
            values["position_embedding"] = "learned"
        elif values["position_embedding"] == "learned":
            values["position_embedding"] = "none"
    if given.get("position_offset") and values["position_embedding"] != "learned":
        raise InputError("--position-offset adds rows to a learned position table, which this model does not have")
    if values["position_embedding"] == "learned" and not values["max_position_embeddings"]:
        if sequence_length:
            values["max_position_embeddings"] = sequence_length
            notes.append(f"a learned position table of -s {sequence_length} rows (the cookbook's reading of -s)")
        else:
            raise InputError("--position-embedding learned needs the table's rows: --learned-positions N or -s N")
    # biases, norms and switches
    if getattr(args, "all_bias", None) is not None:
        values.update(qkv_bias=args.all_bias, o_bias=args.all_bias, mlp_bias=args.all_bias)
    for _, field, _ in MODEL_SWITCH_FLAGS:
        if getattr(args, field, None) is not None:
            values[field] = getattr(args, field)
    if getattr(args, "norm", None) is not None:
        values["norm"] = MODEL_NORM_ALIASES.get(args.norm, args.norm)
    if getattr(args, "qk_norm", None) is not None:
        values["qk_norm"] = args.qk_norm
    if getattr(args, "dropout", None) is not None:
        values["dropout"] = args.dropout == "on"
    # experts
    if getattr(args, "moe", False) and not values["num_experts"]:
        if "num_experts" in given:
            raise InputError("--moe needs --num-experts > 0")
        values["num_experts"] = 8
        notes.append("--moe without --num-experts: 8 experts assumed (the cookbook params script's default; its "
                     "flops script's is 128)")
    # a flag whose field this model never reads would leave every number unchanged: refused, naming it
    if not values["num_experts"]:
        for field in _MB_EXPERT_FIELDS:
            if field in given and given[field] not in (0, 1 if field == "expert_interval" else 0):
                raise InputError(f"{_mb_flag(field)} needs --num-experts (a mixture-of-experts model)")
        if getattr(args, "dense_layers", None):
            raise InputError("--dense-layers needs --num-experts (a mixture-of-experts model)")
        for field, what in (("router_bias", "--router-bias"), ("shared_expert_gate", "--shared-expert-gate")):
            if getattr(args, field, None):
                raise InputError(f"{what} needs --num-experts (a mixture-of-experts model)")
    elif getattr(args, "shared_expert_gate", None) and not values["num_shared_experts"]:
        raise InputError("--shared-expert-gate needs a shared expert (--num-shared-experts)")
    if not values["kv_lora_rank"]:
        for field in ("q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            if given.get(field):
                raise InputError(f"{_mb_flag(field)} is a width of MLA attention: it needs --kv-lora-rank")
    if values["num_experts"] and not values["top_k"]:
        values["top_k"] = 1
        notes.append("--topk not given: 1 expert per token (the cookbook's default)")
    if values["num_experts"] and values["expert_interval"] > values["num_layers"]:
        raise InputError(f"--expert-interval {values['expert_interval']} exceeds --num-layers "
                         f"{values['num_layers']}: no layer would be MoE")
    if values["num_experts"] and values["mlp_bias"] and not (base.num_experts and base.mlp_bias):
        culprit = "--bias" if getattr(args, "all_bias", None) else "--mlp-bias" if getattr(args, "mlp_bias", None) \
            else "--num-experts on a model whose MLP has biases"
        raise InputError(f"{culprit}: routed experts with biases are not modelled (every supported MoE family "
                         "builds them without); add --no-mlp-bias")
    if "num_shared_experts" in given and given["num_shared_experts"] and not (
            values["shared_expert_ffn_size"] or values["moe_ffn_hidden_size"]):
        raise InputError("--num-shared-experts needs --shared-expert-ffn-size or --moe-ffn-hidden-size")
    if getattr(args, "dense_layers", None) is not None:
        values["dense_layers"] = _mb_layer_list(args.dense_layers, "--dense-layers", values["num_layers"])
    elif any(i >= values["num_layers"] for i in values["dense_layers"]):
        raise InputError(f"--num-layers {values['num_layers']}: the model's dense layers (mlp_only_layers) name "
                         f"layer {max(values['dense_layers'])}; give --dense-layers for the new depth")
    # which layers use the sliding window
    types_text, sliding = getattr(args, "layer_types", None), getattr(args, "num_sliding_layers", None)
    if types_text is not None and sliding is not None:
        raise InputError("--layer-types and --num-sliding-layers are alternatives; give one")
    layers = values["num_layers"]
    if given.get("sliding_window") == 0 and types_text is None and sliding is None:
        values["layer_types"] = ()  # no window: every layer full attention, whatever the model's pattern was
    if types_text is not None:
        text = types_text.strip().lower()
        types = tuple("sliding" if i % 2 == 0 else "full" for i in range(layers)) if text == "alternate" else \
            tuple(t.strip() for t in text.split(",") if t.strip())
        if len(types) != layers or set(types) - {"full", "sliding"}:
            raise InputError(f"--layer-types expects 'full' or 'sliding' for each of the {layers} layers, or "
                             f"'alternate', got {types_text!r:.80}")
        values["layer_types"] = types
    elif sliding is not None:
        n = parse_count(sliding, "--num-sliding-layers", allow_zero=True, limit=MODEL_MAX_LAYERS)
        if n > layers:
            raise InputError(f"--num-sliding-layers {n} exceeds --num-layers {layers}")
        values["layer_types"] = tuple("sliding" if i < n else "full" for i in range(layers))
    elif values["layer_types"] and len(values["layer_types"]) != layers:
        raise InputError(f"--num-layers {layers}: the model's layer_types lists {len(values['layer_types'])} layers "
                         "(sliding / full attention); give --layer-types or --num-sliding-layers for the new depth")
    if values["mixer_types"] and len(values["mixer_types"]) != layers:  # Qwen3-Next: no flag lists its mixers
        raise InputError(f"--num-layers {layers}: the model's layer_types lists {len(values['mixer_types'])} layers "
                         "(gated delta-net / full attention); a new depth of it is not modelled")
    if "sliding" in values["layer_types"] and not values["sliding_window"]:
        raise InputError("sliding layers need --sliding-window N (the span in tokens)")
    if not values["sliding_window"] or "sliding" not in values["layer_types"]:
        values["layer_types"] = ()  # no window, or every layer full: one rule (Model.layer_attention)
        if types_text is not None or sliding is not None:
            values["sliding_window"] = 0
    elif "full" not in values["layer_types"]:
        values["layer_types"] = ()  # every layer slides: the window alone says so
    if not from_flags:  # provenance: the echoed source says which values are not the preset's / file's own
        changed = [f.name for f in _dc.fields(Model) if f.name not in ("name", "source")
                   and values[f.name] != getattr(base, f.name)]
        if changed and template is None:
            values["name"] = f"{values['name']} (modified)"
            values["source"] = f"{values['source']}; changed by flags: {', '.join(changed)}"
    if values["mtp_layers"] and not base.mtp_layers:  # the reader's "MTP not counted" note no longer holds
        notes = [n for n in notes if not n.startswith("num_nextn_predict_layers")]
    # a value the flags left as the model had it is named as the model's, not as a flag the user did not type
    labels = {} if from_flags else {f.name: f"the model's {f.name}" for f in _dc.fields(Model)
                                    if f.name not in given and f.name != "head_dim"
                                    and values[f.name] == getattr(base, f.name)}
    model = validate_model(Model(**values), labels)
    placement = ("num_experts", "first_k_dense", "expert_interval", "num_layers")
    if model.num_experts and not model.moe_layer_count() and (
            any(f in given for f in placement) or getattr(args, "dense_layers", None) is not None):
        raise InputError("no layer would be MoE with these flags (--num-experts, --first-k-dense, --dense-layers, "
                         "--expert-interval, --num-layers); describe a dense model instead")
    if "ffn_hidden_size" in given and model.num_experts and model.moe_ffn_hidden_size and \
            model.moe_layer_count() == model.num_layers:
        raise InputError("--ffn-hidden-size: every layer of this model is MoE and its experts are "
                         "--moe-ffn-hidden-size wide; nothing reads it")
    return model, notes


# --------------------------------------------------------------------------------------------------------------
# KV-cache element types: one table, so the memory and quantization scripts price a cache alike
# --------------------------------------------------------------------------------------------------------------
# (bytes per block, values per block): llama.cpp's cache types (-ctk / -ctv; block sizes from ggml-common.h:
# block_q8_0 = 2-byte scale + 32 int8, q5_1 = 2 + 2 + 4 + 16, q5_0 = 2 + 4 + 16, q4_1 = 2 + 2 + 16,
# q4_0 / iq4_nl = 2 + 16), vLLM's --kv-cache-dtype fp8 (e4m3 or e5m2, one byte, per-tensor scales only), and plain
# int8 / int4 caches without per-block scales.
KV_CACHE_DTYPES = {"fp32": (4, 1), "fp16": (2, 1), "bf16": (2, 1), "fp8": (1, 1), "int8": (1, 1), "int4": (1, 2),
                   "q8_0": (34, 32), "q5_1": (24, 32), "q5_0": (22, 32), "q4_1": (20, 32), "q4_0": (18, 32),
                   "iq4_nl": (18, 32)}
KV_CACHE_DTYPE_ALIASES = {"f32": "fp32", "float32": "fp32", "f16": "fp16", "float16": "fp16", "half": "fp16",
                          "bfloat16": "bf16", "fp8_e4m3": "fp8", "fp8_e5m2": "fp8"}


def kv_cache_dtype(text, flag: str = "--kv-dtype") -> str:
    """The canonical KV-cache type for a spelling users know (f16 as llama.cpp, fp16, float16, bfloat16, fp8_e4m3
    as vLLM, q8_0, ...); InputError naming `flag` otherwise."""
    name = str(text).strip().lower()
    name = KV_CACHE_DTYPE_ALIASES.get(name, name)
    if name not in KV_CACHE_DTYPES:
        raise InputError(f"{flag} must be one of {', '.join(KV_CACHE_DTYPES)} (or f16, bfloat16, fp8_e4m3, ...), "
                         f"got {text!r}")
    return name


def kv_row_bytes(values: int, dtype: str, flag: str = "--kv-dtype") -> int:
    """Exact bytes of one cached row of `values` elements (one token's K or V of one layer); a block type needs
    rows that are a whole number of blocks (llama.cpp refuses others), so a remainder is an InputError."""
    block_bytes, block = KV_CACHE_DTYPES[dtype]
    if values % block:
        raise InputError(f"{flag} {dtype}: a cache row of {values} values is not a whole number of its {block}-value "
                         "blocks")
    return values // block * block_bytes


# --------------------------------------------------------------------------------------------------------------
# Accelerators: one catalogue for every script that needs a device (peaks, memory, bandwidth, links)
# --------------------------------------------------------------------------------------------------------------
# Per device: memory_gib (the marketed capacity; the "GB" of GPU DRAM/HBM and of unified memory are 2^30-byte
# units: nvidia-smi shows an "80GB" A100 as 81,920 MiB and an H100 80GB as 81,559 MiB, the rest reserved), bandwidth
# in GB/s (10^9 B/s); DENSE peak tensor TFLOP/s (TOPS for int8) per dtype, fp32 the non-tensor rate: where a
# datasheet prints only "with sparsity" figures the dense one is half ("Specifications 1/2 lower without
# sparsity"), None where the device has no such mode or no source gives it; GeForce cards with fp32 accumulation
# (what training uses); link: the scale-up interconnect per GPU and direction in GB/s (NVLink 900 GB/s is 450 each
# way), domain: the GPUs that link joins (8 on an HGX board, 72 in a GB200 NVL72 rack), nic: scale-out bandwidth
# per GPU and direction in GB/s (400 Gb/s InfiniBand = 50), None where no source gives it; source: where each
# number comes from ("secondary" where no vendor document was found).
def _mb_gpu(name, memory_gib, bandwidth, fp32=None, tf32=None, bf16=None, fp16=None, fp8=None, int8=None, fp4=None,
            link=None, domain=None, nic=None, gpu_share=None, source=""):
    return dict(name=name, memory_gib=memory_gib, bandwidth=bandwidth, fp32=fp32, tf32=tf32, bf16=bf16, fp16=fp16,
                fp8=fp8, int8=int8, fp4=fp4, link=link, domain=domain, nic=nic, gpu_share=gpu_share, source=source)


GPU_CATALOGUE = {
    "v100": _mb_gpu("NVIDIA Tesla V100 SXM2 32GB", 32, 900, fp32=15.7, fp16=125.0,
                    source="NVIDIA Tesla V100 datasheet (SXM2): 15.7 FP32, 125 tensor TFLOPS, 32 GB HBM2, 900 GB/s"),
    "a100-40gb": _mb_gpu("NVIDIA A100 40GB SXM4", 40, 1555, fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0, int8=624.0,
                         link=300, domain=8, nic=25,
                         source="NVIDIA A100 Tensor Core GPU datasheet (SXM 40GB): 1,555 GB/s, dense and sparse "
                                "side by side, NVLink 600 GB/s; DGX A100: 8 GPUs, one 200 Gb/s HDR NIC each"),
    "a100-80gb": _mb_gpu("NVIDIA A100 80GB SXM4", 80, 2039, fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0, int8=624.0,
                         link=300, domain=8, nic=25,
                         source="NVIDIA A100 Tensor Core GPU datasheet (SXM 80GB): 2,039 GB/s, NVLink 600 GB/s; DGX "
                                "A100: 8 GPUs, one 200 Gb/s HDR NIC each"),
    "h100-sxm": _mb_gpu("NVIDIA H100 SXM5 80GB", 80, 3350, fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5, fp8=1979.0,
                        int8=1979.0, link=450, domain=8, nic=50,
                        source="NVIDIA H100 Tensor Core GPU datasheet (SXM): 989 TF32 / 1,979 BF16 / 3,958 FP8 "
                               "TFLOPS with sparsity, 3.35 TB/s, NVLink 900 GB/s; DGX H100: 8 GPUs, one 400 Gb/s "
                               "ConnectX-7 each"),
    "h100-pcie": _mb_gpu("NVIDIA H100 PCIe 80GB", 80, 2000, fp32=51.0, tf32=378.0, bf16=756.5, fp16=756.5,
                         fp8=1513.0, int8=1513.0,
                         source="NVIDIA H100 Tensor Core GPU datasheet (PCIe): 756 TF32 / 1,513 BF16 / 3,026 FP8 "
                                "TFLOPS with sparsity, 2 TB/s"),
    "h100-nvl": _mb_gpu("NVIDIA H100 NVL 94GB", 94, 3900, bf16=835.5, fp16=835.5,
                        source="NVIDIA H100 datasheet (NVL, per GPU): 1,671 BF16 TFLOPS with sparsity (as torchtitan "
                               "and OLMo-core read it), 94 GB HBM3, 3.9 TB/s (secondary)"),
    "h200": _mb_gpu("NVIDIA H200 SXM 141GB", 141, 4800, fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5, fp8=1979.0,
                    int8=1979.0, link=450, domain=8, nic=50,
                    source="NVIDIA H200 Tensor Core GPU datasheet (SXM): H100 SXM compute, 141 GB HBM3e, 4.8 TB/s; "
                           "NVIDIA MLPerf v4.1 H200-SXM-141GBx8: 8 GPUs, NVLink 900 GB/s, 400 Gb/s IB per GPU"),
    "h800": _mb_gpu("NVIDIA H800 SXM5 80GB", 80, 3350, fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5, fp8=1979.0,
                    int8=1979.0, link=200, domain=8, nic=50,
                    source="secondary (no NVIDIA datasheet is hosted): H100 SXM silicon with NVLink 400 GB/s; "
                           "DeepSeek-V3 report (arXiv 2412.19437) sec. 3.1: 8 GPUs per node, IB 50 GB/s"),
    "h20": _mb_gpu("NVIDIA H20 96GB", 96, 4000, fp32=44.0, tf32=74.0, bf16=148.0, fp16=148.0, fp8=296.0, int8=296.0,
                   link=450, domain=8,
                   source="secondary (partner spec sheets as reported): 96 GB HBM3, 4.0 TB/s, 148 FP16/BF16 and 296 "
                          "FP8/INT8 dense, NVLink 900 GB/s, 8-way HGX"),
    "b200": _mb_gpu("NVIDIA B200 (HGX/DGX B200, per GPU)", 180, 8000, fp32=75.0, tf32=1100.0, bf16=2250.0,
                    fp16=2250.0, fp8=4500.0, int8=4500.0, fp4=9000.0, link=900, domain=8, nic=50,
                    source="NVIDIA HGX B200 specifications (per GPU): 2.2 TF32 / 4.5 BF16 / 9 FP8 / 18 FP4 PFLOPS "
                           "with sparsity, NVLink 1.8 TB/s; DGX B200: 1,440 GB and 64 TB/s for 8 GPUs, one 400 Gb/s "
                           "ConnectX-7 each"),
    "gb200": _mb_gpu("NVIDIA GB200 NVL72 (per Blackwell GPU)", 186, 8000, fp32=80.0, tf32=1250.0, bf16=2500.0,
                     fp16=2500.0, fp8=5000.0, int8=5000.0, fp4=10000.0, link=900, domain=72,
                     source="NVIDIA GB200 NVL72 specifications, per GPU (/72): 180 TF32 / 360 BF16 / 720 FP8 / "
                            "1,440 FP4 PFLOPS with sparsity, 5,760 FP32 TFLOPS, 576 TB/s, 186 GB HBM3E, NVLink "
                            "1.8 TB/s in one 72-GPU domain"),
    "b300": _mb_gpu("NVIDIA B300 (HGX B300, per GPU)", 288, 8000, fp32=75.0, tf32=1125.0, bf16=2250.0, fp16=2250.0,
                    fp8=4500.0, fp4=13125.0, link=900, domain=8, nic=100,
                    source="secondary (NVIDIA's HGX B300 table as reproduced): 288 GB HBM3e, 8 TB/s, NVLink 1.8 TB/s, "
                           "800 Gb/s ConnectX-8 per GPU; dense = half the sparse figures; int8 left out (copies "
                           "of the table disagree)"),
    "mi250x": _mb_gpu("AMD Instinct MI250X", 128, 3277, fp32=47.9, bf16=383.0, fp16=383.0,
                      source="AMD Instinct MI250X datasheet: 47.9 FP32 vector, 383 FP16/BF16 TFLOPS, 128 GB HBM2e, "
                             "3.2768 TB/s"),
    "mi300x": _mb_gpu("AMD Instinct MI300X", 192, 5300, fp32=163.4, tf32=653.7, bf16=1307.4, fp16=1307.4,
                      fp8=2614.9, int8=2614.9, domain=8, nic=50,
                      source="AMD Instinct MI300X datasheet: 163.4 FP32, 653.7 TF32, 1,307.4 BF16, 2,614.9 FP8 "
                             "TFLOPS, 192 GB HBM3, 5.3 TB/s; 8 per OAM board (AMD MLPerf v4.1); Azure ND MI300X v5: "
                             "8 x 400 Gb/s NDR"),
    "mi325x": _mb_gpu("AMD Instinct MI325X", 256, 6000, fp32=163.4, tf32=653.7, bf16=1307.4, fp16=1307.4, fp8=2614.9,
                      domain=8,
                      source="AMD Instinct MI325X product page (as quoted by the ROCm inference cookbook) and ROCm "
                             "GPU specifications: MI300X compute, 256 GB HBM3E, 6 TB/s"),
    "mi355x": _mb_gpu("AMD Instinct MI355X", 288, 8000, bf16=2516.6, fp16=2516.6, fp8=5033.2, fp4=10066.4, domain=8,
                      source="AMD dense peaks (AMD's own roofline tables: 2,516.6 BF16, 5,033.2 FP8, 10,066.4 MXFP4); "
                             "ROCm GPU specifications: 288 GiB HBM3E; 8 TB/s"),
    "gaudi3": _mb_gpu("Intel Gaudi 3 (HL-325L OAM)", 128, 3670, bf16=1835.0, fp8=1835.0, link=525, domain=8, nic=75,
                      source="Intel, Gaudi 3, Hot Chips 2024: 1,835 BF16/FP8 matrix TFLOPS, 128 GB HBM2e, 3.67 TB/s; "
                             "Intel Gaudi docs, Network Configuration: 21 x 200 GbE scale-up ports (525 GB/s each "
                             "way), 3 x 200 GbE scale-out (75 GB/s each way)"),
    "l4": _mb_gpu("NVIDIA L4", 24, 300, fp32=30.3, tf32=60.0, bf16=121.0, fp16=121.0, fp8=242.5, int8=242.5,
                  source="NVIDIA L4 datasheet: 120 TF32 / 242 BF16 / 485 FP8 TFLOPS with sparsity, 24 GB GDDR6, "
                         "300 GB/s"),
    "l40s": _mb_gpu("NVIDIA L40S", 48, 864, fp32=91.6, tf32=183.0, bf16=362.05, fp16=362.05, fp8=733.0, int8=733.0,
                    source="NVIDIA L40S datasheet: 366 TF32 / 733 BF16 / 1,466 FP8 TFLOPS with sparsity, 48 GB GDDR6, "
                           "864 GB/s"),
    "a10": _mb_gpu("NVIDIA A10", 24, 600, bf16=125.0, fp16=125.0, int8=250.0,
                   source="NVIDIA A10 datasheet: 125 FP16/BF16 TFLOPS, 250 INT8 TOPS (dense), 24 GB GDDR6, 600 GB/s"),
    "rtx-a6000": _mb_gpu("NVIDIA RTX A6000", 48, 768, fp32=38.7, bf16=154.8, fp16=154.8,
                         source="NVIDIA RTX A6000 specifications (as reproduced by ServeTheHome and Microway): "
                                "309.7 FP16 tensor TFLOPS with sparsity, 48 GB GDDR6, 768 GB/s"),
    "rtx-3090": _mb_gpu("NVIDIA GeForce RTX 3090", 24, 936, fp32=35.6, bf16=71.0, fp16=71.0,
                        source="NVIDIA Ampere GA102 whitepaper, Appendix A, as quoted (secondary): 35.6 FP32, 142 FP16 "
                               "tensor TFLOPS with FP16 accumulation, half with FP32 accumulation; 936 GB/s"),
    # the 12 and 16 GB cards people run quantized models on: memory and bandwidth only (bus width x data rate)
    "rtx-3060": _mb_gpu("NVIDIA GeForce RTX 3060 12GB", 12, 360,
                        source="NVIDIA's GeForce RTX 30/40 spec table as printed by guru3d.com (secondary): 12 GB "
                               "GDDR6, 192-bit, 360 GB/s (15 Gbps x 192 / 8)"),
    "rtx-4060-ti-16gb": _mb_gpu("NVIDIA GeForce RTX 4060 Ti 16GB", 16, 288,
                                source="NVIDIA's RTX 4060 Ti announcement as reported (secondary): 16 GB GDDR6, "
                                       "128-bit, 288 GB/s (18 Gbps x 128 / 8)"),
    "rtx-4090": _mb_gpu("NVIDIA GeForce RTX 4090", 24, 1008, fp32=82.6, tf32=82.6, bf16=165.2, fp16=165.2, fp8=330.3,
                        int8=660.6,
                        source="NVIDIA Ada Lovelace architecture whitepaper v1.0, Appendix A (RTX 4090, FP32 "
                               "accumulate), 1,008 GB/s"),
    "rtx-5090": _mb_gpu("NVIDIA GeForce RTX 5090", 32, 1792, bf16=209.5, fp16=209.5, fp8=419.0,
                        source="secondary (NVIDIA product page as quoted): 32 GB GDDR7, 1,792 GB/s; tensor rates with "
                               "FP32 accumulation (half the FP16-accumulate 419 / sparse 838 TFLOPS)"),
    "tpu-v4": _mb_gpu("Google Cloud TPU v4 (per chip)", 32, 1200, bf16=275.0,
                      source="Google Cloud TPU v4 documentation: 275 BF16 TFLOPS, 32 GiB HBM2, 1,200 GB/s per chip"),
    "tpu-v5e": _mb_gpu("Google Cloud TPU v5e (per chip)", 16, 819, bf16=197.0, int8=393.0, link=200, domain=256,
                       source="Google Cloud TPU v5e documentation: 197 BF16 TFLOPS, 393 INT8 TOPS, 16 GB HBM2, "
                              "819 GB/s, ICI 400 GB/s per chip (both ways), 256-chip pod"),
    "tpu-v5p": _mb_gpu("Google Cloud TPU v5p (per chip)", 95, 2765, bf16=459.0, link=600, domain=8960,
                       source="Google Cloud TPU v5p documentation: 459 BF16 TFLOPS, 95 GiB HBM2e, 2,765 GB/s, ICI "
                              "1,200 GB/s per chip (both ways), 8,960-chip pod"),
    "tpu-v6e": _mb_gpu("Google Cloud TPU v6e Trillium (per chip)", 32, 1638, bf16=918.0, int8=1836.0, link=400,
                       domain=256,
                       source="Google Cloud TPU v6e documentation: 918 BF16 TFLOPS, 1,836 INT8 TOPS, 32 GB HBM, "
                              "1,638 GB/s, ICI 800 GB/s per chip (both ways), 256-chip pod"),
    # Apple silicon: unified memory (the largest configuration; --gpu-memory for another), of which macOS lets the
    # GPU wire about 3/4 by default on machines above 36 GB (Metal's recommendedMaxWorkingSetSize as llama.cpp logs
    # it: 73,728 MB of 96 GB, ggml-org/llama.cpp#3213; 2/3 on 16 and 32 GB machines, ollama#434); Apple publishes
    # no tensor FLOP/s
    "m2-ultra": _mb_gpu("Apple M2 Ultra", 192, 800, gpu_share=0.75,
                        source="Apple Newsroom, 'Apple introduces M2 Ultra' (2023-06-05): up to 192 GB unified "
                               "memory, 800 GB/s"),
    "m3-max": _mb_gpu("Apple M3 Max (40-core GPU)", 128, 400, gpu_share=0.75,
                      source="Apple M3 Max specifications (secondary): up to 128 GB unified memory, 400 GB/s"),
    "m4-max": _mb_gpu("Apple M4 Max (40-core GPU)", 128, 546, gpu_share=0.75,
                      source="Apple M4 Max announcement as reported (2024-10-30): up to 128 GB unified memory, "
                             "546 GB/s"),
}
GPU_PEAK_DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4")


def gpu_spec(name: str, flag: str = "--gpu") -> dict:
    """The catalogue row of a device (case-insensitive key); InputError naming `flag` and the keys otherwise."""
    key = str(name).strip().lower()
    if key not in GPU_CATALOGUE:
        raise InputError(f"{flag} {name!r}: unknown; choose from {', '.join(GPU_CATALOGUE)}")
    return GPU_CATALOGUE[key]


def gpu_memory_bytes(name: str, flag: str = "--gpu") -> int:
    """The device's memory in bytes (memory_gib x 2^30); for Apple silicon, the share its GPU may wire by default."""
    row = gpu_spec(name, flag)
    total = row["memory_gib"] * 2**30
    return int(total * row["gpu_share"]) if row["gpu_share"] else total


# --------------------------------------------------------------------------------------------------------------
# GGUF files: ggml's block types, llama.cpp's tensor list and llama-quantize's per-tensor types
# --------------------------------------------------------------------------------------------------------------
# One source for the quantization script (file sizes) and the memory script (llama.cpp's model buffers), so that
# the two price a Q4_K_M file alike.


@_dc.dataclass(frozen=True)
class BlockType:
    """One storage type: ``block`` weights stored in ``bytes`` bytes (scales included)."""
    name: str
    block: int
    bytes: int
    layout: str
    source: str

    @property
    def bpw(self) -> float:
        return 8 * self.bytes / self.block


_GGML = "llama.cpp ggml/src/ggml-common.h"
GGML_TYPES = {t.name: t for t in [
    BlockType("F32", 1, 4, "IEEE float32", _GGML),
    BlockType("F16", 1, 2, "IEEE float16", _GGML),
    BlockType("BF16", 1, 2, "bfloat16", _GGML),
    BlockType("Q8_0", 32, 34, "fp16 d + 32 int8 (block_q8_0)", _GGML),
    BlockType("Q5_1", 32, 24, "fp16 d + fp16 m + 4 B high bits + 16 B nibbles (block_q5_1)", _GGML),
    BlockType("Q5_0", 32, 22, "fp16 d + 4 B high bits + 16 B nibbles (block_q5_0)", _GGML),
    BlockType("Q4_1", 32, 20, "fp16 d + fp16 m + 16 B nibbles (block_q4_1)", _GGML),
    BlockType("Q4_0", 32, 18, "fp16 d + 16 B nibbles (block_q4_0)", _GGML),
    BlockType("IQ4_NL", 32, 18, "fp16 d + 16 B indices into a 16-level table (block_iq4_nl)", _GGML),
    BlockType("MXFP4", 32, 17, "E8M0 exponent + 16 B of E2M1 (block_mxfp4)", _GGML),
    BlockType("NVFP4", 64, 36, "4 UE4M3 scales (one per 16) + 32 B of E2M1 (block_nvfp4)", _GGML),
    BlockType("Q6_K", 256, 210, "128 B low 4 bits + 64 B high 2 bits + 16 int8 scales + fp16 d (block_q6_K)", _GGML),
    BlockType("Q5_K", 256, 176, "fp16 d, dmin + 12 B 6-bit scales/mins + 32 B high bits + 128 B (block_q5_K)", _GGML),
    BlockType("Q4_K", 256, 144, "fp16 d, dmin + 12 B 6-bit scales/mins + 128 B nibbles (block_q4_K)", _GGML),
    BlockType("Q3_K", 256, 110, "32 B high-bit mask + 64 B low 2 bits + 12 B scales + fp16 d (block_q3_K)", _GGML),
    BlockType("Q2_K", 256, 84, "16 B 4-bit scales/mins + 64 B 2-bit quants + fp16 d, dmin (block_q2_K)", _GGML),
    BlockType("IQ4_XS", 256, 136, "fp16 d + 2 B + 4 B scales + 128 B nibbles (block_iq4_xs)", _GGML),
    BlockType("IQ3_S", 256, 110, "fp16 d + 64 B grid + 8 B high bits + 32 B signs + 4 B scales (block_iq3_s)", _GGML),
    BlockType("IQ3_XXS", 256, 98, "fp16 d + 96 B grid indices, signs and scales (block_iq3_xxs)", _GGML),
    BlockType("IQ2_S", 256, 82, "fp16 d + 64 B + 8 B high bits + 8 B scales (block_iq2_s)", _GGML),
    BlockType("IQ2_XS", 256, 74, "fp16 d + 64 B 16-bit grid codes + 8 B scales (block_iq2_xs)", _GGML),
    BlockType("IQ2_XXS", 256, 66, "fp16 d + 64 B (block_iq2_xxs)", _GGML),
    BlockType("IQ1_M", 256, 56, "32 B + 16 B + 8 B scales, no separate fp16 (block_iq1_m)", _GGML),
    BlockType("IQ1_S", 256, 50, "fp16 d + 32 B + 16 B (block_iq1_s)", _GGML),
    BlockType("TQ2_0", 256, 66, "64 B of 2-bit ternary + fp16 d (block_tq2_0)", _GGML),
    BlockType("TQ1_0", 256, 54, "48 B (5 trits/byte) + 4 B + fp16 d (block_tq1_0)", _GGML),
]}

# GGUF file types (llama-quantize names) -> default tensor type (llama_ftype_get_default_type).
GGUF_FILE_TYPES = {
    "F32": "F32", "F16": "F16", "BF16": "BF16",
    "Q4_0": "Q4_0", "Q4_1": "Q4_1", "Q5_0": "Q5_0", "Q5_1": "Q5_1", "Q8_0": "Q8_0",
    "Q2_K": "Q2_K", "Q2_K_S": "Q2_K", "Q3_K_S": "Q3_K", "Q3_K_M": "Q3_K", "Q3_K_L": "Q3_K",
    "Q4_K_S": "Q4_K", "Q4_K_M": "Q4_K", "Q5_K_S": "Q5_K", "Q5_K_M": "Q5_K", "Q6_K": "Q6_K",
    "IQ1_S": "IQ1_S", "IQ1_M": "IQ1_M", "IQ2_XXS": "IQ2_XXS", "IQ2_XS": "IQ2_XS", "IQ2_S": "IQ2_XS",
    "IQ2_M": "IQ2_S", "IQ3_XXS": "IQ3_XXS", "IQ3_XS": "IQ3_S", "IQ3_S": "IQ3_S", "IQ3_M": "IQ3_S",
    "IQ4_NL": "IQ4_NL", "IQ4_XS": "IQ4_XS", "TQ1_0": "TQ1_0", "TQ2_0": "TQ2_0", "MXFP4_MOE": "MXFP4",
}
UNQUANTIZED_GGML = ("F32", "F16", "BF16")
IMATRIX_REQUIRED_TYPES = ("IQ3_XXS", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ1_M", "IQ1_S")


# The model's tensors as a GGUF file holds them.
# The model is the shared block's Model (from --preset, --config or flags) and its parameters are the block's tensor
# list (model_param_tensors), the one list every calc script counts.  Below is only llama.cpp's view of it:
# each tensor's GGUF name, its ggml shape ``ne`` (PyTorch's shape reversed: ne[0] is the row a quantization block
# runs along, then the output features, then the expert), the tensor llama.cpp's converter splits (the stacked expert
# gate_up_proj becomes ffn_gate_exps + ffn_up_exps) and the one it adds (rope_freqs).  So the parameters quantized
# here are, by construction, the parameters the other scripts count.

GGUF_MAX_LAYERS = 1000  # every tensor of every layer is listed and walked by llama.cpp's per-tensor rules


@_dc.dataclass(frozen=True)
class GgufTensor:
    """One tensor of a GGUF file: its name, its shape ``ne`` (ne[0] = row length, as in ggml) and how it is stored."""
    name: str
    ne: tuple
    layer: int = -1
    linear: bool = False       # a Linear inside a block: GPU formats quantize it
    force_f32: bool = False    # written as F32 by convert_hf_to_gguf (1-D tensors, router, positions)
    gguf_only: bool = False    # not a model parameter (llama.cpp's precomputed rope_freqs)
    buffer: bool = False       # stored in the checkpoint, but a buffer in transformers, not a parameter
    linear_bias: bool = False  # the bias of a block Linear (GPTQ's QuantLinear stores its own)
    keep_f32: bool = False     # held in fp32 by transformers whatever the dtype (ERNIE 4.5's / Hunyuan's routers)

    @property
    def numel(self) -> int:
        return _math.prod(self.ne)

    @property
    def is_parameter(self) -> bool:
        """A PyTorch parameter (llama.cpp's rope_freqs table and checkpoint buffers are not)."""
        return not (self.gguf_only or self.buffer)


# llama.cpp's name for each module of the block's tensor list (src/llama-arch.cpp LLM_TENSOR_NAMES, as
# convert_hf_to_gguf.py maps the transformers names), and whether it is a Linear inside the blocks, which the GPU
# formats quantize (embeddings, LM head, norms, routers and the shared-expert gate are not).  OPT has no llama.cpp
# architecture: its project_in / project_out are named proj_in / proj_out here.  Gopher's Transformer-XL W_kR has
# no llama.cpp name either: attn_rel_k.
_GGUF_GLOBAL_MODULES = {
    "embed_tokens": ("token_embd", False), "embed_positions": ("position_embd", False),
    "project_in": ("proj_in", True), "embed_norm": ("token_embd_norm", False),
    "final_norm": ("output_norm", False), "project_out": ("proj_out", True), "lm_head": ("output", False),
}
_GGUF_LAYER_MODULES = {
    "self_attn.q_proj": ("attn_q", True), "self_attn.k_proj": ("attn_k", True), "self_attn.v_proj": ("attn_v", True),
    "self_attn.qkv_proj": ("attn_qkv", True),  # fused, as llama.cpp keeps it (GPT-2, BLOOM, NeoX, Falcon, Phi-3)
    "self_attn.o_proj": ("attn_output", True),
    "self_attn.q_norm": ("attn_q_norm", False), "self_attn.k_norm": ("attn_k_norm", False),
    "self_attn.rel_k_proj": ("attn_rel_k", True),
    # MLA (DeepSeek-V2/V3)
    "self_attn.q_a_proj": ("attn_q_a", True), "self_attn.q_a_layernorm": ("attn_q_a_norm", False),
    "self_attn.q_b_proj": ("attn_q_b", True), "self_attn.kv_a_proj_with_mqa": ("attn_kv_a_mqa", True),
    "self_attn.kv_a_layernorm": ("attn_kv_a_norm", False), "self_attn.kv_b_proj": ("attn_kv_b", True),
    # dense MLP; Phi-3's fused gate_up_proj is one ffn_up of twice the width in llama.cpp
    "mlp.gate_proj": ("ffn_gate", True), "mlp.up_proj": ("ffn_up", True), "mlp.gate_up_proj": ("ffn_up", True),
    "mlp.down_proj": ("ffn_down", True),
    # MoE: router, stacked routed experts, shared experts (DeepSeek's n shared experts are one MLP n times as wide)
    "mlp.router": ("ffn_gate_inp", False),
    "mlp.shared_experts.gate_proj": ("ffn_gate_shexp", True), "mlp.shared_experts.up_proj": ("ffn_up_shexp", True),
    "mlp.shared_experts.gate_up_proj": ("ffn_up_shexp", True),
    "mlp.shared_experts.down_proj": ("ffn_down_shexp", True),
    "mlp.shared_expert_gate": ("ffn_gate_inp_shexp", False),
}
# Gemma 4's MoE block beside the MLP (transformers' names -> llama.cpp's, a Linear inside the block or not)
_GGUF_GEMMA4_MOE = {
    "router.proj.weight": ("ffn_gate_inp.weight", False), "router.scale": ("ffn_gate_inp.scale", False),
    "router.per_expert_scale": ("ffn_down_exps.scale", False),
    "experts.gate_up_proj": ("ffn_gate_up_exps.weight", True), "experts.down_proj": ("ffn_down_exps.weight", True),
    "pre_feedforward_layernorm_2.weight": ("pre_ffw_norm_2.weight", False),
    "post_feedforward_layernorm_1.weight": ("post_ffw_norm_1.weight", False),
    "post_feedforward_layernorm_2.weight": ("post_ffw_norm_2.weight", False),
}
# The block numbers a layer's norms norm1..normN; llama.cpp names them by what they normalise, which the count and
# placement say (the layouts the block's readers and presets make).
_GGUF_LAYER_NORMS = {
    (1, "pre"): ("attn_norm",), (1, "parallel"): ("attn_norm",),              # GPT-J, Phi-2, Falcon-7B, PaLM
    (2, "pre"): ("attn_norm", "ffn_norm"),
    (2, "parallel"): ("attn_norm", "attn_norm_2"),                            # Falcon-40B: ln_attn, ln_mlp
    (2, "post"): ("post_attention_norm", "post_ffw_norm"),                    # OLMo-2
    (4, "pre"): ("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"),  # Gemma-2 sandwich norms
}


# An architecture whose llama.cpp graph names a layer's norms otherwise: gpt-oss's second norm (before the MoE block)
# is attn_post_norm, "blk.N.post_attention_norm" (src/models/openai-moe.cpp load_arch_tensors).
_GGUF_ARCH_LAYER_NORMS = {"gpt-oss": ("attn_norm", "post_attention_norm"),
                          "dbrx": ("attn_norm", "attn_output_norm"),  # llama.cpp LLM_ARCH_DBRX: norm_1, norm_2
                          # Qwen3-Next: input_layernorm, post_attention_layernorm -> attn_norm, attn_post_norm
                          # ("blk.N.post_attention_norm"; src/models/qwen3next.cpp load_arch_tensors)
                          "qwen3next": ("attn_norm", "post_attention_norm")}


def check_gguf_model(m: Model, labels: dict | None = None) -> Model:
    """The GGUF tensor list's own limits on a validated Model: a layer count it can walk, a norm layout and tensors
    llama.cpp names.  ``labels`` names where a value came from, by Model field (a flag or a config field:
    {"num_layers": "--num-layers"}); without one, the layer count is called --num-layers and the rest the model's
    source."""
    labels = labels or {}
    if m.num_layers > GGUF_MAX_LAYERS:
        raise InputError(f"{labels.get('num_layers', '--num-layers')} {m.num_layers} is above {GGUF_MAX_LAYERS} "
                         "(the GGUF tensor list walks every tensor of every layer)")
    if (m.norms_per_layer, m.norm_placement) not in _GGUF_LAYER_NORMS:
        raise InputError(f"{labels.get('norms_per_layer', m.source)}: {m.norms_per_layer} norms per layer placed "
                         f"{m.norm_placement!r} have no llama.cpp names; not modelled")
    if m.mtp_layers:
        raise InputError(f"{labels.get('mtp_layers', m.source)}: multi-token-prediction modules (mtp_layers "
                         f"{m.mtp_layers}) are not in llama.cpp's GGUF files (its converter drops them); not "
                         "modelled")
    return m


def _gguf_delta_net(m: Model, layer: int, t: ModelTensor, prefix: str, old_qwen3next: bool) -> list[GgufTensor]:
    """One tensor of Qwen3-Next's gated delta-net as llama.cpp's converter writes it (conversion/qwen.py
    Qwen3NextModel.modify_tensors, names from gguf-py's QWEN3NEXT tensor list, shapes as src/models/qwen3next.cpp
    load_arch_tensors creates them; kd = key heads x key head dim, vd = value heads x value head dim, Hv value heads):

    * in_proj_qkvz (2 kd + 2 vd, h), whose rows interleave [q, k, v, z] per key head, is reordered and split into
      attn_qkv {h, 2 kd + vd} and attn_gate {h, vd}.  Files converted before that split (``old_qwen3next``, the
      loader's "ssm_in is used by legacy GGUF", e.g. the Dec 2025 conversions) hold one ssm_in {h, 2 kd + 2 vd};
    * in_proj_ba -> ssm_ba {h, 2 Hv}; out_proj -> ssm_out {vd, h};
    * conv1d.weight (2 kd + vd, 1, kernel) is squeezed to 2-D -> ssm_conv1d {kernel, 2 kd + vd}, written F32 (the
      converter's always-F32 list holds SSM_CONV1D) and never quantized (tensor_allows_quantization skips
      "ssm_conv1d");
    * dt_bias -> ssm_dt.bias {Hv}, A_log -> ssm_a {Hv} (stored as -exp(A_log), no ".weight" suffix), the gated
      RMSNorm -> ssm_norm.weight {value head dim}: 1-D, F32.
    In llama-quant.cpp's categories attn_qkv is attention-QKV (it takes the attn_v rules and counts in
    n_attention_wv); attn_gate, ssm_in, ssm_ba and ssm_out are "other" (the file type's default type)."""
    kd = m.linear_num_key_heads * m.linear_key_head_dim
    vd, hv, h = m.linear_num_value_heads * m.linear_value_head_dim, m.linear_num_value_heads, m.hidden_size
    part = t.name[len("linear_attn."):]
    if part == "in_proj_qkvz.weight":
        if old_qwen3next:
            return [GgufTensor(f"{prefix}ssm_in.weight", (h, 2 * kd + 2 * vd), layer, linear=True)]
        return [GgufTensor(f"{prefix}attn_qkv.weight", (h, 2 * kd + vd), layer, linear=True),
                GgufTensor(f"{prefix}attn_gate.weight", (h, vd), layer, linear=True)]
    named = {"in_proj_ba.weight": ("ssm_ba.weight", (h, 2 * hv), True),
             "out_proj.weight": ("ssm_out.weight", (vd, h), True),
             "conv1d.weight": ("ssm_conv1d.weight", (m.linear_conv_kernel, 2 * kd + vd), False),
             "dt_bias": ("ssm_dt.bias", (hv,), False), "A_log": ("ssm_a", (hv,), False),
             "norm.weight": ("ssm_norm.weight", (m.linear_value_head_dim,), False)}
    return _gguf_named(m, layer, t, prefix, "linear_attn.", named)


def _gguf_mamba2(m: Model, layer: int, t: ModelTensor, prefix: str) -> list[GgufTensor]:
    """One tensor of Bamba's Mamba-2 mixer as llama.cpp writes it.  Bamba is llama.cpp's ``granitehybrid``
    architecture: conversion/granite.py ``GraniteHybridModel`` (registered for "BambaForCausalLM") hands the SSM
    layers' tensors to conversion/mamba.py ``Mamba2Model.modify_tensors``; names from gguf-py's tensor map, shapes as
    the granitehybrid loader creates them (src/llama-model.cpp / src/models, ``hparams.is_recr(i)`` branch), with d =
    H x P the inner width, c = d + 2 G N the conv channels:

    * in_proj -> ssm_in {h, d + c + H}; out_proj -> ssm_out {d, h} (llama.cpp loads no in_proj / out_proj bias);
    * conv1d.weight (c, 1, kernel) squeezed -> ssm_conv1d {kernel, c}, F32 (always-F32 list) and never quantized
      (tensor_allows_quantization skips "ssm_conv1d"); conv1d.bias -> ssm_conv1d.bias {c};
    * dt_bias -> ssm_dt.bias {H}; A_log -> ssm_a = -exp(A_log) and D -> ssm_d, each reshaped to {1, H} ("no weight
      suffix for these"); norm.weight reshaped to ssm_norm {d / G, G}: all F32, none quantized (not ".weight", or a
      norm)."""
    h, d, c, heads, groups = m.hidden_size, m.mamba_width, m.mamba_conv_dim, m.mamba_num_heads, m.mamba_n_groups
    named = {"in_proj.weight": ("ssm_in.weight", (h, d + c + heads), True),
             "out_proj.weight": ("ssm_out.weight", (d, h), True),
             "conv1d.weight": ("ssm_conv1d.weight", (m.mamba_d_conv, c), False),
             "conv1d.bias": ("ssm_conv1d.bias", (c,), False), "dt_bias": ("ssm_dt.bias", (heads,), False),
             "A_log": ("ssm_a", (1, heads), False), "D": ("ssm_d", (1, heads), False),
             "norm.weight": ("ssm_norm.weight", (d // groups, groups), False)}
    return _gguf_named(m, layer, t, prefix, "mamba.", named)


def _gguf_short_conv(m: Model, layer: int, t: ModelTensor, prefix: str) -> list[GgufTensor]:
    """One tensor of LFM2's short-convolution mixer as llama.cpp writes it (conversion/lfm2.py
    ``LFM2Model.modify_tensors``: "conv op requires 2d tensor", the kernel squeezed; shapes as
    src/models/lfm2.cpp ``llama_model_lfm2::load_arch_tensors`` creates them): in_proj -> shortconv.in_proj {h, 3h},
    out_proj -> shortconv.out_proj {h, h}, conv.weight (h, 1, L) -> shortconv.conv {L, h}, F32 (the converter's
    always-F32 SHORTCONV_CONV) and never quantized ("shortconv.conv.weight" in tensor_allows_quantization)."""
    h = m.hidden_size
    named = {"in_proj.weight": ("shortconv.in_proj.weight", (h, 3 * h), True),
             "out_proj.weight": ("shortconv.out_proj.weight", (h, h), True),
             "conv.weight": ("shortconv.conv.weight", (m.short_conv_kernel, h), False)}
    return _gguf_named(m, layer, t, prefix, "conv.", named)


def _gguf_named(m: Model, layer: int, t: ModelTensor, prefix: str, module: str, named: dict) -> list[GgufTensor]:
    """The GgufTensor of block tensor ``t`` from a {block name after ``module``: (GGUF name, ne, a Linear weight)}
    table; a tensor the table lacks, or whose element count differs, is refused rather than guessed."""
    part = t.name[len(module):]
    if part not in named:
        raise InputError(f"{m.source}: tensor {t.name} has no GGUF name here (llama.cpp loads none); not "
                         "modelled")
    name, ne, linear = named[part]
    if _math.prod(ne) != t.numel:  # the block's shape and llama.cpp's must hold the same parameters
        raise InputError(f"{m.source}: tensor {t.name} does not match llama.cpp's {name} {ne}; not modelled")
    return [GgufTensor(f"{prefix}{name}", ne, layer, linear=linear, force_f32=not linear)]


def _gguf_tensors(m: Model, layer: int, t: ModelTensor, norm_names: tuple,
                  old_qwen3next: bool = False) -> list[GgufTensor]:
    """One tensor of the block's list as the GGUF file stores it (one, or two for a stacked expert gate_up_proj)."""
    module, _, part = t.name.rpartition(".")
    ne = tuple(reversed(t.shape))  # PyTorch (E, out, in) -> ggml (in, out, E)
    prefix = f"blk.{layer}." if layer >= 0 else ""
    if t.name.startswith("linear_attn.") and m.gguf_arch == "qwen3next":
        return _gguf_delta_net(m, layer, t, prefix, old_qwen3next)
    if t.name.startswith("mamba.") and m.model_type == "bamba" and gguf_hybrid_modelled(m):
        return _gguf_mamba2(m, layer, t, prefix)
    if t.name.startswith("conv.") and m.model_type == "lfm2" and gguf_hybrid_modelled(m):
        return _gguf_short_conv(m, layer, t, prefix)
    if t.name == "final_norm.weight" and m.gguf_arch == "lfm2":  # LLM_TENSOR_OUTPUT_NORM_LFM2: "token_embd_norm"
        # (llama-arch.cpp, "fix for wrong tensor name"), the norm after the last layer (lfm2.cpp load_arch_tensors)
        return [GgufTensor("token_embd_norm.weight", ne, layer, force_f32=True)]
    if t.name == "mlp.experts.gate_up_proj":  # [gate; up] stacked per expert: llama.cpp keeps two tensors
        half = (ne[0], ne[1] // 2, ne[2])
        return [GgufTensor(f"{prefix}ffn_{which}_exps.weight", half, layer, linear=True) for which in ("gate", "up")]
    if t.name.startswith(("self_attn.q_norm.norms.", "self_attn.k_norm.norms.")):
        # StableLM's LayerNorm per head: convert_hf_to_gguf.py (StableLMModel) stacks the heads' weights into one
        # attn_q_norm / attn_k_norm of {head_dim, heads}; a *_norm.weight stays F32
        if not t.name.endswith(".norms.0.weight"):
            return []  # stacked into head 0's entry
        heads = m.num_attention_heads if t.name.startswith("self_attn.q_norm") else m.kv_heads
        return [GgufTensor(f"{prefix}attn_{t.name[10]}_norm.weight", (t.shape[0], heads), layer, force_f32=True)]
    if t.name in ("mlp.experts.w1", "mlp.experts.v1", "mlp.experts.w2"):
        # DBRX's fused (E x ffn, h) experts: convert_hf_to_gguf.py (DbrxModel) reshapes w1 and v1 to {n_embd, n_ff,
        # n_expert} (ffn_gate_exps, ffn_up_exps) and w2, permuted, to {n_ff, n_embd, n_expert} (ffn_down_exps)
        e, f, h = m.num_experts, m.moe_width, m.hidden_size
        which = {"w1": "gate", "v1": "up", "w2": "down"}[part]
        return [GgufTensor(f"{prefix}ffn_{which}_exps.weight", (f, h, e) if part == "w2" else (h, f, e), layer,
                           linear=True)]
    if t.name in ("mlp.experts.up_proj", "mlp.experts.down_proj"):  # the stacks are parameters, not modules
        return [GgufTensor(f"{prefix}ffn_{t.name[12:-5]}_exps.weight", ne, layer, linear=True)]
    # gpt-oss's expert biases (llama.cpp src/models/openai-moe.cpp: ffn_{gate,up,down}_exps.bias of {n_ff_exp or
    # n_embd, n_expert}); convert_hf_to_gguf.py writes every tensor whose name does not end in ".weight" as F32
    if t.name == "mlp.experts.gate_up_proj_bias":
        half = (ne[0] // 2, ne[1])
        return [GgufTensor(f"{prefix}ffn_{which}_exps.bias", half, layer, force_f32=True) for which in ("gate", "up")]
    if t.name in ("mlp.experts.up_proj_bias", "mlp.experts.down_proj_bias"):
        return [GgufTensor(f"{prefix}ffn_{t.name[12:-10]}_exps.bias", ne, layer, force_f32=True)]
    if t.name == "self_attn.sinks":  # gpt-oss: attn_sinks.weight, {n_head} (openai-moe.cpp), 1-D: F32
        return [GgufTensor(f"{prefix}attn_sinks.weight", ne, layer, force_f32=True)]
    if t.name == "mlp.router.e_score_correction_bias":  # DeepSeek-V3: a buffer in transformers, in every file;
        # ERNIE 4.5: a frozen fp32 parameter (moe_statics), which convert_hf_to_gguf writes as the same exp_probs_b
        return [GgufTensor(f"{prefix}exp_probs_b.bias", ne, layer, force_f32=True, buffer=t.buffer, keep_f32=t.fp32)]
    if t.name == "self_attn.rel_uv_bias":  # Transformer-XL's per-head u and v (no llama.cpp name)
        return [GgufTensor(f"{prefix}attn_rel_uv", ne, layer, force_f32=True)]
    if t.name.startswith(("linear_attn.", "conv.")):  # Qwen3-Next's gated delta-net, LFM2's short convolution:
        # their projections are Linears (GPU formats quantize them); no llama.cpp names or types (size_gguf refuses)
        # Qwen3.5 splits the input projections: in_proj_qkv, in_proj_z, in_proj_b, in_proj_a are Linears too
        linear = module.endswith("proj") or module.startswith("linear_attn.in_proj_")
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=linear, force_f32=len(ne) < 2)]
    if t.name.startswith("self_attn.indexer."):  # DeepSeek-V3.2 / GLM-5's DSA indexer: Linears and a LayerNorm (GPU
        # formats quantize the Linears); no llama.cpp names or types are modelled for it (size_gguf refuses)
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=t.kind == "weight", force_f32=len(ne) < 2)]
    if t.name.startswith("mamba."):  # Bamba's Mamba-2 mixer: in_proj / out_proj are Linears (GPU formats quantize
        # them); no llama.cpp names or types are modelled for it (size_gguf refuses the model); Jamba's Mamba-1
        # mixer adds x_proj and dt_proj (Linears too) and A_log (d, N), an elementwise parameter
        proj = module.endswith("proj")
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=proj and part == "weight", force_f32=len(ne) < 2,
                           linear_bias=proj and part == "bias")]
    if m.gemma4_layers and t.name in _GGUF_GEMMA4_MOE and not m.per_layer_input_size:
        # Gemma 4's MoE block beside the MLP as llama.cpp's converter writes it (conversion/gemma.py Gemma4Model;
        # gemma4.cpp load_arch_tensors): the stacked gate_up_proj stays one ffn_gate_up_exps
        name, linear = _GGUF_GEMMA4_MOE[t.name]
        return [GgufTensor(f"{prefix}{name}", ne, layer, linear=linear and t.kind == "weight",
                           force_f32=len(ne) < 2 or name == "ffn_gate_inp.weight")]
    if m.gemma4_layers and t.name.startswith(("experts.", "router.", "per_layer_", "embed_tokens_per_layer.",
                                              "post_per_layer_input_norm.", "post_feedforward_layernorm_",
                                              "pre_feedforward_layernorm_")):
        # Gemma 4's MoE block beside the MLP, its router and the per-layer inputs (PLE): the Linears (the PLE
        # projections and gate) and the stacked experts are what GPU formats quantize; the PLE table is an
        # embedding, the router a gate kept as the other routers are; no llama.cpp names (size_gguf refuses)
        linear = t.kind == "weight" and (t.name.startswith("per_layer_") or t.role == "routed_experts")
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=linear, force_f32=len(ne) < 2)]
    if t.name == "mlp.shared_expert_gate.weight":
        if old_qwen3next and m.gguf_arch == "qwen3next":  # the Dec 2025 converter wrote the (1, hidden) gate as a
            # 2-D {hidden, 1} at the output type (its always-F32 list lacked FFN_GATE_INP_SHEXP); ggml_n_dims is 1,
            # so llama-quantize keeps it: the "type f16: 48 tensors" of lmstudio-community's Q4_K_M (tests)
            return [GgufTensor(f"{prefix}ffn_gate_inp_shexp.weight", (m.hidden_size, 1), layer)]
        ne = (m.hidden_size,)  # llama.cpp loads Qwen2-MoE's (1, hidden) gate as {n_embd}; the converter writes F32
    if layer < 0:
        known = _GGUF_GLOBAL_MODULES.get(module)
    elif module.startswith("norm") and module[4:].isdigit():
        known = (norm_names[int(module[4:]) - 1], False)
    else:
        known = _GGUF_LAYER_MODULES.get(module)
    if known is None:  # a tensor the block gained that this script cannot name: refuse rather than drop it
        raise InputError(f"{m.source}: tensor {t.name} has no GGUF name here; not modelled")
    base, linear = known
    return [GgufTensor(f"{prefix}{base}.{part}", ne, layer, linear=linear and part == "weight",
                       force_f32=len(ne) < 2 or base in ("ffn_gate_inp", "position_embd"), buffer=t.buffer,
                       linear_bias=linear and part == "bias", keep_f32=t.fp32)]


def gguf_tensor_list(m: Model, old_qwen3next: bool = False) -> list[GgufTensor]:
    """Every tensor of the model as a GGUF file holds it: the block's model_param_tensors(m), each under its
    llama.cpp name (token_embd, blk.N.attn_q, blk.N.ffn_gate_exps, output, ...) with ggml's ``ne``, plus
    rope_freqs (head_dim / 2 factors, not a parameter) for Llama-3.1's "llama3" rope scaling and Gemma 4's
    proportional RoPE (global_head_dim / 2, conversion/gemma.py), and Gemma 4's per-layer output scale
    (transformers' layer_scalar buffer: blk.N.layer_output_scale.weight, one f32 value)."""
    check_gguf_model(m)
    norm_names = _GGUF_ARCH_LAYER_NORMS.get(m.gguf_arch) if m.norms_per_layer == 2 and m.norm_placement == "pre" \
        else None
    norm_names = norm_names or _GGUF_LAYER_NORMS[m.norms_per_layer, m.norm_placement]
    gemma4 = bool(m.gemma4_layers)
    if gemma4:
        full = [i for i in range(m.num_layers) if m.layer_attention(i) == "full"]
        rope_width = m.layer_head_dim(full[0]) // 2 if full else 0
    else:
        rope_width = m.d_head // 2 if m.rope_freqs else 0
    rope_freqs = [GgufTensor("rope_freqs.weight", (rope_width,), force_f32=True, gguf_only=True)] \
        if rope_width else []
    out = []
    previous = -1
    for layer, t in model_param_tensors(m):
        if layer == 0 and rope_freqs:  # after the embedding tensors, before the first block
            out, rope_freqs = out + rope_freqs, []
        if gemma4 and previous >= 0 and layer != previous:
            # layer_scalar: a one-value buffer of each transformers layer (the GPU formats leave it out: 2 B)
            out.append(GgufTensor(f"blk.{previous}.layer_output_scale.weight", (1,), previous, force_f32=True,
                                  gguf_only=True))
        previous = layer
        out.extend(_gguf_tensors(m, layer, t, norm_names, old_qwen3next))
    return out


# GGUF file types: llama.cpp's per-tensor type selection.


def gguf_tensor_category(name: str) -> str:
    """llama-quant.cpp tensor_get_category (substring tests in the same order)."""
    if name == "output.weight":
        return "output"
    if name == "token_embd.weight":
        return "token_embd"
    for key, cat in (("attn_qkv.weight", "attn_qkv"), ("attn_kv_b.weight", "attn_kv_b"), ("attn_v.weight", "attn_v"),
                     ("attn_k.weight", "attn_k"), ("attn_q.weight", "attn_q"), ("attn_output.weight", "attn_output"),
                     ("ffn_up", "ffn_up"), ("ffn_gate", "ffn_gate"), ("ffn_down", "ffn_down")):
        if key in name:
            return cat
    return "other"


def ggml_n_dims(ne: tuple) -> int:
    """ggml_n_dims: the dimensions up to the last one longer than 1 (a {4096, 1} tensor is 1-D), at least 1."""
    n = len(ne)
    while n > 1 and ne[n - 1] == 1:
        n -= 1
    return n


def gguf_allows_quantization(t: GgufTensor) -> bool:
    """llama-quant.cpp tensor_allows_quantization for the tensors listed here: 2-D and 3-D weights, except
    norms, routers, position tables and the small convolution kernels of SSM / delta-net ("ssm_conv1d") and
    short-conv ("shortconv.conv.weight") layers."""
    return (ggml_n_dims(t.ne) >= 2 and t.name.endswith("weight") and "_norm.weight" not in t.name
            and "ffn_gate_inp.weight" not in t.name and t.name != "position_embd.weight"
            and "ssm_conv1d" not in t.name and "shortconv.conv.weight" not in t.name)


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def is_llama_70b(m: Model) -> bool:
    """llama.cpp LLM_TYPE_70B for the Llama architecture: 80 layers with grouped-query attention (an 80-layer
    Falcon is the 180B type)."""
    return m.num_layers == 80 and m.kv_heads != m.num_attention_heads and not m.is_mla \
        and m.gguf_arch != "falcon"


def gguf_n_gqa(m: Model) -> int:
    """llama_hparams::n_gqa() as llama-quantize calls it (layer 0): n_head / n_head_kv, or 0 when layer 0 has no KV
    heads.  The Bamba (granitehybrid) and LFM2 converters write head_count_kv per layer, 0 on the SSM / short-conv
    layers (conversion/granite.py set_gguf_parameters, conversion/lfm2.py set_gguf_parameters), so a model whose
    first layer is one of those takes the n_gqa < 4 branches; Qwen3-Next's converter writes one head count.  Gemma 4
    and MiMo-V2-Flash write theirs per layer too: layer 0's (Gemma 4 31B: a sliding layer, 32 / 16 = 2)."""
    if m.is_mla:
        return 1
    if m.model_type in ("bamba", "lfm2") and m.layer_is_linear(0):
        return 0
    return m.num_attention_heads // m.layer_kv_heads(0)


def _gguf_type_impl(ft: str, default: str, t: GgufTensor, cat: str, m: Model, state: dict,
                    has_imatrix: bool, old_q2k: bool, old_qkv: bool = False) -> str:
    """llama_tensor_get_type_impl, for ftype ``ft`` (our paraphrase, same branch order); old_q2k and old_qkv: the
    older recipes GGUF_OLD_RECIPES describes."""
    new = default
    n_layer = m.num_layers
    n_gqa = gguf_n_gqa(m)
    n_expert = m.num_experts
    low_iq = ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M")
    falcon = m.gguf_arch == "falcon"
    if cat == "output" or (m.tied_embeddings and cat == "token_embd"):
        if ft == "MXFP4_MOE" or falcon or t.ne[0] % GGML_TYPES[new].block:
            return "Q8_0"
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if ft == "MXFP4_MOE":
        return "MXFP4" if len(t.ne) == 3 and t.ne[2] > 1 else "Q8_0"  # ne[2] > 1: an expert stack
    if cat == "token_embd":
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ft in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        if ft in ("TQ1_0", "TQ2_0"):
            return "Q4_K"
        return new
    if old_q2k and ft == "Q2_K":
        # 2023 recipe (llama.cpp commit bac66994, used for TheBloke's 2023 files): Q2_K for token_embd, attn_q and
        # attn_k, Q3_K for every other matrix; the output keeps Q6_K and 70B models still get Q5_K attn_v.
        if cat in ("attn_v", "attn_qkv", "attn_kv_b"):
            state["i_attention_wv"] += 1
            return "Q5_K" if is_llama_70b(m) else "Q3_K"
        return "Q2_K" if cat in ("attn_q", "attn_k") else "Q3_K"
    if old_qkv and cat == "attn_qkv":  # its own branch, before attn_v's rules took it over (GGUF_OLD_RECIPES)
        return {"Q3_K_M": "Q4_K", "Q3_K_L": "Q4_K", "IQ3_M": "Q4_K", "Q4_K_M": "Q5_K", "Q5_K_M": "Q6_K"}.get(ft, new)
    attn_v_like = cat in ("attn_v", "attn_qkv", "attn_kv_b")
    if ft in low_iq:
        if attn_v_like:
            if n_gqa >= 4 or n_expert >= 4:
                new = "Q4_K"
            else:
                new = "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
            state["i_attention_wv"] += 1
        elif n_expert == 8 and cat == "attn_k":
            new = "Q4_K"
        elif cat == "ffn_down":
            if state["i_ffn_down"] < n_layer // 8:
                new = "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
            state["i_ffn_down"] += 1
        elif cat == "attn_output":
            if n_expert == 8:
                new = "Q5_K"
            elif ft in ("IQ1_S", "IQ1_M"):
                new = "IQ2_XXS"
            elif ft in ("IQ2_S", "IQ2_M"):
                new = "IQ3_S"
        return new
    if attn_v_like:
        i_wv, n_wv = state["i_attention_wv"], state["n_attention_wv"]
        if ft == "Q2_K":
            new = "Q4_K" if n_gqa >= 4 else "Q3_K"
        elif ft == "Q2_K_S" and n_gqa >= 4:
            new = "Q4_K"
        elif ft == "IQ3_XXS":
            new = "Q4_K" if n_gqa >= 4 else ("IQ3_XXS" if has_imatrix else "IQ3_S")
        elif ft in ("IQ3_XS", "IQ3_S") and n_gqa >= 4:
            new = "Q4_K"
        elif ft == "IQ3_M":
            new = "Q4_K"
        elif ft == "Q3_K_M":
            new = "Q5_K" if i_wv < 2 else "Q4_K"
        elif ft == "Q3_K_L":
            new = "Q5_K"
        elif ft in ("IQ4_NL", "IQ4_XS") and n_gqa >= 4:
            new = "Q5_K"
        elif ft in ("Q4_K_M", "Q5_K_M") and use_more_bits(i_wv, n_wv):
            new = "Q6_K"
        elif ft == "Q4_K_S" and i_wv < 4:
            new = "Q5_K"
        if is_llama_70b(m) and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        if n_expert == 8:
            new = "Q8_0"
        state["i_attention_wv"] += 1
        return new
    if cat == "attn_k":
        if n_expert == 8:
            return "Q8_0"
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if cat == "attn_q":
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if cat == "ffn_down":
        i_layer = t.layer if n_expert > 1 else state["i_ffn_down"]
        state["i_ffn_down"] += 1
        if ft == "Q2_K":
            new = "Q3_K"
        elif ft == "Q2_K_S":
            if i_layer < n_layer // 8:
                new = "Q4_K"
        elif ft == "IQ3_XXS" and not has_imatrix:
            new = "Q4_K" if i_layer < n_layer // 8 else "Q3_K"
        elif ft == "Q3_K_M":
            new = "Q5_K" if i_layer < n_layer // 16 else \
                "Q4_K" if not falcon or use_more_bits(i_layer, n_layer) else "Q3_K"
        elif ft == "IQ3_M" and (i_layer < n_layer // 8 or (n_expert == 8 and use_more_bits(i_layer, n_layer))):
            new = "Q4_K"
        elif ft == "Q3_K_L":
            new = "Q4_K" if falcon else "Q5_K"
        elif ft == "Q4_K_M":
            if falcon:
                new = "Q6_K" if i_layer < n_layer // 16 else "Q5_K" if use_more_bits(i_layer, n_layer) else "Q4_K"
            elif use_more_bits(i_layer, n_layer):
                new = "Q6_K"
        elif i_layer < n_layer // 8 and ft in ("IQ4_NL", "IQ4_XS") and not has_imatrix:
            new = "Q5_K"
        elif ft == "Q5_K_M" and use_more_bits(i_layer, n_layer):
            new = "Q6_K"
        elif ft == "Q4_K_S" and not falcon and i_layer < n_layer // 8:
            new = "Q5_K"
        elif ft in ("Q4_0", "Q5_0") and has_imatrix and i_layer < n_layer // 8:
            new = "Q4_1" if ft == "Q4_0" else "Q5_1"
        return new
    if cat == "attn_output":
        if falcon:
            return "Q4_K" if ft == "Q3_K_L" else new
        if n_expert == 8:
            if ft in ("Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S",
                      "IQ3_M", "IQ4_XS"):
                new = "Q5_K"
            return new
        return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(ft, new)
    if cat == "attn_qkv":  # unreachable (attn_v-like above); kept to mirror the source's branch list
        return new
    if cat in ("ffn_gate", "ffn_up"):
        i_layer = t.layer if n_expert > 1 else state[f"i_{cat}"]
        state[f"i_{cat}"] += 1
        if ft == "IQ3_XS" and n_layer // 8 <= i_layer < 7 * n_layer // 8:
            new = "IQ3_XXS"
    return new


# tensor_type_fallback's table: the 256-block types and the 32-block type each falls back to
_FALLBACK_TYPES = {**dict.fromkeys(("IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ4_XS"),
                                   "IQ4_NL"),
                   **dict.fromkeys(("Q2_K", "Q3_K", "TQ1_0", "TQ2_0"), "Q4_0"),
                   "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}


def gguf_fallback_type(t: GgufTensor, ggml_type: str) -> str:
    """llama-quant.cpp tensor_type_fallback: rows not divisible by a 256-block type's block get its 32-block
    fallback, or F16 when 32 does not divide them either.  Other types have no fallback: llama-quantize stops with
    "no tensor type fallback is defined", so this raises ValueError and the file type is reported as skipped."""
    if t.ne[0] % GGML_TYPES[ggml_type].block == 0:
        return ggml_type
    if ggml_type not in _FALLBACK_TYPES:
        raise ValueError(f"{t.name}: rows of {t.ne[0]} are not a multiple of the {ggml_type} block "
                         f"({GGML_TYPES[ggml_type].block}) and llama-quantize has no fallback for {ggml_type}")
    new = _FALLBACK_TYPES[ggml_type]
    return new if t.ne[0] % GGML_TYPES[new].block == 0 else "F16"


def gguf_tensor_bytes(t: GgufTensor, ggml_type: str) -> int:
    bt = GGML_TYPES[ggml_type]
    if t.ne[0] % bt.block:
        raise ValueError(f"row of {t.name} ({t.ne[0]}) is not a multiple of the {ggml_type} block ({bt.block})")
    return t.numel // bt.block * bt.bytes


def gguf_type_plan(m: Model, tensors: list[GgufTensor], ftype: str, has_imatrix: bool = False,
                   old_q2k: bool = False, old_qkv: bool = False) -> list[tuple[str, str]]:
    """For each tensor, (the type llama-quantize's rules pick, the type stored after tensor_type_fallback)."""
    default = GGUF_FILE_TYPES[ftype]
    state = {"i_attention_wv": 0, "i_ffn_down": 0, "i_ffn_gate": 0, "i_ffn_up": 0,
             "n_attention_wv": sum(gguf_tensor_category(t.name) in ("attn_v", "attn_qkv", "attn_kv_b")
                                   for t in tensors)}
    plan = []
    for t in tensors:
        if not gguf_allows_quantization(t):
            kept = "F32" if (t.force_f32 or len(t.ne) < 2) else "F16"
            plan.append((kept, kept))
        elif m.gguf_arch == "gpt-oss" and len(t.ne) == 3 and t.ne[2] > 1 and t.linear:
            plan.append(("MXFP4", "MXFP4"))  # the converter's MXFP4 experts (GPT_OSS_GGUF_TYPES)
        elif default in UNQUANTIZED_GGML:
            plan.append((default, default))
        else:
            chosen = _gguf_type_impl(ftype, default, t, gguf_tensor_category(t.name), m, state, has_imatrix,
                                     old_q2k, old_qkv)
            plan.append((chosen, gguf_fallback_type(t, chosen)))
    return plan


def gguf_types(m: Model, tensors: list[GgufTensor], ftype: str, has_imatrix: bool = False,
               old_q2k: bool = False, old_qkv: bool = False) -> list[str]:
    """The GGML type llama-quantize stores each tensor in for file type ``ftype``."""
    return [stored for _, stored in gguf_type_plan(m, tensors, ftype, has_imatrix, old_q2k, old_qkv)]


def requires_imatrix(tensors: list[GgufTensor], types: list[str], ftype: str) -> bool:
    """llama-quant.cpp tensor_requires_imatrix over the whole file."""
    for t, ty in zip(tensors, types):
        if t.name in ("token_embd.weight", "output.weight"):
            continue
        if ty in IMATRIX_REQUIRED_TYPES or (ty == "Q2_K" and ftype == "Q2_K_S"):
            return True
    return False


def gguf_planned_types(m: Model, tensors: list[GgufTensor], ftype: str, has_imatrix: bool = False,
                       old_q2k: bool = False, old_qkv: bool = False) -> tuple:
    """(plan, imatrix assumed): gguf_type_plan, re-planned with an importance matrix where llama-quantize needs one
    for ``ftype`` and none was given (llama-quantize refuses those types without one)."""
    plan = gguf_type_plan(m, tensors, ftype, has_imatrix, old_q2k, old_qkv)
    if not has_imatrix and requires_imatrix(tensors, [stored for _, stored in plan], ftype):
        return gguf_type_plan(m, tensors, ftype, True, old_q2k, old_qkv), True
    return plan, False


# Older llama-quantize recipes still found in published files (each one selectable where a file type is given):
# - old_q2k: the 2023 Q2_K (llama.cpp commit bac66994, TheBloke's 2023 files): "mostly Q3_K except for
#   tok_embeddings, attention.wq, attention.wk";
# - old_qkv: a fused attn_qkv (Phi-3, GPT-NeoX, Falcon, BLOOM) with its own branch, as llama-quantize had it before
#   the tensor-category rewrite of llama-quant.cpp: Q3_K_M / Q3_K_L / IQ3_M -> Q4_K, Q4_K_M -> Q5_K, Q5_K_M ->
#   Q6_K for every layer's attn_qkv, and the other file types' default.  The branch is still in llama-quant.cpp
#   (llama.cpp 0c1e570, 2026-10-01: "category == tensor_category::ATTENTION_QKV") but unreachable, since
#   category_is_attn_v() now sends attn_qkv through attn_v's rules (Q6_K on use_more_bits layers for Q4_K_M).
#   Phi-3-mini-4k-instruct's Q4_K_M (microsoft, April 2024) loads as 2228.82 MiB on the GPU + 52.84 MiB (its Q4_K
#   token embedding) on the host: exactly the old recipe; the current one would make it 2232.19 MiB.
GGUF_OLD_RECIPES = {"old_q2k": "--old-q2k", "old_qkv": "--old-qkv"}


# gpt-oss ships its routed experts in MXFP4 (E2M1 values, one E8M0 scale per 32: 17 B per 32 weights) and llama.cpp's
# convert_hf_to_gguf.py writes them as GGML MXFP4 whatever --outtype says: a llama.cpp developer's conversion log of
# gpt-oss-20b with --outtype bf16 prints "n_tensors = 459, total_size = 13.8G" (the experts at 16 bits would make it
# 41.8 GB).  What llama-quantize then does with those MXFP4 experts for the K- and I-quant types is not modelled
# here; MXFP4_MOE (experts MXFP4, the other matrices Q8_0: llama-quant.cpp) and the 16-bit conversions are.
GPT_OSS_GGUF_TYPES = ("F32", "F16", "BF16", "MXFP4_MOE")


def gguf_hybrid_modelled(m: Model) -> bool:
    """The hybrid layers whose llama.cpp tensors are named here: Qwen3-Next's gated delta-net (_gguf_delta_net),
    Bamba's Mamba-2 mixer without in_proj / out_proj biases (_gguf_mamba2: the granitehybrid loader has none) and
    LFM2's short convolution without biases (_gguf_short_conv: lfm2.cpp loads none)."""
    return (m.gguf_arch == "qwen3next" or (m.model_type == "bamba" and not m.mamba_proj_bias)
            or (m.model_type == "lfm2" and not m.short_conv_bias))


def gguf_file_type_refusal(m: Model, ftype: str) -> str | None:
    """Why llama-quantize's types for file type ``ftype`` are not modelled for this model (None: they are)."""
    if m.gguf_arch == "gpt-oss" and ftype not in GPT_OSS_GGUF_TYPES:
        return (f"llama.cpp keeps gpt-oss's experts in MXFP4 (its converter writes them so); what llama-quantize "
                f"makes of them for {ftype} is not modelled (only {', '.join(GPT_OSS_GGUF_TYPES)})")
    if m.single_block_layers:  # Nemotron-H (issue 10, branch hybrid)
        return ("llama.cpp's tensor names and types for nemotron_h (one Mamba-2 / attention / MLP / MoE block per "
                "layer) are not modelled")
    if m.state_layer_count() and not gguf_hybrid_modelled(m):  # Qwen3.5, Falcon-H1, ...: llama.cpp's tensors for
        # their delta-net / SSM layers are not modelled (Qwen3-Next's, Bamba's and LFM2's are)
        return f"llama.cpp's tensor types for {m.linear_mixer_name} layers ({m.gguf_arch}) are not modelled"
    if m.has_indexer:  # issue 10, branch dsa: deepseek_v32 / glm_moe_dsa
        return ("llama.cpp's tensor names and types for the DSA lightning indexer (DeepSeek-V3.2, GLM-5) are not "
                "modelled")
    if m.gemma4_layers and (m.per_layer_input_size or m.kv_shared_layers or m.double_wide_shared_mlp):
        return ("llama.cpp's tensors and types for Gemma 4 E2B / E4B (per-layer input embeddings, KV-shared layers) "
                "are not modelled")
    if m.model_type == "mimo_v2_flash":  # per-layer KV heads, v_head_dim, sinks on sliding layers only
        return ("llama.cpp's tensors and types for mimo_v2_flash (per-layer KV heads, values narrower than keys, "
                "sinks on the sliding layers only) are not modelled")
    return None
# ============================================ end of the shared model block ===================================
# [[[end]]]

PROG = "calc_scaling_laws.py"
PF_DAY_FLOPS = 1e15 * 24 * 3600  # Kaplan et al. 2020 sec. 1.3: 8.64e19 FLOPs
GOPHER_FLOPS = 5.76e23  # Hoffmann et al. 2022 Table 3: the "Gopher unit" (67B row)
HUBER_DELTA = 1e-3  # Hoffmann App. D.2
POLISHED_STARTS = 3  # distinct best end points of the batched L-BFGS refined by scipy's L-BFGS-B
MAX_COUNT = 1e32  # input ceiling: 1e4x beyond any budget a law was fitted on, and far from float overflow


# ----------------------------------------------------------------------------------------------------------------
# Configuration: laws and real models
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParametricLaw:
    """L(N, D) = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022 eq. 2)."""

    name: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str


PARAMETRIC_LAWS = {
    "chinchilla": ParametricLaw("chinchilla", 1.69, 406.4, 410.7, 0.34, 0.28,
                                "Hoffmann et al. 2022 (arXiv 2203.15556) eq. 10, printed (rounded) constants"),
    "chinchilla-unrounded": ParametricLaw(
        "chinchilla-unrounded", math.exp(0.5267228), math.exp(6.0073404), math.exp(6.0179186), 0.33917084,
        0.2849083, "Hoffmann et al. 2022 unrounded fit from the TeX source (epoch-research/analyzing-chinchilla "
                   "data_analysis.ipynb true_params: e=0.5267228, a=6.0073404, b=6.0179186)"),
    "epoch": ParametricLaw("epoch", 1.8172, 482.01, 2085.43, 0.3478, 0.3658,
                           "Besiroglu et al. 2024 (arXiv 2404.10102) Table 1, refit of Chinchilla Approach 3"),
    "muennighoff": ParametricLaw(
        "muennighoff", math.exp(0.6254804), math.exp(6.255414), math.exp(7.3049974), 0.3526596, 0.3526596,
        "Muennighoff et al. 2023 (arXiv 2305.16264), huggingface/datablations README 'Parametric Fit'"),
}
MUENNIGHOFF_RD_STAR = 15.387756  # datablations README: R_D*
MUENNIGHOFF_RN_STAR = 5.309743  # datablations README: R_N*

# Hoffmann et al. 2022 Table 3 (Approach 1 projections): params, FLOPs, FLOPs in Gopher units (as 1/x or x), tokens.
TABLE3_ROWS = (
    (400e6, 1.92e19, 1 / 29968, 8.0e9), (1e9, 1.21e20, 1 / 4761, 20.2e9), (10e9, 1.23e22, 1 / 46, 205.1e9),
    (67e9, 5.76e23, 1.0, 1.5e12), (175e9, 3.85e24, 6.7, 3.7e12), (280e9, 9.90e24, 17.2, 5.9e12),
    (520e9, 3.43e25, 59.5, 11.0e12), (1e12, 1.27e26, 221.3, 21.2e12), (10e12, 1.30e28, 22515.9, 216.2e12),
)
# Hoffmann Table A3: params, Approach 2 FLOPs, tokens, Approach 3 FLOPs, tokens.  The 175B Approach-3 FLOPs are
# printed 1.26e24, a typo for 6*175e9*12.0e12 = 1.26e25 (used here).
TABLEA3_ROWS = (
    (400e6, 1.84e19, 7.7e9, 2.21e19, 9.2e9), (1e9, 1.20e20, 20.0e9, 1.62e20, 27.1e9),
    (10e9, 1.32e22, 219.5e9, 2.46e22, 410.1e9), (67e9, 6.88e23, 1.7e12, 1.71e24, 4.1e12),
    (175e9, 4.54e24, 4.3e12, 1.26e25, 12.0e12), (280e9, 1.18e25, 7.1e12, 3.52e25, 20.1e12),
    (520e9, 4.19e25, 13.4e12, 1.36e26, 43.5e12), (1e12, 1.59e26, 26.5e12, 5.65e26, 94.1e12),
    (10e12, 1.75e28, 292.0e12, 8.55e28, 1425.5e12),
)

# Hoffmann Table A9 (all 50 models): params in millions, d_model, ffw_size, kv_size, n_heads, n_layers.
TABLE_A9_ROWS = (
    (44, 512, 2048, 64, 8, 8), (57, 576, 2304, 64, 9, 9), (74, 640, 2560, 64, 10, 10), (90, 640, 2560, 64, 10, 13),
    (106, 640, 2560, 64, 10, 16), (117, 768, 3072, 64, 12, 12), (140, 768, 3072, 64, 12, 15),
    (163, 768, 3072, 64, 12, 18), (175, 896, 3584, 64, 14, 14), (196, 896, 3584, 64, 14, 16),
    (217, 896, 3584, 64, 14, 18), (251, 1024, 4096, 64, 16, 16), (278, 1024, 4096, 64, 16, 18),
    (306, 1024, 4096, 64, 16, 20), (425, 1280, 5120, 128, 10, 18), (489, 1280, 5120, 128, 10, 21),
    (509, 1408, 5632, 128, 11, 18), (552, 1280, 5120, 128, 10, 24), (587, 1408, 5632, 128, 11, 21),
    (632, 1536, 6144, 128, 12, 19), (664, 1408, 5632, 128, 11, 24), (724, 1536, 6144, 128, 12, 22),
    (816, 1536, 6144, 128, 12, 25), (893, 1792, 7168, 128, 14, 20), (1018, 1792, 7168, 128, 14, 23),
    (1143, 1792, 7168, 128, 14, 26), (1266, 2048, 8192, 128, 16, 22), (1424, 2176, 8704, 128, 17, 22),
    (1429, 2048, 8192, 128, 16, 25), (1593, 2048, 8192, 128, 16, 28), (1609, 2176, 8704, 128, 17, 25),
    (1731, 2304, 9216, 128, 18, 24), (1794, 2176, 8704, 128, 17, 28), (2007, 2304, 9216, 128, 18, 28),
    (2283, 2304, 9216, 128, 18, 32), (2298, 2560, 10240, 128, 20, 26), (2639, 2560, 10240, 128, 20, 30),
    (2980, 2560, 10240, 128, 20, 34), (3530, 2688, 10752, 128, 22, 36), (3802, 2816, 11264, 128, 22, 36),
    (4084, 2944, 11776, 128, 22, 36), (4516, 3072, 12288, 128, 24, 36), (6796, 3584, 14336, 128, 28, 40),
    (9293, 4096, 16384, 128, 32, 42), (11452, 4352, 17408, 128, 32, 47), (12295, 4608, 18432, 128, 36, 44),
    (12569, 4608, 18432, 128, 32, 47), (13735, 4864, 19456, 128, 32, 47), (14940, 4992, 19968, 128, 32, 49),
    (16183, 5120, 20480, 128, 40, 47),
)
# Hoffmann Table A4: params as printed, n_layers, d_model, ffw_size, n_heads, kv_size, FLOP ratio (App. F / 6ND).
TABLE_A4_ROWS = (
    ("73M", 10, 640, 2560, 10, 64, 1.03), ("305M", 20, 1024, 4096, 16, 64, 1.10),
    ("552M", 24, 1280, 5120, 10, 128, 1.08), ("1.1B", 26, 1792, 7168, 14, 128, 1.04),
    ("1.6B", 28, 2048, 8192, 16, 128, 1.03), ("6.8B", 40, 3584, 14336, 28, 128, 0.99),
)
CHINCHILLA_VOCAB = 32000  # Hoffmann Table A8 / Rae et al. 2021: SentencePiece 32k
CHINCHILLA_SEQUENCE = 2048

# Kaplan et al. 2020 constants (eqs 1.1-1.5, Table 2, App. A).
KAPLAN = {
    "alpha_N": 0.076, "N_c": 8.8e13, "alpha_D": 0.095, "D_c": 5.4e13, "alpha_Cmin": 0.050, "Cmin_c": 3.1e8,
    "joint_alpha_N": 0.076, "joint_alpha_D": 0.103, "joint_N_c": 6.4e13, "joint_D_c": 1.8e13,
    "alpha_B": 0.21, "B_star": 2e8, "alpha_S": 0.76,
    "N_coef": 1.3e9, "N_exp": 0.73, "B_coef": 2.0e6, "B_exp": 0.24, "S_coef": 5.4e3, "S_exp": 0.03,
    "D_coef": 2e10, "D_exp": 0.27,
}
# DeepSeek LLM (arXiv 2401.02954) sec. 3 fits; C = M * D with M in non-embedding FLOPs/token.
DEEPSEEK = {"M_coef": 0.1715, "M_exp": 0.5243, "D_coef": 5.8316, "D_exp": 0.4757,
            "lr_coef": 0.3118, "lr_decay_exp": 0.1250, "batch_coef": 0.2920, "batch_exp": 0.3271}  # lr = coef / C^exp
LLAMA3_TOKENS = (0.29, 0.53)  # Llama 3 Herd sec. 3.2.1: optimal tokens = 0.29 * C^0.53

POWER_LAWS = ("approach1", "approach2", "approach3-table", "kaplan", "deepseek", "llama3", "tpp-20")
ALL_LAWS = tuple(PARAMETRIC_LAWS) + POWER_LAWS


@dataclass(frozen=True)
class RealModel:
    name: str
    params: float  # nominal total parameters as published
    tokens: float  # training tokens as published
    source: str
    note: str = ""


# Nominal sizes and token counts as each source states them.  GPT-2, Mistral and Mixtral are left out: their
# training token counts were not published.
REAL_MODELS = {m.name: m for m in (
    RealModel("gpt3-175b", 175e9, 300e9, "Hoffmann et al. 2022 Table 1; Brown et al. 2020 Table D.1"),
    RealModel("gopher-280b", 280e9, 300e9, "Hoffmann et al. 2022 Table 1; Rae et al. 2021 (arXiv 2112.11446)"),
    RealModel("mt-nlg-530b", 530e9, 270e9, "Hoffmann et al. 2022 Table 1; Smith et al. 2022 (arXiv 2201.11990)"),
    RealModel("chinchilla-70b", 70e9, 1.4e12, "Hoffmann et al. 2022 Table 1"),
    RealModel("pythia-160m", 160e6, 300e9, "Biderman et al. 2023 (arXiv 2304.01373): 143k steps x 2M tokens"),
    RealModel("pythia-1.4b", 1.4e9, 300e9, "Biderman et al. 2023: 143k steps x 2M tokens"),
    RealModel("pythia-12b", 12e9, 300e9, "Biderman et al. 2023: 143k steps x 2M tokens"),
    RealModel("llama-7b", 6.7e9, 1.0e12, "Touvron et al. 2023 (arXiv 2302.13971) Table 2"),
    RealModel("llama-65b", 65.2e9, 1.4e12, "Touvron et al. 2023 Table 2"),
    RealModel("llama-2-7b", 7e9, 2.0e12, "Touvron et al. 2023b (arXiv 2307.09288) Table 1"),
    RealModel("llama-2-70b", 70e9, 2.0e12, "Touvron et al. 2023b Table 1"),
    RealModel("llama-3-8b", 8e9, 15e12, "Meta Llama 3 model card (meta-llama/Meta-Llama-3-8B): 15T+ tokens"),
    RealModel("llama-3-70b", 70e9, 15e12, "Meta Llama 3 model card: 15T+ tokens"),
    RealModel("llama-3.1-405b", 405e9, 15.6e12, "Llama 3 Herd (arXiv 2407.21783) sec. 1: 405B on 15.6T tokens"),
    RealModel("llama-3.2-1b", 1.23e9, 9e12, "Llama 3.2 model card (meta-llama/Llama-3.2-1B): up to 9T tokens"),
    RealModel("qwen2.5-7b", 7.61e9, 18e12, "Qwen2.5 technical report (arXiv 2412.15115): 18T tokens; 7.61B"),
    RealModel("gemma-2-9b", 9e9, 8e12, "Gemma 2 report (arXiv 2408.00118) sec. 3.1: 9B on 8T tokens"),
    RealModel("deepseek-llm-67b", 67e9, 2e12, "DeepSeek LLM (arXiv 2401.02954) sec. 2: 2T tokens"),
    RealModel("deepseek-v3", 37e9, 14.8e12, "DeepSeek-V3 report (arXiv 2412.19437): 671B total, 37B active, 14.8T",
              "MoE: N = 37B activated parameters; dense laws do not model MoE"),
)}


# ----------------------------------------------------------------------------------------------------------------
# Numbers on the command line: the block's parse_number reads them (exact, SI and binary suffixes, one-line errors)
# ----------------------------------------------------------------------------------------------------------------
def parse_real(text: str, what: str, *, positive: bool = True, upper: float = MAX_COUNT) -> float:
    """'7B', '1.4T', '300e9', '32k', '32Ki', '1_000', '5.76e23' -> float; InputError naming ``what`` otherwise.

    The block's parse_number reads the text exactly, so the float is the nearest to the number written ('5.76e23'
    is the float 5.76e23).  ``positive`` counts start at 1: no law speaks of a fraction of a parameter, token or
    FLOP, and a count like 1e-300 would only reach the formulas as a division by zero.  Otherwise 0 is allowed."""
    value = parse_number(text, what, limit=int(upper))
    if positive and value < 1:
        raise InputError(f"{what} {text!r}: expected a number from 1 up to {upper:g}")
    return float(value)


def parse_whole(text: str, what: str, *, positive: bool = True, upper: int = 10 ** 7) -> int:
    """A whole-number flag (layers, widths, resamples, a seed) from 1 (0 unless ``positive``) up to ``upper``."""
    value = parse_count(text, what, allow_zero=not positive)  # the block: exact int; fractions, negatives refused
    if value > upper:
        raise InputError(f"{what} {text!r}: expected a whole number from {int(positive)} up to {upper:,}")
    return value


def parse_float(text: str, what: str, low: float = 0.0, high: float = 1e6) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r}: expected a number") from None
    if not (math.isfinite(value) and low < value <= high):
        raise ValueError(f"{what} {text!r}: expected a number in ({low:g}, {high:g}]")
    return value


def human(value: float, unit: str = "") -> str:
    """3.219e10 -> '32.2B'; FLOPs (unit 'FLOPs'), and counts beyond the P suffix, in scientific notation '5.76e23'."""
    if unit == "FLOPs" or abs(value) >= 1e18:
        if value == 0:
            return "0"
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}"
    for scale, suffix in ((1e15, "P"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.4g}{suffix}"
    return f"{value:.4g}"


def _numpy():
    """numpy, imported on first use: only the fitter and the plots need it, so closed-form queries start without."""
    try:
        import numpy
    except ImportError:
        raise ValueError("numpy is not installed (pip install numpy scipy): the fitter and the plots need it") \
            from None
    return numpy


def linspace(low: float, high: float, count: int) -> list:
    """numpy.linspace(low, high, count) value for value, in plain Python: low + i*step, the last point exactly high."""
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count - 1)] + [high]


def least_squares_line(xs, ys) -> tuple[float, float]:
    """Slope and intercept of the least-squares line y = slope*x + intercept (numpy.polyfit(xs, ys, 1)), centred
    sums added exactly (math.fsum)."""
    xs, ys = [float(x) for x in xs], [float(y) for y in ys]
    mean_x, mean_y = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if not sxx > 0:
        raise ValueError(f"a line through {len(xs)} points needs two distinct x values")
    slope = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sxx
    return slope, mean_y - slope * mean_x


# ----------------------------------------------------------------------------------------------------------------
# Chinchilla-form laws: closed forms
# ----------------------------------------------------------------------------------------------------------------
def chinchilla_loss(law: ParametricLaw, params: float, tokens: float) -> float:
    return law.E + law.A / params ** law.alpha + law.B / tokens ** law.beta


def frontier_constants(law: ParametricLaw) -> dict:
    """G, a, b of Hoffmann eq. 4 and K = A*G^-alpha + B*G^beta, the loss coefficient on the frontier."""
    if not (law.A > 0 and law.B > 0 and law.alpha > 0 and law.beta > 0):  # a fitted law can break this
        raise ValueError(f"law {law.name}: A, B, alpha and beta must be positive for a compute-optimal frontier "
                         f"(A = {law.A:.4g}, B = {law.B:.4g}, alpha = {law.alpha:.4g}, beta = {law.beta:.4g})")
    G = (law.alpha * law.A / (law.beta * law.B)) ** (1 / (law.alpha + law.beta))
    a = law.beta / (law.alpha + law.beta)
    b = law.alpha / (law.alpha + law.beta)
    K = law.A * G ** -law.alpha + law.B * G ** law.beta
    return {"G": G, "a": a, "b": b, "K": K, "loss_exponent": law.alpha * law.beta / (law.alpha + law.beta)}


def _point(law_name: str, params: float, tokens: float, flops: float, loss=None) -> dict:
    if not (params >= 1 - 1e-9 and tokens >= 1 - 1e-9):  # below one parameter or token: no law applies
        raise ValueError(f"law {law_name}: the query gives {params:.3g} parameters and {tokens:.3g} tokens, "
                         "outside any range a scaling law was fitted on")
    return {"law": law_name, "params": params, "tokens": tokens, "flops": flops,
            "tokens_per_param": tokens / params, "loss": loss}


def chinchilla_optimum(law: ParametricLaw, flops: float) -> dict:
    """N*, D*, L* for a budget C = 6ND, closed form."""
    k = frontier_constants(law)
    params = k["G"] * (flops / 6) ** k["a"]
    tokens = (flops / 6) ** k["b"] / k["G"]
    loss = law.E + k["K"] * (flops / 6) ** -k["loss_exponent"]
    return _point(law.name, params, tokens, flops, loss)


def chinchilla_frontier_at_params(law: ParametricLaw, params: float) -> dict:
    """The compute-optimal point whose model size is ``params`` (and the tokens it should see)."""
    k = frontier_constants(law)
    flops = 6 * (params / k["G"]) ** (1 / k["a"])
    return chinchilla_optimum(law, flops) | {"params": params, "tokens": flops / (6 * params),
                                              "tokens_per_param": flops / (6 * params * params)}


def chinchilla_frontier_at_tokens(law: ParametricLaw, tokens: float) -> dict:
    """The compute-optimal point that trains on ``tokens`` (and the model size to use)."""
    k = frontier_constants(law)
    flops = 6 * (tokens * k["G"]) ** (1 / k["b"])
    params = flops / (6 * tokens)
    return chinchilla_optimum(law, flops) | {"params": params, "tokens": tokens, "tokens_per_param": tokens / params}


def chinchilla_compute_for_loss(law: ParametricLaw, loss: float) -> dict:
    """The smallest budget whose compute-optimal model reaches ``loss`` (requires loss > E)."""
    if not loss > law.E:
        raise ValueError(f"--target-loss {loss:g}: must exceed the irreducible loss E = {law.E:.4f} of law {law.name}")
    k = frontier_constants(law)
    flops = 6 * ((loss - law.E) / k["K"]) ** (-1 / k["loss_exponent"])
    return chinchilla_optimum(law, flops)


# ----------------------------------------------------------------------------------------------------------------
# Power-law allocations
# ----------------------------------------------------------------------------------------------------------------
def loglog_fit(xs, ys) -> tuple[float, float]:
    """Least squares of log y = log k + a log x; returns (k, a)."""
    a, log_k = least_squares_line([math.log(x) for x in xs], [math.log(y) for y in ys])
    return math.exp(log_k), a


def table_fits() -> dict:
    """N_opt = k*C^a fitted to the published rows of Hoffmann Table 3 and Table A3."""
    return {
        "approach1": loglog_fit([r[1] for r in TABLE3_ROWS], [r[0] for r in TABLE3_ROWS]),
        "approach2": loglog_fit([r[1] for r in TABLEA3_ROWS], [r[0] for r in TABLEA3_ROWS]),
        "approach3-table": loglog_fit([r[3] for r in TABLEA3_ROWS], [r[0] for r in TABLEA3_ROWS]),
    }


def kaplan_allocation(flops_min_pf_days: float) -> dict:
    """Kaplan App. A compute-efficient allocation for C_min in PF-days (N non-embedding)."""
    c, k = flops_min_pf_days, KAPLAN
    return {"params": k["N_coef"] * c ** k["N_exp"], "batch_tokens": k["B_coef"] * c ** k["B_exp"],
            "min_steps": k["S_coef"] * c ** k["S_exp"], "tokens_app_a": k["D_coef"] * c ** k["D_exp"],
            "loss": (k["Cmin_c"] / c) ** k["alpha_Cmin"]}


def deepseek_optimum(flops: float) -> dict:
    fit = DEEPSEEK
    return {"model_flops_per_token": fit["M_coef"] * flops ** fit["M_exp"],
            "tokens": fit["D_coef"] * flops ** fit["D_exp"],
            "batch_tokens": fit["batch_coef"] * flops ** fit["batch_exp"],
            "learning_rate": fit["lr_coef"] / flops ** fit["lr_decay_exp"]}


def deepseek_flops_per_token(num_layers: int, hidden_size: int, sequence_length: int) -> float:
    """DeepSeek LLM eq. 2: non-embedding FLOPs/token including attention, excluding the vocabulary."""
    return 72 * num_layers * hidden_size ** 2 + 12 * num_layers * hidden_size * sequence_length


def power_law_optimum(law_name: str, flops: float, tokens_per_param: float = 20.0) -> dict:
    """Compute-optimal point of a non-parametric law; D = C/(6N) unless the law fixes D."""
    if law_name in ("approach1", "approach2", "approach3-table"):
        k, a = table_fits()[law_name]
        params = k * flops ** a
    elif law_name == "kaplan":  # trained at B_crit: C = 2*C_min (Kaplan eq. 5.5); reproduces Hoffmann D.4's 4.68B
        params = kaplan_allocation(flops / 2 / PF_DAY_FLOPS)["params"]
    elif law_name == "deepseek":  # N ~ M/6 would ignore the attention term; shown for comparison only
        params = deepseek_optimum(flops)["model_flops_per_token"] / 6
    elif law_name == "llama3":
        params = flops / (6 * LLAMA3_TOKENS[0] * flops ** LLAMA3_TOKENS[1])
    elif law_name == "tpp-20":
        params = math.sqrt(flops / (6 * tokens_per_param))
    else:
        raise ValueError(f"--law {law_name}: unknown law")
    label = f"tpp-{tokens_per_param:g}" if law_name == "tpp-20" else law_name
    return _point(label, params, flops / (6 * params), flops)


# ----------------------------------------------------------------------------------------------------------------
# Chinchilla's model tables: Table A9 parameter counts, App. F FLOPs (Table A4)
# ----------------------------------------------------------------------------------------------------------------
def chinchilla_model_params(d_model: int, ffw: int, kv_size: int, n_heads: int, n_layers: int,
                            attention_width=None) -> int:
    """Parameters of a Table A9 model.  Attention is n_heads*kv_size wide, which differs from d_model in 6 of the
    50 rows.  Per layer: q, k, v, out (4*d*w), the relative-position projection (d*w), the MLP (2*d*ffw) and biases
    (5*w + 2*d + ffw); plus one 32k x d embedding.  Reverse-engineered: it reproduces all 50 printed sizes to the
    nearest million (the paper gives no formula)."""
    width = n_heads * kv_size if attention_width is None else attention_width
    per_layer = 4 * d_model * width + d_model * width + 2 * d_model * ffw + 5 * width + 2 * d_model + ffw
    return n_layers * per_layer + d_model * CHINCHILLA_VOCAB


def chinchilla_forward_flops(n_layers: int, d_model: int, ffw: int, n_heads: int, kv_size: int,
                             with_embeddings: bool) -> int:
    """Forward FLOPs per sequence, Hoffmann App. F (a multiply-add is 2 FLOPs); backward = 2x forward."""
    S, width = CHINCHILLA_SEQUENCE, n_heads * kv_size
    attention = (2 * 3 * S * d_model * width + 2 * S * S * width + 3 * n_heads * S * S + 2 * S * S * width
                 + 2 * S * width * d_model)
    dense = 2 * S * (2 * d_model * ffw)
    total = n_layers * (attention + dense)
    if with_embeddings:
        total += 2 * S * CHINCHILLA_VOCAB * d_model * 2  # embedding lookup and final logits, counted alike
    return total


def chinchilla_flop_ratio(n_layers, d_model, ffw, n_heads, kv_size, with_embeddings=False) -> float:
    """Table A4's ratio of the App. F count (forward + backward = 3x forward) to 6*N*D for one sequence."""
    params = chinchilla_model_params(d_model, ffw, kv_size, n_heads, n_layers)
    forward = chinchilla_forward_flops(n_layers, d_model, ffw, n_heads, kv_size, with_embeddings)
    return 3 * forward / (6 * params * CHINCHILLA_SEQUENCE)


# ----------------------------------------------------------------------------------------------------------------
# Kaplan, Pearce & Song, data-constrained, inference-aware
# ----------------------------------------------------------------------------------------------------------------
def kaplan_report(params=None, tokens=None, flops=None, loss=None, flops_is_min=False,
                  local_exponents: bool = True) -> dict:
    """Kaplan et al. 2020 quantities for whichever of N, D, C, L are given; ``local_exponents``: also the
    Pearce & Song exponents (the same for every query, and the costliest part: the loss command leaves them out)."""
    k = KAPLAN
    out: dict = {"pf_day_flops": PF_DAY_FLOPS}
    if params is not None:
        out["loss_of_params"] = (k["N_c"] / params) ** k["alpha_N"]
        out["min_tokens_no_overfit"] = 5e3 * params ** 0.74  # eq. 4.4
    if tokens is not None:
        out["loss_of_tokens"] = (k["D_c"] / tokens) ** k["alpha_D"]
    if params is not None and tokens is not None:
        ratio = k["joint_alpha_N"] / k["joint_alpha_D"]
        joint = ((k["joint_N_c"] / params) ** ratio + k["joint_D_c"] / tokens) ** k["joint_alpha_D"]
        out["loss_joint"] = joint
        out["overfit_fraction"] = joint / (k["joint_N_c"] / params) ** k["joint_alpha_N"] - 1  # eq. 4.2
    if flops is not None:
        flops_min = flops if flops_is_min else flops / 2
        alloc = kaplan_allocation(flops_min / PF_DAY_FLOPS)
        out.update({"flops": flops, "flops_min": flops_min, "flops_min_pf_days": flops_min / PF_DAY_FLOPS,
                    "optimal_params": alloc["params"], "batch_tokens": alloc["batch_tokens"],
                    "min_steps": alloc["min_steps"], "tokens_app_a": alloc["tokens_app_a"],
                    "tokens_6nd": flops / (6 * alloc["params"]), "loss_of_compute": alloc["loss"]})
    for name in ("chinchilla-unrounded", "epoch") if local_exponents else ():
        out[f"local_exponent_{name}"] = pearce_song_local_exponent(PARAMETRIC_LAWS[name])
    if loss is not None:
        out["critical_batch_tokens"] = k["B_star"] / loss ** (1 / k["alpha_B"])
    out["alpha_Cmin_predicted"] = 1 / (1 / k["alpha_S"] + 1 / k["alpha_B"] + 1 / k["alpha_N"])  # eq. 1.8
    return out


PEARCE_SONG_GAMMA = 47491  # N_T = N_nonemb + 47491 N_nonemb^(1/3): vocab 32k, d/L = 39.2 (Pearce & Song 2024)


def pearce_song_flops(law: ParametricLaw, non_embedding_params: float) -> float:
    """Non-embedding compute C at which N_nonemb is optimal when the true law is ``law`` in *total* params
    (Pearce & Song 2024, arXiv 2406.12907, analytic frontier; TeaPearce/Reconciling_Kaplan_Chinchilla_Scaling_Laws)."""
    n, g = float(non_embedding_params), PEARCE_SONG_GAMMA
    return (6 * n * (n + g / 3 * n ** (1 / 3)) ** (-1 / law.beta)
            * (n + g * n ** (1 / 3)) ** ((1 + law.alpha) / law.beta)
            * (law.beta * law.B / (law.alpha * law.A)) ** (1 / law.beta))


def pearce_song_local_exponent(law: ParametricLaw, low: float = 10 ** 12.95, high: float = 10 ** 20.7) -> float:
    """Least-squares slope of log N*_nonemb against log C_nonemb over Kaplan's compute range (N sampled
    log-uniformly, the points of numpy.logspace(0, 14, 20001)): the exponent Kaplan would have measured if ``law``
    were true."""
    log_c, log_n = [], []
    for exponent in linspace(0.0, 14.0, 20001):
        n = 10.0 ** exponent
        c = pearce_song_flops(law, n)
        if low <= c <= high:
            log_c.append(math.log(c))
            log_n.append(math.log(n))
    return least_squares_line(log_c, log_n)[0]


def muennighoff_loss(params: float, tokens: float, unique_tokens: float) -> dict:
    """Data-constrained loss (datablations README); unique tokens beyond ``tokens`` are not seen."""
    law = PARAMETRIC_LAWS["muennighoff"]
    unique = min(unique_tokens, tokens)
    G = frontier_constants(law)["G"]
    repeats_data = max(tokens / unique - 1, 0.0)
    unique_params = min(params, (unique * G) ** (law.beta / law.alpha) * G)  # N_opt(U): D_to_N in the README
    repeats_params = max(params / unique_params - 1, 0.0)
    eff_tokens = unique + unique * MUENNIGHOFF_RD_STAR * (1 - math.exp(-repeats_data / MUENNIGHOFF_RD_STAR))
    eff_params = unique_params + unique_params * MUENNIGHOFF_RN_STAR * (
        1 - math.exp(-repeats_params / MUENNIGHOFF_RN_STAR))
    loss = law.E + law.A / eff_params ** law.alpha + law.B / eff_tokens ** law.beta
    return {"params": params, "tokens": tokens, "unique_tokens": unique, "epochs": tokens / unique,
            "effective_tokens": eff_tokens, "effective_params": eff_params, "loss": loss}


def _minimise_log(function, low: float, high: float, samples: int = 400, iters: int = 200) -> float:
    """Minimise ``function(x)`` on [low, high]: a scan brackets the minimum, golden section refines it."""
    xs = linspace(low, high, samples)
    values = [function(x) for x in xs]
    i = min(range(samples), key=lambda k: (math.isnan(values[k]), values[k]))  # the first least value, nan last
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, samples - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    f1, f2 = function(x1), function(x2)
    for _ in range(iters):
        if hi - lo < 1e-13 * max(1.0, abs(lo)):
            break
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - ratio * (hi - lo)
            f1 = function(x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + ratio * (hi - lo)
            f2 = function(x2)
    return (lo + hi) / 2


def muennighoff_optimum(flops: float, unique_tokens: float) -> dict:
    """Best N, D at C = 6ND with U unique tokens: the README's grid (x or / by up to 3 around the unconstrained
    optimum) and a continuous 1-D minimisation over log N."""
    law = PARAMETRIC_LAWS["muennighoff"]
    base = chinchilla_optimum(law, flops)
    grid_best = None
    for factor in linspace(1.0001, 3, 500):
        for tokens, params in ((base["tokens"] * factor, base["params"] / factor),
                               (base["tokens"] / factor, base["params"] * factor)):
            point = muennighoff_loss(params, tokens, unique_tokens)
            if grid_best is None or point["loss"] < grid_best["loss"]:
                grid_best = point
    center = math.log(base["params"])
    log_n = _minimise_log(lambda x: muennighoff_loss(math.exp(x), flops / (6 * math.exp(x)), unique_tokens)["loss"],
                          center - 6, center + 3)
    best = muennighoff_loss(math.exp(log_n), flops / (6 * math.exp(log_n)), unique_tokens)
    return {"flops": flops, "unconstrained": base, "readme_grid": grid_best, "continuous": best}


def inference_aware_optimum(law: ParametricLaw, inference_tokens: float, target_loss=None, reference_params=None,
                            fixed_params=None, train_mfu: float = 1.0, inference_mfu: float = 1.0) -> dict:
    """Sardana et al. 2023: cheapest (N, D_train) reaching a loss with 2*N FLOPs per inference token.

    The loss is either given or set by the Chinchilla-optimal model of ``reference_params`` parameters.  With
    utilisations (MFU) the cost minimised is hardware time, train FLOPs/train_mfu + inference FLOPs/inference_mfu
    (Sardana et al. sec. 3, real-world cost; one price per GPU-second), reported as "cost_flops"."""
    if target_loss is None:
        reference = chinchilla_frontier_at_params(law, reference_params)
        target_loss = chinchilla_loss(law, reference["params"], reference["tokens"])
    if not target_loss > law.E:
        raise ValueError(f"--target-loss {target_loss:g}: must exceed E = {law.E:.4f} of law {law.name}")

    def tokens_for(params: float) -> float:
        gap = target_loss - law.E - law.A / params ** law.alpha
        return (law.B / gap) ** (1 / law.beta) if gap > 0 else math.inf

    def plan(params: float) -> dict:
        tokens = tokens_for(params)
        train, serve = 6 * params * tokens, 2 * params * inference_tokens
        return {"params": params, "tokens": tokens, "tokens_per_param": tokens / params, "train_flops": train,
                "inference_flops": serve, "total_flops": train + serve,
                "cost_flops": train / train_mfu + serve / inference_mfu}

    log_min = math.log((law.A / (target_loss - law.E)) ** (1 / law.alpha))  # below it the loss is unreachable
    best_log = _minimise_log(lambda x: plan(math.exp(x))["cost_flops"], log_min + 1e-9, log_min + 25)
    chinchilla_point = chinchilla_compute_for_loss(law, target_loss)
    out = {"target_loss": target_loss, "inference_tokens": inference_tokens, "train_mfu": train_mfu,
           "inference_mfu": inference_mfu,
           "chinchilla_optimal": plan(chinchilla_point["params"]), "inference_optimal": plan(math.exp(best_log))}
    if fixed_params is not None:
        if tokens_for(fixed_params) == math.inf:
            raise ValueError(f"--fixed-params {human(fixed_params)}: cannot reach loss {target_loss:.4f} at any D")
        out["fixed"] = plan(fixed_params)
    return out


# ----------------------------------------------------------------------------------------------------------------
# Fitting your own runs (scipy imported inside)
# ----------------------------------------------------------------------------------------------------------------
def read_runs(path: str) -> dict:
    """CSV with a header naming N (params), D (tokens) and/or C (flops), and loss.  ValueError on bad rows."""
    aliases = {"n": "N", "params": "N", "parameters": "N", "d": "D", "tokens": "D", "c": "C", "flops": "C",
               "compute": "C", "loss": "loss", "l": "loss"}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheets write a BOM
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"fit {path}: cannot read ({exc.__class__.__name__})") from None
    if not rows:
        raise ValueError(f"fit {path}: empty file; expected a header with N, D or C, loss")
    columns = {}
    for index, name in enumerate(rows[0]):
        key = aliases.get(name.strip().lower())
        if key and key not in columns:
            columns[key] = index
    if "N" not in columns or "loss" not in columns or not ({"D", "C"} & set(columns)):
        raise ValueError(f"fit {path}: header must name N, loss and D or C (got {','.join(rows[0])[:80]!r})")
    data = {"N": [], "D": [], "C": [], "loss": []}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {}
        for key, index in columns.items():
            if index >= len(row):
                raise ValueError(f"fit {path} line {line}: missing column {key}")
            values[key] = (parse_float(row[index], f"fit {path} line {line} {key}", 0.0, 100.0) if key == "loss"
                           else parse_real(row[index], f"fit {path} line {line} {key}"))
        tokens = values["D"] if "D" in values else values["C"] / (6 * values["N"])
        flops = values["C"] if "C" in values else 6 * values["N"] * tokens
        for key, value in (("N", values["N"]), ("D", tokens), ("C", flops), ("loss", values["loss"])):
            data[key].append(value)
    if len(data["N"]) < 6:
        raise ValueError(f"fit {path}: need at least 6 runs to fit 5 parameters, got {len(data['N'])}")
    np = _numpy()
    return {k: np.asarray(v, float) for k, v in data.items()}


def hoffmann_grid():
    """The 4500 initialisations of Hoffmann App. D.2 as rows (a, b, e, alpha, beta), a numpy array."""
    np = _numpy()
    alpha = np.arange(0, 2.01, 0.5)
    e = np.arange(-1, 1.01, 0.5)
    ab = np.arange(0, 25.1, 5)
    grid = np.meshgrid(ab, ab, e, alpha, alpha, indexing="ij")
    return np.stack([g.ravel() for g in grid], axis=1)


def huber_objective(theta, log_n, log_d, log_loss, weights=None, delta: float = HUBER_DELTA):
    """Sum of Huber(LSE(a - alpha log N, b - beta log D, e) - log L) and its gradient, for a batch of theta rows.

    Huber(r) = c*(r - c/2) with c = clip(r, -delta, delta); its derivative is c, and the gradient of the LSE is
    its softmax weights.  ``weights`` (one row of run weights per theta row) turn the sum into a bootstrap
    resample's sum.  In-place operations keep each block of rows to a few passes over memory."""
    np = _numpy()
    theta = np.atleast_2d(theta)
    if theta.shape[0] > 256:  # blocks of rows keep the temporaries in cache
        parts = [huber_objective(theta[i:i + 256], log_n, log_d, log_loss,
                                 None if weights is None else weights[i:i + 256], delta)
                 for i in range(0, theta.shape[0], 256)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    a, b, e, alpha, beta = (theta[:, i:i + 1] for i in range(5))
    w1 = a - alpha * log_n
    w2 = b - beta * log_d
    top = np.maximum(w1, w2)
    np.maximum(top, e, out=top)
    w1 -= top
    np.exp(w1, out=w1)
    w2 -= top
    np.exp(w2, out=w2)
    w3 = np.exp(e - top)
    total = w1 + w2
    total += w3
    residual = np.log(total)
    residual += top
    residual -= log_loss
    clipped = np.clip(residual, -delta, delta)
    huber = clipped * (residual - 0.5 * clipped)
    clipped /= total
    if weights is not None:
        huber *= weights
        clipped *= weights
    w1 *= clipped
    w2 *= clipped
    w3 *= clipped
    gradient = np.stack([w1.sum(1), w2.sum(1), w3.sum(1), -np.einsum("ij,j->i", w1, log_n),
                         -np.einsum("ij,j->i", w2, log_d)], 1)
    return huber.sum(axis=1), gradient


def batched_lbfgs(function, starts, iterations: int = 300, memory: int = 8, gtol: float = 1e-10,
                  ftol: float = 1e-6, merge: bool = False):
    """L-BFGS run in lock-step on every row of ``starts``, with Armijo backtracking; returns (x, value).

    ``function(x, rows)`` returns values and gradients for the points ``x`` of the batch rows ``rows``.  A row
    stops when a step fails, its gradient is below ``gtol`` or its relative decrease below ``ftol``.  With
    ``merge`` (one objective for all rows), rows that meet to 1e-6 continue as one."""
    np = _numpy()
    x = starts.astype(float)
    f, g = function(x, np.arange(x.shape[0]))
    k, n = x.shape
    s_hist = np.zeros((k, memory, n))
    y_hist = np.zeros((k, memory, n))
    rho = np.zeros((k, memory))
    count = np.zeros(k, int)
    active = np.ones(k, bool)
    for iteration in range(iterations):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        # two-loop recursion over each row's own history, newest pair first
        q = g[idx].copy()
        alphas = np.zeros((idx.size, memory))
        slots = [(count[idx] - 1 - j) % memory for j in range(memory)]
        for j in range(memory):
            valid = j < count[idx]
            s, y, r = s_hist[idx, slots[j]], y_hist[idx, slots[j]], rho[idx, slots[j]]
            alphas[:, j] = np.where(valid, r * (s * q).sum(1), 0.0)
            q -= alphas[:, j, None] * y
        s_new, y_new = s_hist[idx, slots[0]], y_hist[idx, slots[0]]
        yy = (y_new * y_new).sum(1)
        gamma = np.where((count[idx] > 0) & (yy > 0), (s_new * y_new).sum(1) / np.where(yy > 0, yy, 1.0),
                         0.1 / np.maximum(np.abs(g[idx]).max(1), 1e-300))
        q *= gamma[:, None]
        for j in reversed(range(memory)):
            valid = j < count[idx]
            beta_j = np.where(valid, rho[idx, slots[j]] * (y_hist[idx, slots[j]] * q).sum(1), 0.0)
            q += (np.where(valid, alphas[:, j], 0.0) - beta_j)[:, None] * s_hist[idx, slots[j]]
        direction = -q
        slope = (direction * g[idx]).sum(1)
        bad = slope >= 0  # not a descent direction: restart from scaled steepest descent
        direction[bad] = -g[idx][bad] * (0.1 / np.maximum(np.abs(g[idx][bad]).max(1), 1e-300))[:, None]
        slope[bad] = (direction[bad] * g[idx][bad]).sum(1)
        step = np.ones(idx.size)
        accepted = np.zeros(idx.size, bool)
        x_new, f_new, g_new = x[idx].copy(), f[idx].copy(), g[idx].copy()
        for _ in range(40):
            todo = np.flatnonzero(~accepted)
            if todo.size == 0:
                break
            trial = x[idx[todo]] + step[todo, None] * direction[todo]
            ft, gt = function(trial, idx[todo])
            ok = ft <= f[idx[todo]] + 1e-4 * step[todo] * slope[todo]
            hit = todo[ok]
            x_new[hit], f_new[hit], g_new[hit] = trial[ok], ft[ok], gt[ok]
            accepted[hit] = True
            step[todo[~ok]] *= 0.5
        s_step = x_new - x[idx]
        y_step = g_new - g[idx]
        curvature = (s_step * y_step).sum(1)
        keep = accepted & (curvature > 1e-18)
        slot = count[idx] % memory
        s_hist[idx[keep], slot[keep]] = s_step[keep]
        y_hist[idx[keep], slot[keep]] = y_step[keep]
        rho[idx[keep], slot[keep]] = 1 / curvature[keep]
        count[idx[keep]] += 1
        improvement = f[idx] - f_new
        x[idx], f[idx], g[idx] = x_new, f_new, g_new
        done = (~accepted) | (np.abs(g_new).max(1) < gtol) | (improvement <= ftol * np.maximum(np.abs(f_new), 1e-20))
        active[idx[done]] = False
        if merge and iteration % 10 == 9:
            idx = np.flatnonzero(active)
            _, first = np.unique(np.round(x[idx], 6), axis=0, return_index=True)
            active[idx] = False
            active[idx[first]] = True
    return x, f


def _theta_to_constants(theta) -> dict:
    a, b, e, alpha, beta = (float(v) for v in theta)
    return {"E": math.exp(e), "A": math.exp(a), "B": math.exp(b), "alpha": alpha, "beta": beta,
            "a": beta / (alpha + beta), "b": alpha / (alpha + beta)}


def _polish(theta, log_n, log_d, log_loss):
    """scipy's L-BFGS-B with the analytic gradient, to tight tolerances, from a batched end point."""
    np = _numpy()
    try:
        from scipy.optimize import minimize  # scipy only inside the fitter
    except ImportError:
        raise ValueError("fit: scipy is not installed (pip install scipy): Approach 3 polishes with it") from None

    def scalar(t):
        value, gradient = huber_objective(t, log_n, log_d, log_loss)
        return float(value[0]), gradient[0]

    best_x, best_f = np.asarray(theta, float), scalar(theta)[0]
    for _ in range(4):  # restarts clear the curvature memory: the Huber kinks can stall a run early
        result = minimize(scalar, best_x, jac=True, method="L-BFGS-B",
                          options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20})
        if not result.fun < best_f:
            break
        best_x, best_f = result.x, float(result.fun)
    return best_x, best_f


def fit_approach3(runs: dict, bootstrap: int = 200, seed: int = 0) -> dict:
    """Hoffmann App. D.2: L-BFGS from all 4500 grid starts (batched), the best few polished by scipy; then a
    seeded bootstrap whose resamples are refitted together as one batch (run weights = resample counts)."""
    np = _numpy()
    log_n, log_d, log_loss = np.log(runs["N"]), np.log(runs["D"]), np.log(runs["loss"])
    if min(np.unique(log_n).size, np.unique(log_d).size) < 3:
        raise ValueError("fit: Approach 3 needs runs at 3 or more distinct N and 3 or more distinct D")
    starts = hoffmann_grid()
    ends, values = batched_lbfgs(lambda t, rows: huber_objective(t, log_n, log_d, log_loss), starts, merge=True)
    order = np.argsort(np.where(np.isfinite(values), values, np.inf), kind="stable")
    candidates = []
    for index in order:
        if not np.isfinite(values[index]) or len(candidates) == POLISHED_STARTS:
            break
        if all(np.abs(ends[index] - ends[j]).max() > 1e-3 for j in candidates):
            candidates.append(index)
    if not candidates:
        raise ValueError("fit: the Approach 3 objective is not finite at any of the 4500 starts")
    theta, value = min((_polish(ends[i], log_n, log_d, log_loss) for i in candidates), key=lambda pair: pair[1])
    if not (theta[3] > 0 and theta[4] > 0):
        raise ValueError(f"fit: Approach 3 gives alpha = {theta[3]:.4g}, beta = {theta[4]:.4g}: in these runs the "
                         "loss does not fall with both N and D, so they define no scaling law")
    result = _theta_to_constants(theta) | {"objective": value, "starts": int(starts.shape[0]),
                                           "runs": int(log_n.size)}
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        counts = np.stack([np.bincount(rng.integers(0, log_n.size, log_n.size), minlength=log_n.size)
                           for _ in range(bootstrap)]).astype(float)
        boot, _ = batched_lbfgs(lambda t, rows: huber_objective(t, log_n, log_d, log_loss, counts[rows]),
                                np.tile(theta, (bootstrap, 1)), iterations=2000, ftol=1e-13, gtol=1e-13)
        non_positive = int(np.sum((boot[:, 3] <= 0) | (boot[:, 4] <= 0)))
        if non_positive:  # an interval across zero exponents is no interval for a scaling law
            raise ValueError(f"fit: {non_positive} of {bootstrap} bootstrap resamples give alpha or beta <= 0: these "
                             "runs do not pin the exponents down (--bootstrap 0 reports the point fit alone)")
        samples = [_theta_to_constants(t) for t in boot]
        keys = ("E", "A", "B", "alpha", "beta", "a")
        result["ci95"] = {k: [float(np.percentile([s[k] for s in samples], q)) for q in (2.5, 97.5)] for k in keys}
        result["se"] = {k: float(np.std([s[k] for s in samples], ddof=1)) for k in keys}
        result["bootstrap"] = {"samples": bootstrap, "seed": seed}
    return result


def group_budgets(flops, tolerance_decades: float) -> list:
    """Indices of runs grouped by budget: sorted log10 C (a numpy array) split wherever the gap exceeds the
    tolerance."""
    np = _numpy()
    order = np.argsort(flops)
    logs = np.log10(flops[order])
    groups, current = [], [order[0]]
    for previous, now, index in zip(logs[:-1], logs[1:], order[1:]):
        if now - previous > tolerance_decades:
            groups.append(current)
            current = []
        current.append(index)
    groups.append(current)
    return groups


def fit_approach2(runs: dict, tolerance_decades: float = 0.05) -> dict:
    """Hoffmann Approach 2: a parabola in ln N per isoFLOP budget (interior minimum required), then power laws."""
    np = _numpy()
    budgets = []
    for members in group_budgets(runs["C"], tolerance_decades):
        members = np.asarray(members)
        log_n = np.log(runs["N"][members])
        entry = {"flops": float(np.exp(np.mean(np.log(runs["C"][members])))), "runs": int(members.size)}
        if np.unique(log_n).size < 3:
            entry["status"] = "skipped: fewer than 3 model sizes"
        else:
            c2, c1, c0 = np.polyfit(log_n, runs["loss"][members], 2)
            vertex = -c1 / (2 * c2) if c2 > 0 else math.nan
            if not (c2 > 0 and log_n.min() < vertex < log_n.max()):
                entry["status"] = "skipped: minimum not inside the sampled sizes"
            else:
                entry.update({"status": "ok", "params": float(math.exp(vertex)),
                              "loss": float(c0 + c1 * vertex + c2 * vertex ** 2)})
                entry["tokens"] = entry["flops"] / (6 * entry["params"])
        budgets.append(entry)
    good = [b for b in budgets if b["status"] == "ok"]
    out = {"budgets": budgets}
    if len(good) >= 2:
        k, a = loglog_fit([b["flops"] for b in good], [b["params"] for b in good])
        kd, b_exp = loglog_fit([b["flops"] for b in good], [b["tokens"] for b in good])
        out.update({"k": k, "a": a, "k_tokens": kd, "b": b_exp})
    return out


# ----------------------------------------------------------------------------------------------------------------
# Plotting (matplotlib imported inside)
# ----------------------------------------------------------------------------------------------------------------
def plot(path: str, law: ParametricLaw, flops=None, models=(), runs=None, isoflop=None) -> None:
    """Write a figure: for a law, the loss landscape with iso-FLOP lines and the frontier, iso-FLOP curves, and
    the frontier with real models; for a fit (``runs``), the residuals of the Approach-3 fit and the runs with
    the Approach-2 minima (``isoflop``).  The format follows the extension (PNG or SVG)."""
    try:
        import matplotlib
    except ImportError:
        raise ValueError("--plot: matplotlib is not installed (pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        _draw(plt, path, law, flops, models, runs, isoflop)
    except OSError as exc:
        raise ValueError(f"--plot {path}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    finally:
        plt.close("all")


def _draw(plt, path, law, flops, models, runs, isoflop) -> None:
    np = _numpy()
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.6))
    if runs is not None:
        residual = np.log(runs["loss"]) - np.log(chinchilla_loss(law, runs["N"], runs["D"]))
        scatter = left.scatter(runs["C"], residual, c=np.log10(runs["N"]), s=12, cmap="viridis")
        left.axhline(0, color="k", lw=0.8)
        left.set(xscale="log", xlabel="training FLOPs C", ylabel="log loss - log fitted loss",
                 title="Approach 3 residuals")
        figure.colorbar(scatter, ax=left, label="log10 N")
        middle.scatter(np.exp(np.log(runs["loss"]) - residual), runs["loss"], s=10)
        low, high = float(runs["loss"].min()), float(runs["loss"].max())
        middle.plot([low, high], [low, high], "k-", lw=0.8)
        middle.set(xlabel="fitted loss", ylabel="observed loss", title="observed vs fitted")
        right.scatter(runs["N"], runs["loss"], c=np.log10(runs["C"]), s=10, cmap="plasma")
        for budget in (isoflop or {}).get("budgets", []):
            if budget["status"] == "ok":
                right.plot(budget["params"], budget["loss"], "k*", ms=9)
        right.set(xscale="log", xlabel="parameters N", ylabel="loss",
                  title="runs (colour: log10 C), isoFLOP minima (stars)")
    else:
        n_grid, d_grid = np.logspace(7, 13, 200), np.logspace(9, 15, 200)
        nn, dd = np.meshgrid(n_grid, d_grid)
        contour = left.contourf(nn, dd, chinchilla_loss(law, nn, dd), levels=np.linspace(law.E, law.E + 2.5, 26),
                                cmap="viridis")
        figure.colorbar(contour, ax=left, label=f"loss ({law.name})")
        for c in 10.0 ** np.arange(18, 28):
            left.plot(n_grid, c / (6 * n_grid), color="w", lw=0.5, alpha=0.7)
        budgets = np.logspace(17, 28, 100)
        frontier = [chinchilla_optimum(law, c) for c in budgets]
        left.plot([p["params"] for p in frontier], [p["tokens"] for p in frontier], "r-", label="compute-optimal")
        if flops:
            point = chinchilla_optimum(law, flops)
            left.plot(point["params"], point["tokens"], "r*", ms=12, label=f"C = {human(flops, 'FLOPs')}")
        left.set(xscale="log", yscale="log", xlim=(n_grid[0], n_grid[-1]), ylim=(d_grid[0], d_grid[-1]),
                 xlabel="parameters N", ylabel="tokens D", title="loss landscape, iso-FLOP lines (white)")
        left.legend(loc="lower right", fontsize=8)
        for c in 10.0 ** np.arange(18, 26, 1.0):
            best = chinchilla_optimum(law, c)
            sizes = best["params"] * np.logspace(-1.5, 1.5, 100)
            middle.plot(sizes, chinchilla_loss(law, sizes, c / (6 * sizes)), lw=1, label=human(c, "FLOPs"))
            middle.plot(best["params"], best["loss"], "k.", ms=6)
        middle.set(xscale="log", xlabel="parameters N", ylabel="loss", title="iso-FLOP curves and their minima")
        middle.legend(fontsize=7, title="C (FLOPs)", title_fontsize=7)
        right.plot(budgets, [p["params"] for p in frontier], "r-", label=f"N* ({law.name})")
        for model in models:
            right.plot(6 * model.params * model.tokens, model.params, "ko", ms=4)
            right.annotate(model.name, (6 * model.params * model.tokens, model.params), fontsize=6,
                           xytext=(3, 2), textcoords="offset points")
        right.set(xscale="log", yscale="log", xlabel="training FLOPs C = 6ND", ylabel="parameters N",
                  title="frontier and real models")
        right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


# ----------------------------------------------------------------------------------------------------------------
# Model size from a Hugging Face config.json: read and counted by the shared model block above
# ----------------------------------------------------------------------------------------------------------------
MOE_PARAMS = ("active", "total")
# The parameter roles Kaplan et al. 2020 sec. 1.1 leave out of N ("excluding all vocabulary and positional
# embeddings"): the token table, a learned position table and an untied LM head with its bias.  OPT's project_in /
# project_out (role embedding_projections) are ordinary matrices and stay in the non-embedding count, as
# calc_transformer_params.py counts them.
EMBEDDING_ROLES = {"input": "embedding", "positions": "positions", "lm_head": "lm_head"}


def config_model(path: str, moe_params: str = "active", generic: bool = False) -> dict:
    """The "model" JSON object for --config: the exact counts of the model the block reads, and the N each kind of
    law uses.  Bad input raises the block's InputError (one line naming the field or model type)."""
    raw, label = read_config_json(path)
    try:
        model, notes = model_from_config(raw, label, generic=generic)
    except InputError as exc:  # the message names the file and its field; the flag too, as the block's reader does
        raise InputError(f"--config {exc}") from None
    counts = count_model(model)
    if counts["total"] > MAX_COUNT:
        raise InputError(f"--config {label}: the model counts {counts['total']:.3e} parameters, beyond {MAX_COUNT:g}")
    embedding = {key: counts["roles"][role] for key, role in EMBEDDING_ROLES.items()}
    embedding["total"] = sum(embedding.values())
    non_embedding = counts["total"] - embedding["total"]
    active = None
    if counts["moe_layers"]:
        active = {"total": counts["active"], "non_embedding": counts["active"] - embedding["total"],
                  "moe_layers": counts["moe_layers"],
                  "convention": f"every parameter except the routed experts, plus top_k/E = "
                                f"{model.top_k}/{model.num_experts} of them"}
    sized = active if active and moe_params == "active" else {"total": counts["total"],
                                                              "non_embedding": non_embedding}
    kind = "active" if sized is active else "total"
    if active:
        notes.append(f"MoE: the dense laws get the {kind} count (--moe-params {MOE_PARAMS[kind == 'active']} for "
                     f"the other); neither law was fitted on MoE models")
    return {"config": path, "model_type": model.model_type, "generic": model.model_type not in SUPPORTED_MODEL_TYPES,
            "num_layers": model.num_layers, "hidden_size": model.hidden_size, "total": counts["total"],
            "embedding": embedding, "non_embedding": non_embedding, "active": active,
            "moe_params": kind if active else None, "params": sized["total"],
            "non_embedding_params": sized["non_embedding"], "notes": notes}


N_CONVENTIONS = {"params": "parameters, embeddings included (Hoffmann et al. 2022 App. F)",
                 "non_embedding_params": "non-embedding parameters (Kaplan et al. 2020 sec. 1.1)"}


def use_config_n(args, flag: str, kind: str = "params") -> None:
    """Fill args.<flag> with the --config model's N of ``kind`` unless the flag was given; record which N and why."""
    model = args.model
    if model is None:
        return
    given = getattr(args, flag)
    count = model[kind] if given is None else given
    if given is None:
        setattr(args, flag, float(count))
    source = f"--config {model['config']}" if given is None else f"--{flag.replace('_', '-')} (overrides --config)"
    moe = f", the {model['moe_params']} count of an MoE" if model["moe_params"] and given is None else ""
    model["used"] = {"flag": f"--{flag.replace('_', '-')}", "value": int(round(count)), "count": kind,
                     "convention": N_CONVENTIONS[kind] + moe, "source": source}


def config_lines(model) -> list:
    """Text/markdown lines saying which model was read and which N the laws got."""
    if model is None:
        return []
    counts = f"{model['total']:,} parameters, {model['non_embedding']:,} non-embedding"
    if model["active"]:
        counts += f"; active {model['active']['total']:,} ({model['active']['non_embedding']:,} non-embedding)"
    model_type = (f"{model['model_type'] or 'no model_type'}, read as a dense Llama-style decoder (--generic)"
                  if model["generic"] else model["model_type"])
    lines = [("config", f"{model['config']} ({model_type}): {counts}")]
    used = model.get("used")
    if used:
        lines.append(("N used", f"{human(used['value'])} = {used['value']:,} {used['convention']}, from "
                                f"{used['source']}"))
    return lines


# ----------------------------------------------------------------------------------------------------------------
# Commands: compute -> (data for JSON, report for text/markdown)
# ----------------------------------------------------------------------------------------------------------------
def resolve_law(args) -> ParametricLaw | None:
    """The Chinchilla-form law selected by --law, with any --E/--A/--B/--alpha/--beta overrides."""
    overrides = {k: getattr(args, k) for k in ("E", "A", "B", "alpha", "beta") if getattr(args, k, None) is not None}
    name = getattr(args, "law", "epoch")
    if name not in PARAMETRIC_LAWS:
        if overrides:
            raise ValueError(f"--{next(iter(overrides))}: coefficients apply only to a Chinchilla-form --law "
                             f"({', '.join(PARAMETRIC_LAWS)})")
        return None
    law = PARAMETRIC_LAWS[name]
    if overrides:
        fields = asdict(law) | overrides | {"name": "custom", "source": f"{law.name} with --flags overriding"}
        law = ParametricLaw(**fields)
    return law


def law_json(law) -> dict | None:
    return asdict(law) if law else None


def tpp_text(ratio: float) -> str:
    return f"{ratio:.1f}" if ratio < 100 else f"{ratio:,.0f}"


def point_row(p: dict) -> list:
    loss = "" if p.get("loss") is None else f"{p['loss']:.4f}"
    return [p["law"], human(p["params"]), human(p["tokens"]), human(p["flops"], "FLOPs"),
            tpp_text(p["tokens_per_param"]), loss]


POINT_COLUMNS = ["law", "params N", "tokens D", "FLOPs C", "tokens/param", "loss"]


def _optimal_point(args, name: str, chosen, notes: list):
    """The answer of law ``name`` (``chosen``: its Chinchilla-form law, or None) to the query; None if it has none."""
    if args.compute is not None:
        return (chinchilla_optimum(chosen, args.compute) if chosen
                else power_law_optimum(name, args.compute, args.tokens_per_param))
    if chosen is None:
        return None  # frontier-through-N/D and loss targets need a Chinchilla-form law
    if args.params is not None:
        return chinchilla_frontier_at_params(chosen, args.params)
    if args.tokens is not None:
        return chinchilla_frontier_at_tokens(chosen, args.tokens)
    if args.law == "all" and not args.target_loss > chosen.E:  # one law: compute_for_loss says why
        notes.append(f"{name}: loss {args.target_loss:g} is below its E = {chosen.E:.4f}, unreachable")
        return None
    return chinchilla_compute_for_loss(chosen, args.target_loss)


def cmd_optimal(args) -> tuple:
    law = resolve_law(args)  # None for --law all and for the power laws
    use_config_n(args, "params")
    queries = [q for q in ("compute", "params", "tokens", "target_loss") if getattr(args, q) is not None]
    if len(queries) != 1:
        raise ValueError("optimal: give exactly one of --compute, --params (or --config), --tokens, --target-loss")
    if law is None and args.law != "all" and args.compute is None:
        raise ValueError(f"--law {args.law} only answers --compute; --params, --tokens and --target-loss need one "
                         f"of {', '.join(PARAMETRIC_LAWS)}")
    names = ALL_LAWS if args.law == "all" else (law.name if law else args.law,)
    query = queries[0]
    value = getattr(args, query)
    shown = human(value, "FLOPs") if query == "compute" else f"{value:g}" if query == "target_loss" else human(value)
    results, notes = [], []
    for name in names:
        chosen = law if (law and name == law.name) else PARAMETRIC_LAWS.get(name)
        try:
            point = _optimal_point(args, name, chosen, notes)
        except ValueError as exc:  # name the flag whose value leads outside the laws' range
            raise ValueError(str(exc) if str(exc).startswith("--") else f"--{query.replace('_', '-')} {shown}: {exc}") \
                from None
        if point is not None:
            results.append(point)
    if not results:  # only a loss target can leave every law without an answer
        raise ValueError(f"--target-loss {args.target_loss:g}: below the irreducible loss E of every law")
    if args.compute is not None and "llama3" in names:
        notes.append("llama3: the printed (0.53, 0.29) give 10.46T tokens at 3.8e25 FLOPs, not the paper's 16.55T "
                     "(402B): that headline does not follow from the printed constants")
    if args.compute is not None and {"kaplan", "deepseek"} & set(names):
        notes.append("kaplan: N is non-embedding, C = 2*C_min (training at B_crit); deepseek: N = M_opt/6, M being "
                     "non-embedding FLOPs/token with C = M*D")
    if law:
        k = frontier_constants(law)
        notes.append(f"{law.name}: G = {k['G']:.5g}, N* ~ C^{k['a']:.4f}, D* ~ C^{k['b']:.4f}; source: {law.source}")
    config = [("query", f"--{query.replace('_', '-')} {shown}"), ("law", args.law)] + config_lines(args.model)
    data = {"command": "optimal", "law": law_json(law), "inputs": {query: value},
            "results": [_json_point(p) for p in results], "notes": notes}
    report = {"config": config, "tables": [("compute-optimal allocation (C = 6ND)", POINT_COLUMNS,
                                            [point_row(p) for p in results])], "notes": notes}
    if args.plot:
        plot(args.plot, law or PARAMETRIC_LAWS["epoch"], flops=args.compute,
             models=tuple(REAL_MODELS.values()))
    return data, report


def _json_point(p: dict) -> dict:
    out = {"law": p["law"], "params": int(round(p["params"])), "tokens": int(round(p["tokens"])),
           "flops": float(p["flops"]), "tokens_per_param": float(p["tokens_per_param"])}
    out["loss"] = None if p.get("loss") is None else float(p["loss"])
    return out


def _params_tokens(args) -> tuple:
    """N and D from --params/--tokens, a --preset, or --compute with one of them (D = C/(6N)).

    Explicit flags win over the preset; with --compute and a preset alone, the preset's N is kept."""
    if args.preset and args.model:
        raise ValueError("loss: --preset and --config are alternatives; give one")
    use_config_n(args, "params")
    params, tokens = args.params, args.tokens
    if args.compute is None:
        if args.preset:
            model = REAL_MODELS[args.preset]
            params, tokens = params or model.params, tokens or model.tokens
    else:
        if params is None and tokens is None and args.preset:
            params = REAL_MODELS[args.preset].params  # keep the model's size, spend the budget on tokens
        if (params is None) == (tokens is None):
            raise ValueError("loss: --compute goes with exactly one of --params or --tokens (or a --preset)")
        if params is None:
            params = args.compute / (6 * tokens)
        else:
            tokens = args.compute / (6 * params)
    if params is None or tokens is None:
        raise ValueError("loss: give --params and --tokens, a --preset, or --compute with one of them")
    if params < 1 or tokens < 1:
        raise ValueError("loss: --compute is too small for the given size (fewer than 1 parameter or token)")
    return params, tokens


def cmd_loss(args) -> tuple:
    params, tokens = _params_tokens(args)
    law = resolve_law(args)
    if law is None and args.law != "all":
        raise ValueError(f"loss: --law {args.law} predicts no loss; use all or one of {', '.join(PARAMETRIC_LAWS)}")
    laws = [law] if law else list(PARAMETRIC_LAWS.values())
    rows, results = [], []
    for each in laws:
        value = chinchilla_loss(each, params, tokens)
        try:
            optimum = chinchilla_optimum(each, 6 * params * tokens)
        except ValueError as exc:  # tiny N and D: the same-FLOPs optimum falls below one parameter or token
            raise ValueError(f"loss: N = {human(params)} and D = {human(tokens)} give C = 6ND = "
                             f"{human(6 * params * tokens, 'FLOPs')} FLOPs: {exc}") from None
        results.append({"law": each.name, "loss": value, "optimal_loss_same_flops": optimum["loss"]})
        rows.append([each.name, f"{value:.4f}", f"{optimum['loss']:.4f}", human(optimum["params"]),
                     human(optimum["tokens"])])
    notes = ["kaplan row: Kaplan et al. 2020 eq. 1.5 with the Table 2 constants; its N excludes embeddings"]
    kaplan_params = params
    if args.model and args.model["used"]["source"].startswith("--config"):
        kaplan_params = args.model["non_embedding_params"]
        notes.append(f"kaplan row: N = {kaplan_params:,} non-embedding parameters counted from the config")
    kaplan = kaplan_report(kaplan_params, tokens, local_exponents=False)
    results.append({"law": "kaplan", "loss": kaplan["loss_joint"], "optimal_loss_same_flops": None})
    rows.append(["kaplan (eq 1.5; N non-embedding)", f"{kaplan['loss_joint']:.4f}", "", "", ""])
    config = [("preset", args.preset)] if args.preset else []
    config += config_lines(args.model)
    config += [("params N", human(params)), ("tokens D", human(tokens)),
               ("FLOPs C = 6ND", human(6 * params * tokens, "FLOPs")), ("tokens/param", f"{tokens / params:.1f}")]
    data = {"command": "loss", "law": law_json(law), "inputs": {"params": int(round(params)),
                                                                  "tokens": int(round(tokens))},
            "results": results, "notes": notes}
    report = {"config": config, "tables": [("loss L(N, D) in nats/token",
                                            ["law", "L(N, D)", "L* at same C", "N* at same C", "D* at same C"],
                                            rows)], "notes": notes}
    return data, report


def cmd_table3(args) -> tuple:
    k, a = table_fits()["approach1"]
    rows, data_rows = [], []
    for params, flops, units, tokens in TABLE3_ROWS:
        fitted = k * flops ** a
        ratio = flops / (6 * params * tokens)
        data_rows.append({"params": int(params), "flops": flops, "gopher_units": units, "tokens": int(tokens),
                          "fitted_params": int(round(fitted)), "flops_over_6nd": ratio})
        unit_text = f"1/{1 / units:,.0f}" if units < 1 else f"{units:g}"
        rows.append([human(params), human(flops, "FLOPs"), unit_text, human(tokens), human(fitted),
                     f"{fitted / params:.3f}", f"{ratio:.3f}"])
    notes = [f"Approach 1 law fitted to these rows: N = {k:.5f} * C^{a:.4f} (Table 2 prints a = 0.50)",
             "67B row: 6*67e9*1.5e12 = 6.03e23, not 5.76e23 (C/6ND = 0.955): its 1.5T is rounded from ~1.43T",
             "Table A3 (Approaches 2 and 3) rows are built in; the 175B Approach-3 FLOPs 1.26e24 is a typo for 1.26e25"]
    data = {"command": "table3", "rows": data_rows, "fit": {"k": k, "a": a}, "notes": notes,
            "source": "Hoffmann et al. 2022 Table 3"}
    report = {"config": [("source", "Hoffmann et al. 2022 Table 3 (Approach 1 projections)")],
              "tables": [("Chinchilla Table 3", ["params", "FLOPs", "Gopher units", "tokens", "fitted N", "fit/row",
                                                 "C/(6ND)"], rows)], "notes": notes}
    return data, report


def model_row(law: ParametricLaw, model: RealModel) -> dict:
    flops = 6 * model.params * model.tokens
    optimum = chinchilla_optimum(law, flops)
    factor = model.tokens / optimum["tokens"]
    verdict = "over-trained" if factor > 1 else "under-trained"
    return {"model": model.name, "params": int(model.params), "tokens": int(model.tokens), "flops": flops,
            "tokens_per_param": model.tokens / model.params, "optimal_params": int(round(optimum["params"])),
            "optimal_tokens": int(round(optimum["tokens"])), "trained_factor": max(factor, 1 / factor),
            "verdict": verdict, "loss": chinchilla_loss(law, model.params, model.tokens),
            "optimal_loss": optimum["loss"], "source": model.source, "note": model.note}


def _models_all_laws(chosen: list) -> tuple:
    """One row per model, one verdict column per Chinchilla-form law."""
    laws = list(PARAMETRIC_LAWS.values())
    rows, table = [], []
    for model in chosen:
        by_law = {law.name: model_row(law, model) for law in laws}
        rows.append({"model": model.name, "params": int(model.params), "tokens": int(model.tokens),
                     "tokens_per_param": model.tokens / model.params, "by_law": by_law})
        table.append([model.name, human(model.params), human(model.tokens), tpp_text(model.tokens / model.params)]
                     + [f"{'over' if r['verdict'] == 'over-trained' else 'under'} x{r['trained_factor']:.2f}"
                        for r in by_law.values()])
    notes = ["each law column: over- or under-trained, by D / D*(C) at the model's own C = 6ND"]
    data = {"command": "models", "law": None, "rows": rows, "notes": notes}
    report = {"config": [("law", "all Chinchilla-form laws")], "tables": [(
        "real models vs the compute-optimal frontier of each law",
        ["model", "N", "D", "tpp"] + [law.name for law in laws],
        table)], "notes": notes}
    return data, report


def cmd_models(args) -> tuple:
    chosen = [REAL_MODELS[args.preset]] if args.preset else list(REAL_MODELS.values())
    if args.law == "all" and not any(getattr(args, k) is not None for k in ("E", "A", "B", "alpha", "beta")):
        if args.plot:
            plot(args.plot, PARAMETRIC_LAWS["epoch"], models=chosen)
        return _models_all_laws(chosen)
    law = resolve_law(args)
    if law is None:
        raise ValueError("models: --law must be all or a Chinchilla-form law (" + ", ".join(PARAMETRIC_LAWS) + ")")
    rows = [model_row(law, m) for m in chosen]
    table = [[r["model"], human(r["params"]), human(r["tokens"]), tpp_text(r["tokens_per_param"]),
              human(r["flops"], "FLOPs"), human(r["optimal_params"]), human(r["optimal_tokens"]),
              f"{r['verdict']} x{r['trained_factor']:.2f}", f"{r['loss']:.4f}",
              # L >= L*(C) by definition; max() keeps rounding noise at the optimum from printing "+-0.00%"
              f"+{max(0.0, 100 * (r['loss'] / r['optimal_loss'] - 1)):.2f}%"] for r in rows]
    notes = [f"law {law.name}: {law.source}",
             "trained factor = D / D*(C) at the model's own C = 6ND; loss excess vs the compute-optimal L*(C)"]
    notes += [f"{r['model']}: {r['note']}" for r in rows if r["note"]]
    data = {"command": "models", "law": law_json(law), "rows": rows, "notes": notes}
    report = {"config": [("law", law.name)], "tables": [(
        "real models vs the compute-optimal frontier",
        ["model", "N", "D", "tpp", "C = 6ND", "N* at C", "D* at C", "verdict", "L(N,D)", "vs L*"], table)],
        "notes": notes}
    if args.plot:
        plot(args.plot, law, models=chosen)
    return data, report


def cmd_kaplan(args) -> tuple:
    if args.model and (args.num_layers is not None or args.hidden_size is not None):
        raise ValueError("kaplan: --config and --num-layers/--hidden-size are alternatives; give one")
    use_config_n(args, "params", "non_embedding_params")
    if args.num_layers is not None or args.hidden_size is not None:
        if args.num_layers is None or args.hidden_size is None:
            raise ValueError("kaplan: --num-layers and --hidden-size go together")
        if args.params is not None:
            raise ValueError("kaplan: give --params or --num-layers with --hidden-size, not both")
        args.params = 12 * args.num_layers * args.hidden_size ** 2  # Kaplan eq. 2.1, standard shape
    if all(v is None for v in (args.params, args.tokens, args.compute, args.loss)):
        raise ValueError("kaplan: give at least one of --params, --tokens, --compute, --loss")
    res = kaplan_report(args.params, args.tokens, args.compute, args.loss, args.compute_is_min)
    labels = [("loss_of_params", "L(N) eq 1.1", "{:.4f}"), ("min_tokens_no_overfit", "D >= 5e3 N^0.74 (eq 4.4)", "h"),
              ("loss_of_tokens", "L(D) eq 1.2", "{:.4f}"), ("loss_joint", "L(N, D) eq 1.5, Table 2", "{:.4f}"),
              ("overfit_fraction", "overfitting dL/L eq 4.2", "{:.2%}"),
              ("flops_min_pf_days", "C_min (PF-days)", "{:.4g}"), ("loss_of_compute", "L(C_min) eq 1.3", "{:.4f}"),
              ("optimal_params", "N_opt = 1.3e9 C_min^0.73", "h"), ("batch_tokens", "B = 2e6 C_min^0.24", "h"),
              ("min_steps", "S_min = 5.4e3 C_min^0.03", "h"), ("tokens_app_a", "D = 2e10 C_min^0.27", "h"),
              ("tokens_6nd", "D = C/(6 N_opt)", "h"), ("critical_batch_tokens", "B_crit(L) eq 1.4 (tokens)", "h"),
              ("alpha_Cmin_predicted", "alpha_C^min predicted eq 1.8", "{:.4f}"),
              ("pf_day_flops", "1 PF-day (FLOPs)", "f")]
    for name in ("chinchilla-unrounded", "epoch"):
        labels.append((f"local_exponent_{name}", f"N ~ C^x, x seen by Kaplan if {name} true", "{:.3f}"))
    rows = []
    for key, label, fmt in labels:
        if key in res:
            value = res[key]
            text = human(value) if fmt == "h" else human(value, "FLOPs") if fmt == "f" else fmt.format(value)
            rows.append([label, text])
    inputs = {k: getattr(args, k) for k in ("params", "tokens", "compute", "loss") if getattr(args, k) is not None}
    notes = ["Kaplan et al. 2020 (arXiv 2001.08361); N counts non-embedding parameters",
             "local exponents: Pearce & Song 2024 (arXiv 2406.12907) analytic frontier, non-embedding N and C over "
             "Kaplan's 10^12.95..10^20.7 FLOPs: a Chinchilla law looks like Kaplan's 0.73 at small scale",
             "C_min = C/2 assumes training at B = B_crit (eq 5.5); --compute-is-min reads --compute as C_min"]
    data = {"command": "kaplan", "inputs": inputs, "results": res, "constants": KAPLAN, "notes": notes}
    report = {"config": config_lines(args.model)
              + [(k, human(v, "FLOPs") if k == "compute" else human(v)) for k, v in inputs.items()],
              "tables": [("Kaplan et al. 2020", ["quantity", "value"], rows)], "notes": notes}
    return data, report


def cmd_deepseek(args) -> tuple:
    if args.params is not None:  # the fits are in M, FLOPs per token, which N does not determine
        raise ValueError("deepseek: --params is not used; give the architecture (-l -hs -s) for M, or --compute")
    if args.compute is not None and args.tokens is not None:
        raise ValueError("deepseek: give --compute, or an architecture and --tokens (C = M*D), not both")
    inputs, res = {}, {}
    model = args.model
    if model:
        if args.num_layers is not None or args.hidden_size is not None:
            raise ValueError("deepseek: --config and --num-layers/--hidden-size are alternatives; give one")
        if args.sequence_length is None:  # max_position_embeddings is the serving limit, not the training context
            raise ValueError("deepseek: --config needs --sequence-length, the training context length")
        args.num_layers, args.hidden_size = model["num_layers"], model["hidden_size"]
        use_config_n(args, "params", "non_embedding_params")
    arch = [args.num_layers, args.hidden_size, args.sequence_length]
    if any(v is not None for v in arch):
        if any(v is None for v in arch):
            raise ValueError("deepseek: --num-layers, --hidden-size and --sequence-length go together")
        res["model_flops_per_token"] = deepseek_flops_per_token(*arch)
        inputs.update(num_layers=arch[0], hidden_size=arch[1], sequence_length=arch[2])
    flops = args.compute
    if flops is None:
        if args.tokens is None or "model_flops_per_token" not in res:
            raise ValueError("deepseek: give --compute, or an architecture (-l -hs -s) and --tokens")
        flops = res["model_flops_per_token"] * args.tokens
        inputs["tokens"] = args.tokens
    if model:  # the 72 l d^2 term is 6 x Kaplan's 12 l d^2: the exact count replaces the standard shape
        res["model_flops_per_token_exact_params"] = (6 * model["non_embedding_params"]
                                                     + 12 * args.num_layers * args.hidden_size * args.sequence_length)
    res["flops"] = flops
    res["optimum"] = deepseek_optimum(flops)
    if args.sequence_length:
        res["batch_sequences"] = res["optimum"]["batch_tokens"] / args.sequence_length
    rows = [["C = M*D (FLOPs)", human(flops, "FLOPs")]]
    if "model_flops_per_token" in res:
        rows.append(["M = 72 l d^2 + 12 l d s (FLOPs/token)", human(res["model_flops_per_token"], "FLOPs")])
    if model:
        rows.append(["M' = 6 N_non-emb + 12 l d s (FLOPs/token)",
                     human(res["model_flops_per_token_exact_params"], "FLOPs")])
    opt = res["optimum"]
    rows += [["M_opt = 0.1715 C^0.5243", human(opt["model_flops_per_token"], "FLOPs")],
             ["D_opt = 5.8316 C^0.4757", human(opt["tokens"])],
             ["B_opt = 0.2920 C^0.3271 (tokens)", human(opt["batch_tokens"])],
             ["lr_opt = 0.3118 / C^0.1250", f"{opt['learning_rate']:.3e}"]]
    if "batch_sequences" in res:
        rows.append(["B_opt / sequence length (sequences)", f"{res['batch_sequences']:.0f}"])
    notes = ["DeepSeek LLM (arXiv 2401.02954) sec. 3; released 7B: batch 2304 x 4096, lr 4.2e-4; "
             "67B: 4608 x 4096, lr 3.2e-4 (sec. 2.2)"]
    if model:
        notes.append("--config: l and d from the config; C = M*D uses the paper's M (72 l d^2 assumes the standard "
                     "12 l d^2 shape), M' with the exact non-embedding count is shown for comparison")
    data = {"command": "deepseek", "inputs": inputs | {"compute": flops}, "results": res, "constants": DEEPSEEK,
            "notes": notes}
    report = {"config": config_lines(model) + [(k, human(v) if k == "tokens" else str(v)) for k, v in inputs.items()],
              "tables": [("DeepSeek LLM", ["quantity", "value"], rows)], "notes": notes}
    return data, report


def cmd_data_constrained(args) -> tuple:
    if args.unique_tokens is None:
        raise ValueError("data-constrained: --unique-tokens is required")
    use_config_n(args, "params")
    if (args.params is None) != (args.tokens is None):
        raise ValueError("data-constrained: --params (or --config) and --tokens go together (the loss of N trained "
                         "on D)")
    inputs = {"unique_tokens": args.unique_tokens}
    tables = []
    res = {}
    if args.params is not None and args.tokens is not None:
        point = muennighoff_loss(args.params, args.tokens, args.unique_tokens)
        res["point"] = point
        inputs.update(params=args.params, tokens=args.tokens)
        tables.append(("data-constrained loss", ["N", "D", "U", "epochs", "D' (effective)", "N' (effective)", "loss"],
                       [[human(point["params"]), human(point["tokens"]), human(point["unique_tokens"]),
                         f"{point['epochs']:.2f}", human(point["effective_tokens"]), human(point["effective_params"]),
                         f"{point['loss']:.6f}"]]))
    if args.compute is not None:
        best = muennighoff_optimum(args.compute, args.unique_tokens)
        res["optimum"] = best
        inputs["compute"] = args.compute
        rows = []
        for label, p in (("unconstrained optimum", best["unconstrained"]), ("README grid", best["readme_grid"]),
                         ("continuous", best["continuous"])):
            epochs = p["tokens"] / args.unique_tokens
            rows.append([label, human(p["params"]), human(p["tokens"]), f"{epochs:.2f}",
                         f"{muennighoff_loss(p['params'], p['tokens'], args.unique_tokens)['loss']:.6f}"])
        tables.append((f"best allocation at C = {human(args.compute, 'FLOPs')}",
                       ["plan", "N", "D", "epochs of U", "loss with repetition"], rows))
    if not tables:
        raise ValueError("data-constrained: give --params and --tokens, or --compute")
    notes = ["Muennighoff et al. 2023 (arXiv 2305.16264), huggingface/datablations README; "
             f"R_D* = {MUENNIGHOFF_RD_STAR}, R_N* = {MUENNIGHOFF_RN_STAR}",
             "README grid: N/i, D*i and N*i, D/i for i in linspace(1.0001, 3, 500) around the unconstrained optimum"]
    data = {"command": "data-constrained", "law": law_json(PARAMETRIC_LAWS["muennighoff"]), "inputs": inputs,
            "results": res, "notes": notes}
    config = config_lines(args.model) + [(k, human(v, "FLOPs") if k == "compute" else human(v))
                                         for k, v in inputs.items()]
    return data, {"config": config, "tables": tables, "notes": notes}


def cmd_inference(args) -> tuple:
    law = resolve_law(args)
    if law is None:
        raise ValueError("inference: --law must be a Chinchilla-form law (" + ", ".join(PARAMETRIC_LAWS) + ")")
    if args.model and args.target_loss is None and args.params is None:
        use_config_n(args, "params")  # target: the loss a Chinchilla-optimal model of this size reaches
    else:
        use_config_n(args, "fixed_params")  # the target is given: cost this model against it
    if (args.target_loss is None) == (args.params is None):
        raise ValueError("inference: give exactly one of --target-loss or --params (its Chinchilla-optimal loss)")
    res = inference_aware_optimum(law, args.inference_tokens, args.target_loss, args.params, args.fixed_params,
                                  args.train_mfu, args.inference_mfu)
    key_cost = "total_flops" if args.train_mfu == args.inference_mfu == 1.0 else "cost_flops"
    base = res["chinchilla_optimal"][key_cost]
    rows = []
    for label, key in (("Chinchilla-optimal", "chinchilla_optimal"), ("inference-optimal", "inference_optimal"),
                       ("fixed N", "fixed")):
        if key in res:
            p = res[key]
            change = p[key_cost] / base - 1
            cost = [human(p["cost_flops"], "FLOPs")] if key_cost == "cost_flops" else []
            rows.append([label, human(p["params"]), human(p["tokens"]), tpp_text(p["tokens_per_param"]),
                         human(p["train_flops"], "FLOPs"), human(p["inference_flops"], "FLOPs"),
                         human(p["total_flops"], "FLOPs")] + cost + [
                         "reference" if key == "chinchilla_optimal" else
                         f"saves {human(base - p[key_cost], 'FLOPs')} ({abs(change):.1%})" if change <= 0 else
                         f"costs {human(p[key_cost] - base, 'FLOPs')} ({change:.1%}) more"])
    notes = [f"Sardana et al. 2023 (arXiv 2401.00448): minimise 6*N*D_train + 2*N*D_inference at loss "
             f"{res['target_loss']:.4f}; law {law.name}"]
    if key_cost == "cost_flops":
        notes.append(f"minimised and compared: train FLOPs/{args.train_mfu:g} + inference FLOPs/"
                     f"{args.inference_mfu:g} (hardware time at these MFUs; Sardana et al. sec. 3)")
    data = {"command": "inference", "law": law_json(law), "inputs": {
        "inference_tokens": args.inference_tokens, "target_loss": args.target_loss, "params": args.params,
        "fixed_params": args.fixed_params}, "results": res, "notes": notes}
    report = {"config": config_lines(args.model) + [("law", law.name), ("target loss", f"{res['target_loss']:.4f}"),
                                                    ("inference tokens", human(args.inference_tokens))],
              "tables": [("training + inference FLOPs at equal loss",
                          ["plan", "N", "D_train", "tpp", "train FLOPs", "inference FLOPs", "total"]
                          + (["FLOPs/MFU"] if key_cost == "cost_flops" else []) + ["vs Chinchilla"], rows)],
              "notes": notes}
    return data, report


def nanogpt_explanations() -> dict:
    """The TODOs of karpathy/nanoGPT scaling_laws.ipynb, answered with numbers."""
    printed, unrounded, epoch = (PARAMETRIC_LAWS[k] for k in ("chinchilla", "chinchilla-unrounded", "epoch"))
    table3_budget = 1.92e19  # Table 3's 400M row (Approach 1)
    todo1 = {
        "flops": table3_budget, "table3_params": 400e6, "notebook_grid_params": 10 ** 8.5,
        "printed": chinchilla_optimum(printed, table3_budget)["params"],
        "unrounded": chinchilla_optimum(unrounded, table3_budget)["params"],
        "epoch": chinchilla_optimum(epoch, table3_budget)["params"],
        "approach1_fit": power_law_optimum("approach1", table3_budget)["params"],
        "table_a3_flops_for_400m": 2.21e19,
        "printed_at_a3_flops": chinchilla_optimum(printed, 2.21e19)["params"],
        "unrounded_flops_for_400m": chinchilla_frontier_at_params(unrounded, 400e6)["flops"],
    }
    todo2 = {"params": 1.3e9, "mosaicml_tokens": 26e9}
    for law in (printed, unrounded, epoch):
        point = chinchilla_frontier_at_params(law, 1.3e9)
        todo2[law.name] = {"tokens": point["tokens"], "tokens_per_param": point["tokens_per_param"],
                           "flops": point["flops"]}
    todo3 = []
    for millions, d, ffw, kv, heads, layers in TABLE_A9_ROWS:
        if heads * kv != d:
            todo3.append({"printed_millions": millions, "d_model": d, "attention_width": heads * kv,
                          "params": chinchilla_model_params(d, ffw, kv, heads, layers),
                          "params_if_width_is_d_model": chinchilla_model_params(d, ffw, kv, heads, layers, d)})
    todo4 = [{"model": name, "printed_ratio": ratio,
              "without_embeddings": chinchilla_flop_ratio(layers, d, ffw, heads, kv),
              "with_embeddings": chinchilla_flop_ratio(layers, d, ffw, heads, kv, True)}
             for name, layers, d, ffw, heads, kv, ratio in TABLE_A4_ROWS]
    return {"todo1_400m_vs_316m": todo1, "todo2_1.3b_tokens": todo2, "todo3_table_a9_rows": todo3,
            "todo4_table_a4_ratios": todo4}


def cmd_nanogpt(args) -> tuple:
    res = nanogpt_explanations()
    t1, t2 = res["todo1_400m_vs_316m"], res["todo2_1.3b_tokens"]
    rows1 = [["Table 3 (Approach 1 projection)", human(t1["table3_params"])],
             ["Approach 1 law fitted to Table 3", human(t1["approach1_fit"])],
             ["notebook: Approach 3 printed constants, 10^(k/16) grid", human(t1["notebook_grid_params"])],
             ["Approach 3 printed constants, closed form", human(t1["printed"])],
             ["Approach 3 unrounded constants, closed form", human(t1["unrounded"])],
             ["Epoch refit, closed form", human(t1["epoch"])],
             ["printed constants at Table A3's 2.21e19 for 400M", human(t1["printed_at_a3_flops"])],
             ["unrounded constants: FLOPs for a 400M frontier model", human(t1["unrounded_flops_for_400m"], "FLOPs")]]
    rows2 = [["MosaicML (20 tokens/param)", human(t2["mosaicml_tokens"]), "20.0", ""]]
    rows2 += [[name, human(t2[name]["tokens"]), tpp_text(t2[name]["tokens_per_param"]),
               human(t2[name]["flops"], "FLOPs")] for name in ("chinchilla", "chinchilla-unrounded", "epoch")]
    rows3 = [[str(r["printed_millions"]), str(r["d_model"]), str(r["attention_width"]),
              f"{r['params_if_width_is_d_model'] / 1e6:.1f}", f"{r['params'] / 1e6:.1f}"]
             for r in res["todo3_table_a9_rows"]]
    rows4 = [[r["model"], f"{r['printed_ratio']:.2f}", f"{r['without_embeddings']:.3f}", f"{r['with_embeddings']:.3f}"]
             for r in res["todo4_table_a4_ratios"]]
    tables = [("TODO 1: model size at C = 1.92e19 FLOPs (Table 3 says 400M, the notebook 316M)", ["how", "N"],
               rows1),
              ("TODO 2: tokens for a 1.3B model (notebook 60.32B vs MosaicML 26B)", ["law", "D", "tpp", "C"], rows2),
              ("TODO 3: the Table A9 rows whose attention width n_heads*kv_size != d_model (params in M)",
               ["printed", "d_model", "heads*kv", "width = d_model", "width = heads*kv"], rows3),
              ("TODO 4: Table A4 FLOP ratio (App. F count / 6ND)", ["model", "printed", "no embeddings/logits",
                                                                   "with them"], rows4)]
    notes = ["TODO 1: Table 3 is Approach 1 but the notebook evaluates Approach 3; 316.23M = 10^8.5 is a point of "
             "its grid; the printed constants are rounded (0.34/0.28 give a = 0.4516, the unrounded 0.4565)",
             "TODO 2: Approach 3 with the printed constants puts ~47 tokens/param at 1.3B; its tokens per parameter "
             "grow with scale because a < 0.5 - the known flaw Epoch's refit removes",
             "TODO 3: the A9 sizes are reproduced to the nearest million only with attention width n_heads*kv_size",
             "TODO 4: the printed ratios match only when embedding and logit FLOPs are left out"]
    data = {"command": "nanogpt", "results": res, "notes": notes,
            "source": "karpathy/nanoGPT scaling_laws.ipynb TODOs; Hoffmann et al. 2022 Tables 3, A3, A4, A9"}
    return data, {"config": [("notebook", "karpathy/nanoGPT scaling_laws.ipynb")], "tables": tables, "notes": notes}


def cmd_fit(args) -> tuple:
    runs = read_runs(args.csv)
    tables, notes = [], [f"{runs['N'].size} runs from {args.csv}"]
    data = {"command": "fit", "inputs": {"csv": args.csv, "runs": int(runs["N"].size)}}
    if args.approach in ("3", "both"):
        approach3 = data["approach3"] = fit_approach3(runs, args.bootstrap, args.seed)
        law = ParametricLaw("fit", approach3["E"], approach3["A"], approach3["B"], approach3["alpha"],
                            approach3["beta"], f"fit of {args.csv}")
        rows = []
        for key in ("E", "A", "B", "alpha", "beta", "a"):
            ci = approach3.get("ci95", {}).get(key)
            se = approach3.get("se", {}).get(key)
            rows.append([key, f"{approach3[key]:.6g}", "" if se is None else f"{se:.3g}",
                         "" if ci is None else f"[{ci[0]:.4g}, {ci[1]:.4g}]"])
        tables.append(("Approach 3 (Huber on log loss, 4500 starts, L-BFGS)",
                       ["constant", "value", "bootstrap SE", "95% interval"], rows))
        rows = []
        for flops in [args.compute] if args.compute else [1e21, GOPHER_FLOPS, 1e25]:
            try:
                rows.append(point_row(chinchilla_optimum(law, flops)))
            except ValueError as exc:  # e.g. a fit to toy runs whose optimum at 1e21 is below one token
                notes.append(f"allocation at C = {human(flops, 'FLOPs')} left out: {exc}")
        tables.append(("allocation implied by the Approach 3 fit", POINT_COLUMNS, rows))
        notes.append(f"Approach 3: Huber delta {HUBER_DELTA}, objective {approach3['objective']:.6g}, "
                     f"{args.bootstrap} bootstrap resamples (seed {args.seed})")
    if args.approach in ("2", "both"):
        approach2 = data["approach2"] = fit_approach2(runs, args.budget_tolerance)
        tables.append(("Approach 2 (isoFLOP parabolas)", ["budget C", "runs", "status", "N_opt", "L_min"],
                       [[human(b["flops"], "FLOPs"), str(b["runs"]), b["status"],
                         human(b["params"]) if "params" in b else "", f"{b['loss']:.4f}" if "loss" in b else ""]
                        for b in approach2["budgets"]]))
        if "a" in approach2:
            notes.append(f"Approach 2: N_opt = {approach2['k']:.4g} * C^{approach2['a']:.4f}, "
                         f"D_opt ~ C^{approach2['b']:.4f}")
        else:
            notes.append("Approach 2: fewer than 2 budgets with an interior minimum, no power law fitted")
    if args.plot:
        if "approach3" not in data:
            raise ValueError("--plot: the fit figure shows Approach 3 residuals; use --approach 3 or both")
        plot(args.plot, law, runs=runs, isoflop=data.get("approach2"))
    data["notes"] = notes
    return data, {"config": [("runs", args.csv)], "tables": tables, "notes": notes}


# ----------------------------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------------------------
def render_text(report: dict) -> str:
    lines = []
    width = max((len(k) for k, _ in report["config"]), default=0)
    lines += [f"{k.ljust(width)} : {v}" for k, v in report["config"]]
    for title, columns, rows in report["tables"]:
        widths = [max(len(str(x)) for x in column) for column in zip(columns, *rows)]
        lines += ["", title, "  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(),
                  "  ".join("-" * w for w in widths)]
        for row in rows:
            cells = [str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
    if report["notes"]:
        lines += [""] + [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def render_markdown(report: dict) -> str:
    lines = [f"- **{k}**: {v}" for k, v in report["config"]]
    for title, columns, rows in report["tables"]:
        lines += ["", f"**{title}**", "", "| " + " | ".join(columns) + " |",
                  "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
        lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    if report["notes"]:
        lines += [""] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines)


def _check_finite(value, path="output"):
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise FloatingPointError(f"{path} is not finite")


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    numpy = sys.modules.get("numpy")  # loaded by a fit or a plot only; without it no value is a numpy scalar
    if numpy is not None and isinstance(value, (numpy.floating, numpy.integer)):
        return value.item()
    return value


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------
class SubcommandParser(OneLineParser):
    """The block's one-line parser for the subcommands, whose errors start "calc_scaling_laws.py: error:" as every
    other error of this script does (argparse names a subcommand's parser "calc_scaling_laws.py optimal")."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {' '.join(str(message).split())}\n")


def _count(what, positive=True):
    return lambda text: _wrap(parse_real, text, what, positive=positive)


def _real(what, high=100.0):
    """A float flag in (0, high]; 100 nats/token bounds any loss."""
    return lambda text: _wrap(parse_float, text, what, 0.0, high)


def _int(what, upper=10 ** 7, positive=True):
    return lambda text: _wrap(parse_whole, text, what, upper=upper, positive=positive)


def _wrap(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(p, plot: str = "") -> None:
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    if plot:
        p.add_argument("--plot", metavar="FILE", help=f"write {plot} (PNG or SVG by extension)")


def _add_law(p, default: str) -> None:
    # Built per subcommand: argparse parents share Action objects, so set_defaults on one would leak to all.
    p.add_argument("--law", default=default, choices=ALL_LAWS + ("all",), help=f"default: {default}")
    # ranges: E is a loss; A, B reach the thousands in the published fits (Epoch's B = 2085.43); the exponents
    # of every published fit are well below 2, 10 leaves room for experiments
    for name, high in (("E", 100.0), ("A", 1e12), ("B", 1e12), ("alpha", 10.0), ("beta", 10.0)):
        p.add_argument(f"--{name}", type=_real(f"--{name}", high),
                       help=f"override the law's {name} (0 < {name} <= {high:g})")


def _add_config(p, role: str) -> None:
    p.add_argument("--config", metavar="PATH", help=f"a Hugging Face config.json (or a folder holding one): {role}")
    p.add_argument("--moe-params", choices=MOE_PARAMS, default="active",
                   help="which count of an MoE model the dense laws get (default: active, as the models table's "
                        "DeepSeek-V3 row)")
    p.add_argument("--generic", action="store_true",
                   help="read an unknown model_type as a dense Llama-style decoder; the output says so")


def _add_sizes(p) -> None:
    p.add_argument("-N", "--params", type=_count("--params"), help="parameters, e.g. 70B")
    p.add_argument("-D", "--tokens", type=_count("--tokens"), help="training tokens, e.g. 1.4T")
    p.add_argument("-C", "--compute", type=_count("--compute"), help="training FLOPs, e.g. 5.76e23")


COMMANDS = ("optimal", "loss", "table3", "models", "kaplan", "deepseek", "data-constrained", "inference", "nanogpt",
            "fit")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="Examples:\n" + __doc__.split("Examples:\n")[1])
    parser.add_argument("--list-presets", action="store_true", help="list the built-in real models")
    sub = parser.add_subparsers(dest="command", parser_class=SubcommandParser)

    p = sub.add_parser("optimal", help="compute-optimal N, D, L")
    p.add_argument("--target-loss", type=_real("--target-loss"), help="compute needed to reach this loss")
    p.add_argument("--tokens-per-param", type=_real("--tokens-per-param", 1e6), default=20.0,
                   help="for --law tpp-20")
    _add_common(p, "the loss landscape with iso-FLOP lines, the frontier and real models")
    _add_law(p, "all")
    _add_sizes(p)
    _add_config(p, "N = its exact parameter count, as --params")
    p.set_defaults(handler=cmd_optimal)

    p = sub.add_parser("loss", help="L(N, D) under every law")
    p.add_argument("--preset", choices=sorted(REAL_MODELS))
    _add_common(p)
    _add_law(p, "all")
    _add_sizes(p)
    _add_config(p, "N = its exact parameter count (the kaplan row: non-embedding)")
    p.set_defaults(handler=cmd_loss)

    p = sub.add_parser("table3", help="Chinchilla Table 3 and its fitted Approach 1 law")
    _add_common(p)
    p.set_defaults(handler=cmd_table3)

    p = sub.add_parser("models", help="real models vs the compute-optimal frontier")
    p.add_argument("--preset", choices=sorted(REAL_MODELS))
    _add_common(p, "the frontier with the real models marked")
    _add_law(p, "epoch")
    p.set_defaults(handler=cmd_models)

    p = sub.add_parser("kaplan", help="Kaplan et al. 2020 laws")
    p.add_argument("--loss", type=_real("--loss"), help="loss for the critical batch size B_crit(L)")
    p.add_argument("--compute-is-min", action="store_true", help="read --compute as C_min (default C = 2 C_min)")
    p.add_argument("-l", "--num-layers", type=_int("--num-layers"), help="with -hs: N = 12 l d^2")
    p.add_argument("-hs", "--hidden-size", type=_int("--hidden-size", 10 ** 6))
    _add_common(p)
    _add_sizes(p)
    _add_config(p, "N = its exact non-embedding count")
    p.set_defaults(handler=cmd_kaplan)

    p = sub.add_parser("deepseek", help="DeepSeek LLM allocation, batch and LR")
    p.add_argument("-l", "--num-layers", type=_int("--num-layers"))
    p.add_argument("-hs", "--hidden-size", type=_int("--hidden-size", 10 ** 6))
    p.add_argument("-s", "--sequence-length", type=_int("--sequence-length", 10 ** 9))
    _add_common(p)
    _add_sizes(p)
    _add_config(p, "l and d for M (with -s)")
    p.set_defaults(handler=cmd_deepseek)

    p = sub.add_parser("data-constrained", help="Muennighoff et al. 2023 repetition")
    p.add_argument("-U", "--unique-tokens", type=_count("--unique-tokens"), help="unique tokens available")
    _add_common(p)
    _add_sizes(p)
    _add_config(p, "N = its exact parameter count, as --params")
    p.set_defaults(handler=cmd_data_constrained)

    p = sub.add_parser("inference", help="Sardana et al. 2023 inference-aware optimum")
    p.add_argument("--inference-tokens", type=_count("--inference-tokens", positive=False),
                   required=True, help="tokens served over the model's life (0 allowed)")
    p.add_argument("--target-loss", type=_real("--target-loss"))
    p.add_argument("-N", "--params", type=_count("--params"), help="loss of the Chinchilla-optimal model this size")
    p.add_argument("--fixed-params", type=_count("--fixed-params"), help="also cost a model of this size")
    p.add_argument("--train-mfu", type=_real("--train-mfu", 1.0), default=1.0,
                   help="training utilisation: minimise FLOPs/MFU (hardware time) instead of FLOPs")
    p.add_argument("--inference-mfu", type=_real("--inference-mfu", 1.0), default=1.0)
    _add_common(p)
    _add_law(p, "epoch")
    _add_config(p, "costed as --fixed-params (and, without --target-loss/--params, its size sets the target)")
    p.set_defaults(handler=cmd_inference)

    p = sub.add_parser("nanogpt", help="the nanoGPT scaling-laws notebook's TODOs, answered with numbers")
    _add_common(p)
    p.set_defaults(handler=cmd_nanogpt)

    p = sub.add_parser("fit", help="fit your runs: Approach 3 and Approach 2")
    p.add_argument("csv", help="CSV with columns N, D or C, loss")
    # 10,000 resamples take about a minute here (Epoch used 4000); more would look like a hang
    p.add_argument("--bootstrap", type=_int("--bootstrap", 10000, positive=False), default=200,
                   help="resamples, 0 to 10000 (0: none)")
    p.add_argument("--seed", type=_int("--seed", 2 ** 32, positive=False), default=0)
    p.add_argument("--budget-tolerance", type=_real("--budget-tolerance"), default=0.05,
                   help="decades of log10 C within one isoFLOP budget (Approach 2)")
    p.add_argument("-C", "--compute", type=_count("--compute"), help="report the fitted allocation at this budget")
    p.add_argument("--approach", choices=("3", "2", "both"), default="both", help="which fit(s) to run")
    _add_common(p, "the fit residuals and the runs")
    p.set_defaults(handler=cmd_fit)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.list_presets:
            for model in REAL_MODELS.values():
                print(f"{model.name:16} N={human(model.params):7} D={human(model.tokens):7} {model.source}")
            return 0
        if not args.command:
            parser.error("choose a command: " + ", ".join(COMMANDS))
        # splitext: ".png" alone is a hidden file without extension (matplotlib would write ".png.png")
        if getattr(args, "plot", None) and os.path.splitext(args.plot)[1].lower() not in (".png", ".svg"):
            raise ValueError(f"--plot {args.plot!r}: the file name must end in .png or .svg")
        config = getattr(args, "config", None)
        if getattr(args, "generic", False) and config is None:
            raise InputError("--generic applies to --config only (it says how to read the config's model_type)")
        args.model = config_model(config, args.moe_params, args.generic) if config is not None else None
        # numpy only where a fit or a plot needs it: the closed forms start and run on the standard library alone
        uses_numpy = args.command == "fit" or getattr(args, "plot", None)
        with warnings.catch_warnings(), (_numpy().errstate(all="ignore") if uses_numpy else contextlib.nullcontext()):
            # overflow in far-off fit starts and the like is expected; every output is checked finite below
            warnings.simplefilter("ignore")
            data, report = args.handler(args)
        if args.model:  # the counts, the N used and the config's own notes (MoE convention, text_config...)
            data["model"] = args.model
            report["notes"] = report["notes"] + args.model["notes"]
            if args.model["generic"]:  # a guess at the architecture: the first line of the output says so
                report["config"].insert(0, ("warning", args.model["notes"][0]))
        data = _json_ready(data)
        _check_finite(data)
    except ValueError as exc:  # the block's InputError (a flag, a config.json field, a file) is a ValueError too
        print(f"{PROG}: error: {str(exc).splitlines()[0] if str(exc) else 'bad input'}", file=sys.stderr)
        return 2
    except (OverflowError, ZeroDivisionError, FloatingPointError) as exc:  # e.g. --B 1e-300 overflows G
        words = sys.argv[1:] if argv is None else argv
        given = [str(w).split("=")[0] for w in words if str(w).startswith("-") and str(w).split("=")[0] not in
                 ("--law", "--format", "--json", "--plot", "--preset", "--compute-is-min")]  # the numeric flags
        given = [f"the runs in {args.csv}"] if args.command == "fit" else given
        where = f" ({exc})" if isinstance(exc, FloatingPointError) and str(exc) else ""
        print(f"{PROG}: error: {args.command}: the values of {' '.join(given) or 'the inputs'} take the formulas "
              f"beyond floating-point range{where}", file=sys.stderr)
        return 2
    text = (json.dumps(data, indent=2) if args.format == "json" else
            render_markdown(report) if args.format == "markdown" else render_text(report))
    try:
        print(text)
    except BrokenPipeError:  # e.g. piped into `head`: not an error of the calculation
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    run_cli(main)

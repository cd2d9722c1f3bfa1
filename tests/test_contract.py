"""The script contract (README, "The script contract"), checked on every calc_*.py in the repo.

These are structural checks that hold for all five scripts alike: each stands alone, imports heavy packages only
where its job needs them, carries a PEP 723 block and a docstring with runnable examples, answers --help, and turns
an unknown flag into exit status 2 with one line on stderr.
"""
from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT, run_cli

SCRIPTS = sorted(p.name for p in ROOT.glob("calc_*.py"))
REPO_MODULES = {p.stem for p in ROOT.glob("*.py")}
# Which third-party packages each script may import at module level (README, contract rule 1).
ALLOWED_AT_START: dict = {}  # no script imports numpy, scipy or matplotlib at start-up (each imports on first use)
HEAVY = {"numpy", "scipy", "matplotlib", "torch", "pandas", "transformers"}

pytestmark = pytest.mark.skipif(not SCRIPTS, reason="no calc_*.py yet")


def module_level_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def all_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("script", SCRIPTS)
def test_stands_alone(script):
    tree = ast.parse((ROOT / script).read_text())
    stem = script[:-3]
    from_repo = (all_imports(tree) & REPO_MODULES) - {stem}
    assert not from_repo, f"{script} imports {from_repo} from this repo"


@pytest.mark.parametrize("script", SCRIPTS)
def test_heavy_imports_only_where_needed(script):
    tree = ast.parse((ROOT / script).read_text())
    at_start = module_level_imports(tree) & HEAVY
    assert at_start <= ALLOWED_AT_START.get(script, set()), f"{script} imports {at_start} at start-up"


@pytest.mark.parametrize("script", SCRIPTS)
def test_pep723_block_and_docstring_examples(script):
    text = (ROOT / script).read_text()
    assert re.search(r"^# /// script$.*?^# ///$", text, re.M | re.S), f"{script} has no PEP 723 block"
    doc = ast.get_docstring(ast.parse(text)) or ""
    examples = re.findall(rf"python3? {re.escape(script)}\b", doc)
    assert len(examples) >= 3, f"{script}'s docstring shows {len(examples)} runnable examples, want >= 3"


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_exits_zero(script):
    result = run_cli(script[:-3], "--help")
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


@pytest.mark.parametrize("script", SCRIPTS)
def test_unknown_flag_is_one_line_exit_2(script):
    result = run_cli(script[:-3], "--no-such-flag-xyz")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "--no-such-flag-xyz" in lines[0]


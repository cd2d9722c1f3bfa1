"""The shared model block (tools/model_block.py) is carried byte for byte by every calc_*.py script.

README, "Editing the model block": the block is edited in its one source and copied into each script by cog
(PyPI ``cogapp``); ``cog -r calc_*.py`` rewrites the copies and ``cog --check calc_*.py`` fails when one drifts.
These tests fail on drift with or without cog installed: the text between each script's cog markers must equal
the source file exactly.
"""
from __future__ import annotations

import pytest

from conftest import ROOT

SCRIPTS = sorted(p.name for p in ROOT.glob("calc_*.py"))
SOURCE = ROOT / "tools" / "model_block.py"
START = "# [[[cog "
END = "# [[[end]]]"


def carried_block(script: str) -> str:
    text = (ROOT / script).read_text()
    assert text.count(START) == 1 and text.count(END) == 1, f"{script}: expected one cog block"
    start = text.index("\n", text.index(START)) + 1
    return text[start:text.index(END)]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_carries_the_model_block_verbatim(script):
    assert carried_block(script) == SOURCE.read_text(), (
        f"{script}: its copy of the model block differs from tools/model_block.py; edit the source and run "
        "`cog -r calc_*.py` (never edit a copy)")


def test_cog_check_passes():
    cogapp = pytest.importorskip("cogapp")
    files = [str(ROOT / s) for s in SCRIPTS] + [str(ROOT / "README.md")]  # the README's model-type table too
    status = cogapp.Cog().main(["cog", "--check", *files])
    assert status == 0, "cog --check: a copy of the model block is stale; run `cog -r calc_*.py README.md`"

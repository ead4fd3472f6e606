"""The README's figures are what the tool prints on the bundled data today.

``docs/readme_figures.py --check`` regenerates every generated block of README.md from a
fresh plan, leverage report and scenario comparison and fails on any difference. It
takes a few minutes, so it runs once per CI run (marker ``once``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.once
def test_readme_figures_match_a_fresh_run():
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "readme_figures.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    assert result.returncode == 0, (
        "README.md has drifted; run python docs/readme_figures.py\n" + result.stdout + result.stderr
    )


def test_every_generated_block_is_known_to_the_script():
    """A block in README.md the script does not write would never be checked."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import readme_figures
    finally:
        sys.path.pop(0)
    names = {match.group("name") for match in readme_figures.BLOCK.finditer(readme_figures.README.read_text())}
    assert names == {
        "plan",
        "leverage",
        "renewal",
        "trust",
        "findings",
        "porting",
        "room",
        "hedge",
        "moving",
        "scenarios",
        "scenario-tables",
    }

"""Make the visual suite's reference screenshots anew: `python tools/visual_refs.py` (from anywhere,
with the dev requirements installed; extra arguments go to pytest, e.g. `-k library`).

tests/test_visual.py compares each page's start view with tests/visual_refs/<kind>-<screen>-<tiles>.png
(a screenshot scaled down by 4), so that a change nobody meant shows. After a change that is meant to
be seen, run this: it runs the same suite with NEWSMAP_VISUAL_REFS=write, which saves the references
instead of comparing, every check but the comparison still made. Look at the new references and at
test-artifacts/visual/ (the full-size screenshots, places opened) before committing them: a reference
is what "this page looks right" means.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFS = ROOT / "tests" / "visual_refs"


def main(arguments: list[str]) -> int:
    """Run the suite in writing mode; with no pytest selection, the old references go first (a page
    kind or screen that is gone leaves no stale file behind)."""
    if not any(a.startswith("-k") for a in arguments):
        for old in REFS.glob("*.png"):
            old.unlink()
    env = {**os.environ, "NEWSMAP_VISUAL_REFS": "write"}
    command = [sys.executable, "-m", "pytest", "-q", "tests/test_visual.py", *arguments]
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""tests/negative/compare_prepare.py (dev only) skips cleanly where it cannot run Harbor's prepare."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "negative" / "compare_prepare.py"


def test_skips_without_a_harbor_snapshot(tmp_path):
    run = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False,
                         env=dict(os.environ, HARBOR_GIT=str(tmp_path / "no-harbor")))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("skipped: no Harbor snapshot at "), run.stdout

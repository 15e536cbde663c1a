"""What a process loads to serve pages: the web app starts without the ML stack (scikit-learn brings scipy.stats
and pandas: 1.1 s of every worker's start and 115 MB of its memory, Dec 2026). Training and rescoring load it
in the Celery worker, where it is used."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sklearn", "scipy.stats", "pandas")


def test_the_web_app_loads_without_scikit_learn():
    probe = f"import config.wsgi, json, sys; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []

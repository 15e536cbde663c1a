"""An import command starts without the ML stack: it skips the system checks (which load every view) and what it
runs imports scikit-learn nowhere at the top (the kinds' quality code, the tasks it enqueues). With them, a 3-row
`manage.py import_products` took 3.7 s instead of 1.1 s (Dec 2026)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sklearn", "scipy.stats", "pandas")
COMMANDS = ("import_products", "import_pairs", "import_taxonomy", "import_queries", "import_judgments", "import_spans")

PROBE = f"""
import json, sys
import django
django.setup()
from django.core.management import load_command_class
checks = {{name: load_command_class("workspace", name).requires_system_checks for name in {COMMANDS!r}}}
import models_app.tasks, workspace.services.imports
print(json.dumps({{"checks": checks, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


@pytest.fixture(scope="module")
def probed() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_commands_skip_the_system_checks(probed):
    assert probed["checks"] == {name: [] for name in COMMANDS}


def test_an_import_and_the_tasks_it_enqueues_load_without_scikit_learn(probed):
    assert probed["heavy"] == []

"""On SQLite a rescoring commits its scores in short slices, so that a submit waits for one slice, not for the whole
rescoring (issue 16). Run in a process of its own on a SQLite file, whatever database the suite is on: the order of
the commits is observed, no time is measured."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a process on a migrated SQLite file of the test's own."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shelfmark.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=600)
    return env


def test_a_submit_commits_between_the_slices_of_a_rescoring(sqlite_env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.labeling.sqlite_rescore_scenario"], cwd=ROOT, env=sqlite_env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    events = result["events"]
    from labeling.scores import SQLITE_SLICE

    assert events.count("commit") == result["tasks"] // SQLITE_SLICE  # one transaction per slice
    submitted = events.index("submitted")
    # The submit began after the rescoring's first commit and ended before its last one.
    assert 0 < submitted < len(events) - 1, events
    assert result["scored"] == result["tasks"]

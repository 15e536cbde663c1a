"""The apps' layering (pyproject.toml, [tool.importlinter]): datasets -> labeling -> models_app -> workspace,
and models_app.ml without Django. A broken contract names the offending import and its line."""

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_apps_import_downward_only_and_ml_runs_without_django(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0

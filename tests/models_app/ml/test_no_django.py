import pkgutil
import subprocess
import sys
from pathlib import Path

import models_app.ml

ROOT = Path(__file__).resolve().parents[3]
MODULES = sorted(f"models_app.ml.{m.name}" for m in pkgutil.iter_modules(models_app.ml.__path__))


def run(code: str) -> list[str]:
    # A fresh interpreter: this test process has Django loaded by pytest-django already.
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()


def imported_after(statement: str) -> set[str]:
    return set(run(f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"))


def test_no_module_of_the_package_imports_django():
    modules = imported_after("\n".join(f"import {m}" for m in MODULES))
    assert len(MODULES) >= 9 and set(MODULES) <= modules
    assert not {m for m in modules if m == "django" or m.startswith("django.")}


def test_the_package_exports_functions_not_their_same_named_modules():
    code = "import models_app.ml.train, models_app.ml.forecast\nfrom models_app.ml import forecast, train\n"
    assert run(code + "print(type(train).__name__, type(forecast).__name__)") == ["function", "function"]


def test_importing_the_package_does_not_load_spacy():
    assert "spacy" not in imported_after("import models_app.ml")

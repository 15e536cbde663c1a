"""The test suite: same database engine as configured (PostgreSQL in CI), fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
CATALOG_FEATURES_ROOT = VAR_DIR / "test-catalog-features"
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=50)
# The in-process test worker does not sweep, so a test sees what the code does without its safety net; the
# fault tests start real worker processes with a fast sweeper (tests/jobs/test_faults.py).
JOB_SWEEP_SECONDS = env.float("JOB_SWEEP_SECONDS", default=0)
LOGGING = {"version": 1, "disable_existing_loggers": False}
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]

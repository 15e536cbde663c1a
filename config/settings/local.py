"""Developer machine: `make run`. Debug on, a fixed key that is useless anywhere else."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-not-secret")
os.environ.setdefault("DEBUG", "true")

from config.settings.base import *  # noqa: F403

# runserver serves static files itself in debug; whitenoise is for production.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]

"""Production: nothing insecure by default. SECRET_KEY, DATABASE_URL and CELERY_BROKER_URL must be set."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env

# The fallbacks of base.py are for `make run` on a bare machine. In production a SQLite file in the
# image would lose its data with the container, and a filesystem broker in one container is never read
# by a worker in another, so every job would wait forever: refuse to start instead of guessing.
for _name, _example in (
    ("DATABASE_URL", "postgres://shelfmark:PASSWORD@postgres:5432/shelfmark"),
    ("CELERY_BROKER_URL", "redis://redis:6379/0"),
):
    if not env(_name, default=""):
        raise ImproperlyConfigured(
            f"{_name} is not set. Production settings never fall back to the SQLite file or the filesystem "
            f"broker of `make run`: set {_name} (e.g. {_example}) in the environment or in .env."
        )

DEBUG = env.bool("DEBUG", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

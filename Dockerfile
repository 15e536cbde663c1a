# syntax=docker/dockerfile:1
# Shelfmark image: one image for the web app (gunicorn), the Celery worker and the migrate job.
#   docker build -t shelfmark .
# Runtime configuration comes from the environment (see .env.example); nothing secret is baked in.

FROM python:3.11-slim

# manage.py and config/celery.py default to the *local* settings (DEBUG on, fixed key);
# inside the image every process (gunicorn, celery, manage.py) uses the production settings.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media

# Unprivileged user that runs every process; it owns only var/ (media), not the code.
RUN groupadd --system --gid 10001 shelfmark \
    && useradd --system --uid 10001 --gid shelfmark --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin shelfmark

WORKDIR /app

# Dependencies first so code changes do not invalidate this layer.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# collectstatic imports the settings, which require SECRET_KEY. This throwaway value exists only
# in this RUN step's environment; it is not an ENV of the image, and the real key is supplied at
# run time. The production settings refuse to start without DATABASE_URL and CELERY_BROKER_URL;
# collectstatic uses neither, so placeholders satisfy them here (the real ones come at run time).
# The media and catalog-features volumes are mounted under /app/var; a fresh named volume inherits the
# ownership set here.
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-build-step-only-not-a-secret
RUN SECRET_KEY="${COLLECTSTATIC_SECRET_KEY}" CELERY_BROKER_URL="memory://" \
        DATABASE_URL="sqlite:////tmp/collectstatic-never-opened.sqlite3" \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media /app/var/catalog-features \
    && chown -R shelfmark:shelfmark /app/var

USER shelfmark

EXPOSE 8000

# Workers and threads come from gunicorn.conf.py (in /app, gunicorn's working directory).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

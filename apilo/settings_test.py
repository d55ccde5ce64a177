"""Settings for the test suite: PostgreSQL and Redis, as in production.

DATABASE_URL and REDIS_URL may be overridden (e.g. to run two suites side by side).
"""

import os
import tempfile

# The suite never reads a developer's .env (make run writes one with DEBUG on).
os.environ.setdefault("APILO_ENV_FILE", os.devnull)
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/apilo")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("CACHE_KEY_PREFIX", "apilo-test")
os.environ.setdefault("LANGUAGE_COOKIE_SECURE", "false")
# Settings require a mail server when DEBUG is off; the suite's mail goes to EMAIL_BACKEND below.
os.environ.setdefault("EMAIL_URL", "dummymail://")
# A fixed test key (never used outside tests); production keys come from the environment.
# label files of the suite (and of the Celery workers it starts) go to a temporary folder
os.environ.setdefault("LABEL_STORAGE_DIR", os.path.join(tempfile.gettempdir(), "apilo-test-labels"))
os.environ.setdefault("APILO_FERNET_KEYS", "test1:K5r3d0Jb6hXw5fZ2QnV8pY1sT4uA7cE9gH0jL2mN3oQ=")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
WHITENOISE_AUTOREFRESH = True
# Tests read pages in English (the source language); tests/test_i18n.py checks that a visitor
# without a language preference gets Polish, the product's default.
LANGUAGE_CODE = "en"

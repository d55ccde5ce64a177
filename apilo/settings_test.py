"""Settings for the test suite: PostgreSQL and Redis, as in production.

DATABASE_URL and REDIS_URL may be overridden (e.g. to run two suites side by side).
"""

import atexit
import os
import shutil
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
if "LABEL_STORAGE_DIR" not in os.environ:
    # Label files of one test run, in a folder of its own that the Celery workers it starts
    # inherit: ids repeat from run to run, and a file left by an earlier run (or by another
    # run on the machine) would make storage rename the new one.
    # (Created by the first label saved, so tools that only read the settings leave nothing.)
    _label_dir = os.path.join(tempfile.gettempdir(), f"apilo-test-labels-{os.getpid()}")
    os.environ["LABEL_STORAGE_DIR"] = _label_dir
    atexit.register(shutil.rmtree, _label_dir, ignore_errors=True)
# A fixed test key (never used outside tests); production keys come from the environment.
os.environ.setdefault("APILO_FERNET_KEYS", "test1:K5r3d0Jb6hXw5fZ2QnV8pY1sT4uA7cE9gH0jL2mN3oQ=")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
WHITENOISE_AUTOREFRESH = True
# Tests read pages in English (the source language); tests/test_i18n.py checks that a visitor
# without a language preference gets Polish, the product's default.
LANGUAGE_CODE = "en"
# Test receivers listen on 127.0.0.1; one test turns this off to prove the refusal.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True

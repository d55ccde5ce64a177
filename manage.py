#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only read the code (no signing, no serving, no database writes) run on a fresh
# clone too, where no SECRET_KEY is set yet (`make run` writes a development .env). Every
# other command needs the real key: settings refuse to start without it when DEBUG is off.
CODE_ONLY_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "check"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apilo.settings")
    if len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        os.environ.setdefault("EMAIL_URL", "dummymail://")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

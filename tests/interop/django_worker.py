"""A django-mysql worker driven by tests/tests/django_interop.rs.

Usage: django_worker.py URL ALIAS=DATABASE...

URL is the test server's mysql://user[:password]@host:port/db URL (its
database is ignored); each ALIAS=DATABASE becomes an entry of Django's
DATABASES, so that django_mysql.locks.Lock(name, using=ALIAS) sends
"DATABASE.name", as a Django project configured that way would.

Line protocol, one request per line on stdin, fields separated by tabs, one
answer line per request on stdout:

    acquire ALIAS NAME TIMEOUT -> held CONNECTION_ID SENT | timeout SENT
    release ALIAS NAME         -> released
    holder ALIAS NAME          -> holder CONNECTION_ID|none SENT
    quit                       -> (exits)

The first line written is "ready DJANGO_MYSQL DRIVER DJANGO" (versions;
DRIVER is "PyMySQL 1.2.4" or "mysqlclient 2.3.2").
Anything unexpected is answered "error MESSAGE"; the worker keeps going.
"""

from __future__ import annotations

import sys
import traceback
from importlib.metadata import version
from urllib.parse import unquote, urlsplit

import os

# Django's MySQL backend imports MySQLdb (mysqlclient); PyMySQL stands in,
# unless MYSQL_LOCK_INTEROP_DRIVER=mysqlclient asks for the real one (which
# needs a C build against libmariadb-dev: not in the CI's environment).
DRIVER = os.environ.get("MYSQL_LOCK_INTEROP_DRIVER", "PyMySQL")
if DRIVER == "PyMySQL":
    import pymysql

    pymysql.install_as_MySQLdb()

import django  # noqa: E402
from django.conf import settings  # noqa: E402


def configure(url: str, aliases: list[str]) -> None:
    parts = urlsplit(url)
    common = {
        "ENGINE": "django.db.backends.mysql",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 3306),
        "USER": unquote(parts.username or "root"),
        "PASSWORD": unquote(parts.password or ""),
    }
    databases = {}
    for entry in aliases:
        alias, _, name = entry.partition("=")
        databases[alias] = dict(common, NAME=name)
    # Django insists on a "default" entry.
    databases.setdefault("default", next(iter(databases.values())))
    settings.configure(
        DATABASES=databases,
        INSTALLED_APPS=["django_mysql"],
        USE_TZ=True,
    )
    django.setup()


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    configure(sys.argv[1], sys.argv[2:])

    from django.db import connections
    from django_mysql.exceptions import TimeoutError as LockTimeout
    from django_mysql.locks import Lock

    held: dict[tuple[str, str], Lock] = {}

    def answer(*fields: object) -> None:
        sys.stdout.write("\t".join(str(f) for f in fields) + "\n")
        sys.stdout.flush()

    answer(
        "ready",
        version("django-mysql"),
        f"{DRIVER} {version(DRIVER)}",
        version("Django"),
    )
    for line in sys.stdin:
        fields = line.rstrip("\n").split("\t")
        try:
            op = fields[0]
            if op == "quit":
                break
            if op == "acquire":
                alias, name, timeout = fields[1], fields[2], float(fields[3])
                lock = Lock(name, acquire_timeout=timeout, using=alias)
                try:
                    lock.acquire()
                except LockTimeout:
                    answer("timeout", lock.name)
                    continue
                held[(alias, name)] = lock
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT CONNECTION_ID()")
                    (connection_id,) = cursor.fetchone()
                answer("held", connection_id, lock.name)
            elif op == "release":
                held.pop((fields[1], fields[2])).release()
                answer("released")
            elif op == "holder":
                lock = Lock(fields[2], using=fields[1])
                holder = lock.holding_connection_id()
                answer("holder", "none" if holder is None else holder, lock.name)
            else:
                answer("error", f"unknown request {op!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the test
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            answer("error", detail.replace("\t", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())

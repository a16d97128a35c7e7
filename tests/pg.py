"""A throw-away Postgres database per test, or a visible skip when no server answers."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("ZSC_TEST_POSTGRES_URL", DEFAULT_URL)


def _connect(url: str):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, dbname=parts.path.lstrip("/") or "postgres", connect_timeout=3,
    )


def unavailable_reason() -> str | None:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install 'zsc[postgres]')"
    try:
        _connect(admin_url()).close()
    except Exception as exc:  # any failure to reach the server means: skip, and say why
        return f"no Postgres server at {admin_url()} ({str(exc).strip().splitlines()[0]}); set ZSC_TEST_POSTGRES_URL"
    return None


@contextmanager
def fresh_database():
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    name = f"zsc_test_{uuid.uuid4().hex[:12]}"
    admin = _connect(admin_url())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url())
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

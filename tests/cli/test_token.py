"""`gongdan token create|list|revoke` as a user runs them, against a real database."""

from __future__ import annotations

import os
import subprocess

from sqlalchemy import text

from gongdan.engine.accounts.tokens import authenticate, hash_token
from gongdan.engine.service import utc_now
from gongdan.engine.store.database import Database
from tests.factories import make_user
from tests.helpers import run_gongdan


def gongdan(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_gongdan(*args, env={**os.environ, "GONGDAN_DATABASE_URL": url})


def test_create_prints_a_working_token_on_its_last_line_and_revoke_stops_it(
    db: Database,
) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    make_user(db, "crm@example.com", "agent")
    created = gongdan(url, "token", "create", "CRM@example.com", "--name", "CRM sync")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    token = lines[-1]
    assert token.startswith("gd_") and len(token) >= 40
    assert "shown only once" in lines[0] and "CRM sync" in lines[0]
    with db.transaction() as session:
        who = authenticate(session, token, utc_now())
        assert who is not None and who.email == "crm@example.com" and who.role == "agent"
        # Only the hash is stored: the token itself is nowhere in the table.
        stored = session.execute(text("SELECT token_hash, prefix FROM api_tokens")).one()
        assert stored == (hash_token(token), token[:10])

    listing = gongdan(url, "token", "list", "crm@example.com")
    assert listing.returncode == 0
    assert token not in listing.stdout
    assert listing.stdout.startswith("1\tgd_") and "active" in listing.stdout

    revoked = gongdan(url, "token", "revoke", "1")
    assert revoked.returncode == 0 and "revoked token 1" in revoked.stdout
    with db.transaction() as session:
        assert authenticate(session, token, utc_now()) is None
    assert "revoked" in gongdan(url, "token", "list", "crm@example.com").stdout
    with db.reading() as session:  # the operator's CLI: no user acted
        trail = session.execute(
            text("SELECT kind, actor_id FROM events WHERE kind LIKE 'token.%' ORDER BY id")
        ).all()
    assert [tuple(row) for row in trail] == [("token.created", None), ("token.revoked", None)]


def test_unknown_user_or_token_is_an_error_not_a_traceback(db: Database) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    nobody = gongdan(url, "token", "create", "nobody@example.com")
    assert nobody.returncode == 1
    assert nobody.stderr.strip() == "gongdan token create: no user 'nobody@example.com'"
    missing = gongdan(url, "token", "revoke", "42")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "gongdan token revoke: no token 42"
    usage = gongdan(url, "token", "revoke", "abc")
    assert usage.returncode == 2 and "invalid int value" in usage.stderr

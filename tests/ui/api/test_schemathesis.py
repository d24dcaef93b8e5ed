"""Property-based tests of the whole API from its own `/openapi.json` (schemathesis):
whatever a client sends, no 5xx and no response that breaks the documented schema.

The schema is read once from the router; each operation then runs against a fresh
database (SQLite and PostgreSQL) holding one ticket, INC-1, with an admin's token, so
reads and writes of an existing ticket (and a download of its attachment, id 1) are
exercised too: the path parameters' OpenAPI examples name them.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gongdan.engine.accounts.tokens import hash_token
from gongdan.engine.service import TicketService
from gongdan.engine.store.models import ApiToken
from gongdan.ui.api import api_router
from gongdan.ui.websettings import WebSettings
from tests.factories import NOW, incident, make_user


def _documented() -> FastAPI:
    app = FastAPI(title="Gongdan API")
    app.include_router(api_router)
    return app


# A body over the API's 1 MiB limit is refused with 413 before it is read (documented
# on every operation with a JSON body): a rejection of invalid data like any 4xx, when
# hypothesis happens to generate a string that long.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
            }
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _documented(), config=CONFIG)
# Left out on purpose:
# - positive_data_acceptance: a body the OpenAPI schema allows may still break a
#   business rule it cannot state (an unknown ticket type, a cursor from no list, a
#   field of the type's own JSON Schema); those are 4xx by design.
EXCLUDED = [positive_data_acceptance]
# The admin's token, the same in every test's fresh database (schemathesis draws some
# cases while collecting). Given through its auth hook, not as a plain header, so that
# its negative cases without a token really go without one.
ADMIN_TOKEN = "gd_schemathesis-admin-0123456789abcdefghijklmnopqrstuvw"  # noqa: S105


@schema.auth()
class AdminToken:
    def get(self, case: schemathesis.Case, context: Any) -> str:
        return ADMIN_TOKEN

    def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def seeded(app: FastAPI) -> FastAPI:
    db = app.state.db
    admin = make_user(db, "admin@example.com", "admin")
    service: TicketService = app.state.service
    upload = service.upload(
        admin,
        "it_incident",
        "screenshots",
        filename="error.png",
        content_type="image/png",
        content=b"\x89PNG\r\n\x1a\n",
    )
    incident(service, admin, fields={"category": "software", "screenshots": [str(upload)]})
    with db.transaction() as session:
        session.add(
            ApiToken(
                user_id=admin.user_id,
                name="schemathesis",
                token_hash=hash_token(ADMIN_TOKEN),
                prefix=ADMIN_TOKEN[:10],
                created_at=NOW,
            )
        )
    # The fuzzer sends many unknown tokens from one address, which the throttle answers
    # with 429 after a while (tests/ui/security); here each must still get its 401.
    app.state.web_settings = WebSettings(token_failure_limit=1_000_000)
    return app


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_errors_and_keeps_its_schema(case: schemathesis.Case, seeded: FastAPI) -> None:
    case.call_and_validate(app=seeded, excluded_checks=EXCLUDED)

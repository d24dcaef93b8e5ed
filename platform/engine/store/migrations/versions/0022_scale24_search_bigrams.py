"""The desk's search for one or two Chinese characters at a million tickets (PostgreSQL).

A Chinese word is often two characters (网络, 密码, 卡纸), too short for a trigram: the
trigram indexes of migration 0019 cannot find `ILIKE '%卡纸%'`. These indexes turn each
run of CJK characters into its overlapping pairs, each a word of its own, and the last
character alone ("打印机卡纸" → " 打印 印机 机卡 卡纸 纸 "), and index that text with
`pg_trgm`: a pair is then a whole word whose three padded trigrams (`'  卡'`, `' 卡纸'`,
`'卡纸 '`) the index holds, so `… LIKE '% 卡纸 %'` (two characters) and `… LIKE '% 卡%'`
(one) are index lookups, whatever the table's size (`engine.reads.queries`; the
search then checks the columns themselves, so the answers are exactly `ILIKE`'s).

- `gongdan_cjk_pairs(text)`: the pairs of a text (immutable SQL: `regexp_matches`, in
  pg_catalog);
- `gongdan_ticket_pairs(title, description, data)`: those of a ticket's title,
  description and custom fields' JSON text (candidates: the search checks the fields
  it may show);
- `ix_tickets_cjk_pairs`, `ix_comments_cjk_pairs`: GIN `gin_trgm_ops` on them.

Only where `pg_trgm` is installed (migration 0019 creates it when it may); elsewhere the
search looks at the newest tickets for such text, as before. SQLite keeps no index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# The CJK ideographs (unified, extension A, compatibility): what a pair is made of.
CJK_CLASS = "[㐀-䶿一-鿿豈-﫿]"
# `{text}` is filled with a column expression below: our own constants only.
_PAIRS = f"""
  SELECT coalesce(' ' || string_agg(substr(r[1], i, 2), ' ') || ' ', '')
  FROM regexp_matches({{text}}, '{CJK_CLASS}+', 'g') AS r,
       generate_series(1, char_length(r[1])) AS i
"""  # noqa: S608 - our own constants
# Each function's body stands alone (no call of the other): an index expression must
# not depend on the search_path it is evaluated under.
FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION gongdan_cjk_pairs(t text) RETURNS text\n"
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$" + _PAIRS.format(text="t") + "$$",
    "CREATE OR REPLACE FUNCTION gongdan_ticket_pairs(title text, description text, data jsonb)\n"
    "RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$"
    + _PAIRS.format(
        text="title || ' ' || coalesce(description, '') || ' ' || coalesce(data::text, '')"
    )
    + "$$",
)
INDEXES = {
    "ix_tickets_cjk_pairs": (
        "tickets USING gin (gongdan_ticket_pairs(title, description, data) gin_trgm_ops)"
    ),
    "ix_comments_cjk_pairs": "comments USING gin (gongdan_cjk_pairs(body) gin_trgm_ops)",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if not bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return  # migration 0019 said why; the search keeps its window for such text
    for statement in FUNCTIONS:
        op.execute(statement)
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    op.execute("ANALYZE tickets")
    op.execute("ANALYZE comments")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS gongdan_ticket_pairs(text, text, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS gongdan_cjk_pairs(text)")

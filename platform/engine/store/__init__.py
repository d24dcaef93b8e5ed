"""Persistence: the database, the models, and every statement the engine writes by hand.

The rest of the engine reads and changes rows through the ORM (`models.py`) or
through the functions below, never with SQL of its own: a statement prepared
server-side (`database.prepared`), run on the driver itself (`DriverStatement`), or
written beside the ORM's unit of work is here, behind a function whose docstring says
what it reads or writes, on which database how, and why not through the ORM
(tests/engine/store/test_store_api.py checks that no module outside `store/` uses
those means).

- `database.py`: `Database` (sessions, transactions, one-lookup connections, migrations),
  `database_url`, `prepared`, `DriverStatement`, `database_unavailable` (an outage
  or a refused statement? `DATABASE_ERRORS` are what to catch).
- `models.py`: the tables, and `built` (a row object made as the ORM loads one).
- `writes.py`, the write's pending batch: `store_ticket`, `ask_number`, `take_number`,
  `pending`, `write_pending`, `number_columns`, `turn_column`.
- `sequences.py`: `ensure_sequence`, `sequence_name` (PostgreSQL counters, no lock).
- `users.py`: `read_user`, `read_user_by_address`, `load_user_by_email`,
  `user_from_row`, `user_from_driver`.
- `tickets.py`: `load_ticket_by_key`, `touch_ticket`, `write_sla_columns`.
- `members.py` (routing's read): `read_members`, `MemberRows`, `member_skills`.
- `counters.py` (each agent's open tickets, kept by triggers): `open_tickets_of`,
  `recount`; `ordered_reads` (capped counts read index ranges on PostgreSQL).
- `tokens.py` (the bearer-token lookup): `read_token`, `mark_token_used`.
- `reports.py`: `without_jit` (a report read on PostgreSQL), `claim_report_mailing`
  (a mailed report's due instant, claimed once).
- `mail.py`: `insert_mail_row` (a mail log row, the ticket's id found inside the INSERT).
- `token_events.py` (PostgreSQL): `TokenEventListener`, LISTEN for the token changes
  migration 0015's triggers notify.
"""

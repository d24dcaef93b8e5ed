"""Config changes against live tickets: `plan_bundle` says what making a candidate
bundle active would change (config and tickets, like `terraform plan`) and whether it
must be refused; `migrate_tickets` moves the tickets a workflow's `migrate` names when
it is made active. Reads in `impacts.py` and `plan.py`, the one write in `migrate.py`,
which version a plan compares with in `active.py`.
"""

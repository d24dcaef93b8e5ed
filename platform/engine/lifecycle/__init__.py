"""The config lifecycle (DESIGN.md, "Config lifecycle"): versions stored in the
database, one promotion path, and every process following the active version.

- `versions.py`: the rows — the active version, the activation log, a version's files.
- `promote.py`: load and check a folder, then promote it in one transaction (the seam
  `refuse_or_migrate` is where `gongdan plan`'s refusal and migrations run).
- `live.py`: `LiveConfig`, a process's current bundle, following the database and, in
  watch mode, watching the folder.
"""

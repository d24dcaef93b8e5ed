"""`python -m gongdan.cli`: the same as the `gongdan` command."""

from gongdan.cli import run

run()

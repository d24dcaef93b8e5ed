"""Tests of gongdan.forms: field types, field checks and ticket data validation."""

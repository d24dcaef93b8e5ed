"""Gongdan engine/config."""

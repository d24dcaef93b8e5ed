"""Gongdan rules."""

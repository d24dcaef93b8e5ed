"""Gongdan engine."""

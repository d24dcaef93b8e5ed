"""Gongdan forms."""

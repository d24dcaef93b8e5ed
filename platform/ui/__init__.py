"""Gongdan ui."""

"""Signing in and out, password reset, the account page."""

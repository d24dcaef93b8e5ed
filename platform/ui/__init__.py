"""The web: the desk, the portal, account pages and the REST API (README.md)."""

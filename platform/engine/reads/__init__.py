"""Scoped reads: ticket lists with their cursor, queues and views, the ticket page."""

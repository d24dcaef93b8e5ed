"""Scoped reads: ticket lists and their one sort and cursor (`paging`), queues and
views, the reads of one ticket and its page."""

"""Ticket write paths: create, edit, assign, comment, transitions, links, merge and split, files, surveys."""

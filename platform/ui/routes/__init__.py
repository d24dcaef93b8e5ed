"""HTML routes of the app, one module per resource (auth, desk tickets, queues, portal)."""

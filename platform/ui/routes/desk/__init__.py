"""The agent desk: new tickets, the ticket page, queues."""

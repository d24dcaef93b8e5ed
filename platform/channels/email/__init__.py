"""Email as a channel, like the web: notifications out by SMTP (`notifier`), mail in
through an SMTP listener (`smtp_server`) or by polling an IMAP mailbox (`imap`), both
taken in by `intake`. Templates are rendered in Jinja2's sandbox (`templates`).

The engine stays free of Jinja2 and of mail: this package calls `TicketService` and
the small lookups of `gongdan.engine.outbox.mail_log`, never SQL of its own.
"""

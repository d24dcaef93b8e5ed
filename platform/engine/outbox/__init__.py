"""Background work: the outbox relay, what delivering a row does, the in-process runner, the mail log."""

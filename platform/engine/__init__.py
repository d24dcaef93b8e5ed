"""The engine's public API: what the layers above it (`ui`, `channels`, `cli`, `tasks`)
may use. They import from `gongdan.engine`, never from its insides (an import-linter
contract in pyproject checks it), so the engine can reorganise its modules freely.

- Services: `TicketService` (tickets; its `accounts` is the `AccountService`), `MailLog`
  and `QueueService` (the desk's queues), over a `Database` and a compiled bundle.
- What they return: records (`TicketRecord`, `EventRecord`…), pages, the desk's
  queue pages, SLA explanations, accounts and tokens.
- Background work: `InProcessRunner`, the scheduled jobs, the outbox relay (`relay_once`,
  `deliver`) and the `Channels` it delivers through (`Notifier`, `WebhookCall`…),
  implemented by `gongdan.channels`.
- Limits and rules the forms show (password lengths, list sorts, the upload size).
"""

from gongdan.engine.accounts.service import AccountService
from gongdan.engine.accounts.signup import portal_types
from gongdan.engine.accounts.tokens import (
    TokenInfo,
    authenticate,
    lookup_epoch,
    recent_actor,
    remember_actor,
)
from gongdan.engine.accounts.users import (
    LANGUAGES,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    Account,
)
from gongdan.engine.automation.sla import SLAExplanation
from gongdan.engine.outbox.delivery import (
    Attempt,
    Channels,
    LogNotifier,
    Notification,
    Notifier,
    WebhookCall,
    WebhookSender,
)
from gongdan.engine.outbox.mail_log import (
    MailLog,
    Person,
    already_received,
    find_people,
    is_our_message,
    list_mail,
    people_of_ticket,
    thread_root,
    ticket_for_message_ids,
)
from gongdan.engine.outbox.relay import DEFAULT_LEASE, deliver, lease_from_env, relay_once
from gongdan.engine.outbox.runner import SCHEDULED_JOBS, InProcessRunner, ScheduledJob, find_job
from gongdan.engine.reads.paging import LIST_SORTS, MAX_PAGE, QUEUE_SORTS
from gongdan.engine.reads.queries import FILTER_OPS, FieldFilter, TicketQuery
from gongdan.engine.reads.queues import BulkOutcome, QueuePage, QueueQuery, QueueService
from gongdan.engine.records import (
    AttachmentRecord,
    CommentRecord,
    EventRecord,
    Page,
    TicketRecord,
    WriteResult,
)
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database, database_url
from gongdan.engine.tickets.attachments import DEFAULT_MAX_BYTES
from gongdan.engine.tickets.tickets import check_title
from gongdan.engine.unit_of_work import utc_now

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_BYTES",
    "FILTER_OPS",
    "LANGUAGES",
    "LIST_SORTS",
    "MAX_PAGE",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "QUEUE_SORTS",
    "SCHEDULED_JOBS",
    "Account",
    "AccountService",
    "AttachmentRecord",
    "Attempt",
    "BulkOutcome",
    "Channels",
    "CommentRecord",
    "Database",
    "EventRecord",
    "FieldFilter",
    "InProcessRunner",
    "LogNotifier",
    "MailLog",
    "Notification",
    "Notifier",
    "Page",
    "Person",
    "QueuePage",
    "QueueQuery",
    "QueueService",
    "SLAExplanation",
    "ScheduledJob",
    "TicketQuery",
    "TicketRecord",
    "TicketService",
    "TokenInfo",
    "WebhookCall",
    "WebhookSender",
    "WriteResult",
    "already_received",
    "authenticate",
    "check_title",
    "database_url",
    "deliver",
    "find_job",
    "find_people",
    "is_our_message",
    "lease_from_env",
    "list_mail",
    "lookup_epoch",
    "people_of_ticket",
    "portal_types",
    "recent_actor",
    "relay_once",
    "remember_actor",
    "thread_root",
    "ticket_for_message_ids",
    "utc_now",
]

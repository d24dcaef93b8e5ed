"""The engine's public API: what the layers above it (`ui`, `channels`, `cli`, `tasks`)
may use. They import from `gongdan.engine`, never from its insides (an import-linter
contract in pyproject checks it), so the engine can reorganise its modules freely.

- Services: `TicketService` (tickets; its `accounts` is the `AccountService`), `MailLog`
  `QueueService` (the desk's queues) and `ReportService` (the dashboard's figures), over a `Database` and a compiled bundle.
- What they return: records (`TicketRecord`, `EventRecord`…), pages, the desk's
  queue pages, SLA explanations, accounts and tokens.
- Background work: `InProcessRunner`, the scheduled jobs, the outbox relay (`relay_once`,
  `deliver`) and the `Channels` it delivers through (`Notifier`, `WebhookCall`…),
  implemented by `gongdan.channels`.
- The config lifecycle: `LiveConfig` (a process's current bundle, following the
  database's active version), `start_config`, `promote_folder` (the one promotion
  path), `version_log`, `version_files`.
- Limits and rules the forms show (password lengths, list sorts, the upload size).
- Config changes against live tickets: `plan_bundle` → `Plan`, `migrate_tickets`, and
  the bundle a plan compares with (`active_bundle_for_plan`).
"""

from gongdan.engine.accounts.people import PersonRecord
from gongdan.engine.accounts.preferences import NEWS_KINDS, Preferences, muted_people, news_kind
from gongdan.engine.accounts.saved_views import SavedViewRecord
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.accounts.signup import portal_types
from gongdan.engine.accounts.throttle import Counts, counts_for
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
from gongdan.engine.automation.leases import run_exclusively
from gongdan.engine.automation.sla import SLAExplanation
from gongdan.engine.lifecycle.editor import (
    Author,
    ConfigEditor,
    EditConflict,
    EditIssue,
    FileDiff,
    FileStatus,
    FolderStatus,
    OpenedFile,
    Proposal,
    Saved,
    SaveRefused,
    diff_versions,
)
from gongdan.engine.lifecycle.live import LiveConfig, active_bundle, reload_mode, start_config
from gongdan.engine.lifecycle.promote import Promotion, load_candidate, promote, promote_folder
from gongdan.engine.lifecycle.versions import VersionRecord, version_files, version_log
from gongdan.engine.outbox.delivery import (
    Attempt,
    Channels,
    Job,
    LogNotifier,
    Notification,
    Notifier,
    WebhookCall,
    WebhookSender,
    notification_for,
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
from gongdan.engine.outbox.mail_reads import MailReads, read_mail_batch
from gongdan.engine.outbox.relay import (
    DEFAULT_LEASE,
    deliver,
    deliver_batch,
    lease_from_env,
    relay_batch,
    relay_once,
)
from gongdan.engine.outbox.runner import SCHEDULED_JOBS, InProcessRunner, ScheduledJob, find_job
from gongdan.engine.outbox.wakeup import OutboxWakeup
from gongdan.engine.plan.active import ActiveBundle, active_bundle_for_plan, plan_against
from gongdan.engine.plan.migrate import migrate_tickets
from gongdan.engine.plan.plan import Plan, plan_bundle
from gongdan.engine.reads.paging import LIST_SORTS, MAX_PAGE, QUEUE_SORTS
from gongdan.engine.reads.queries import (
    FILTER_OPS,
    KEY_SHAPE,
    SHORT_SEARCH_WINDOW,
    FieldFilter,
    TicketQuery,
    is_short_search,
)
from gongdan.engine.reads.queues import (
    COUNT_CAP,
    BulkOutcome,
    QueuePage,
    QueueQuery,
    QueueService,
)
from gongdan.engine.reads.report_text import WORDS as REPORT_WORDS
from gongdan.engine.reads.report_text import report_csv, row_words, value_text
from gongdan.engine.reads.reports import (
    ReportColumn,
    ReportFilters,
    ReportService,
    ReportTable,
    report_zone,
)
from gongdan.engine.reads.ticket_page import LinkInfo
from gongdan.engine.records import (
    AttachmentRecord,
    CommentRecord,
    EventRecord,
    Page,
    TicketRecord,
    WriteResult,
)
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import (
    DATABASE_ERRORS,
    Database,
    database_unavailable,
    database_url,
)
from gongdan.engine.tickets.attachments import (
    DEFAULT_MAX_BYTES,
    MAX_REPLY_FILES,
    REPLY_ACCEPT,
    REPLY_MAX_MB,
)
from gongdan.engine.tickets.links import LINK_KINDS, REVERSE_KINDS
from gongdan.engine.tickets.tickets import check_title
from gongdan.engine.unit_of_work import utc_now

__all__ = [
    "COUNT_CAP",
    "DATABASE_ERRORS",
    "DEFAULT_LEASE",
    "DEFAULT_MAX_BYTES",
    "FILTER_OPS",
    "KEY_SHAPE",
    "LANGUAGES",
    "LINK_KINDS",
    "LIST_SORTS",
    "MAX_PAGE",
    "MAX_PASSWORD_LENGTH",
    "MAX_REPLY_FILES",
    "MIN_PASSWORD_LENGTH",
    "NEWS_KINDS",
    "QUEUE_SORTS",
    "REPLY_ACCEPT",
    "REPLY_MAX_MB",
    "REPORT_WORDS",
    "REVERSE_KINDS",
    "SCHEDULED_JOBS",
    "SHORT_SEARCH_WINDOW",
    "Account",
    "AccountService",
    "ActiveBundle",
    "AttachmentRecord",
    "Attempt",
    "Author",
    "BulkOutcome",
    "Channels",
    "CommentRecord",
    "ConfigEditor",
    "Counts",
    "Database",
    "EditConflict",
    "EditIssue",
    "EventRecord",
    "FieldFilter",
    "FileDiff",
    "FileStatus",
    "FolderStatus",
    "InProcessRunner",
    "Job",
    "LinkInfo",
    "LiveConfig",
    "LogNotifier",
    "MailLog",
    "MailReads",
    "Notification",
    "Notifier",
    "OpenedFile",
    "OutboxWakeup",
    "Page",
    "Person",
    "PersonRecord",
    "Plan",
    "Preferences",
    "Promotion",
    "Proposal",
    "QueuePage",
    "QueueQuery",
    "QueueService",
    "ReportColumn",
    "ReportFilters",
    "ReportService",
    "ReportTable",
    "SLAExplanation",
    "SaveRefused",
    "Saved",
    "SavedViewRecord",
    "ScheduledJob",
    "TicketQuery",
    "TicketRecord",
    "TicketService",
    "TokenInfo",
    "VersionRecord",
    "WebhookCall",
    "WebhookSender",
    "WriteResult",
    "active_bundle",
    "active_bundle_for_plan",
    "already_received",
    "authenticate",
    "check_title",
    "counts_for",
    "database_unavailable",
    "database_url",
    "deliver",
    "deliver_batch",
    "diff_versions",
    "find_job",
    "find_people",
    "is_our_message",
    "is_short_search",
    "lease_from_env",
    "list_mail",
    "load_candidate",
    "lookup_epoch",
    "migrate_tickets",
    "muted_people",
    "news_kind",
    "notification_for",
    "people_of_ticket",
    "plan_against",
    "plan_bundle",
    "portal_types",
    "promote",
    "promote_folder",
    "read_mail_batch",
    "recent_actor",
    "relay_batch",
    "relay_once",
    "reload_mode",
    "remember_actor",
    "report_csv",
    "report_zone",
    "row_words",
    "run_exclusively",
    "start_config",
    "thread_root",
    "ticket_for_message_ids",
    "utc_now",
    "value_text",
    "version_files",
    "version_log",
]

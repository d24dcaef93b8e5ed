"""The words every layer shares: state categories, roles, priorities, built-in fields.

Defined once here and imported everywhere (config schemas, the engine's queries, the
desk's filters), so two parts can never disagree on what "open" or "staff" means.
The enums are `StrEnum`s: a member equals its text, so values read from the database,
the config or a request compare equal to them without conversion.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACCOUNT_ROLES",
    "BUILTIN_FIELDS",
    "CONDITION_BUILTINS",
    "EDITABLE_BUILTINS",
    "OPEN_CATEGORIES",
    "PRIORITIES",
    "SLA_TARGETS",
    "STAFF_ONLY_BUILTINS",
    "STAFF_ROLES",
    "STATE_CATEGORIES",
    "VIEW_ROLES",
    "Priority",
    "Role",
    "StateCategory",
]


class StateCategory(StrEnum):
    """What a workflow state means for SLAs, queues and reports."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


STATE_CATEGORIES: tuple[StateCategory, ...] = tuple(StateCategory)
# A ticket in one of these is still being worked on: queues count it, routing counts it
# against its agent's capacity, a requester sees it among their open requests.
OPEN_CATEGORIES: tuple[StateCategory, ...] = (
    StateCategory.NEW,
    StateCategory.OPEN,
    StateCategory.PENDING,
)


class Role(StrEnum):
    """Who acts. `SYSTEM` is no account's role: it is the engine itself acting
    (declared actions, automations, the scheduler)."""

    ADMIN = "admin"
    AGENT = "agent"
    REQUESTER = "requester"
    SYSTEM = "system"


# The roles an account may have, and those of them that work tickets (staff).
ACCOUNT_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.AGENT, Role.REQUESTER)
STAFF_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.AGENT})
# The roles a saved queue (`kind: View`) may be shown to.
VIEW_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.AGENT)


class Priority(StrEnum):
    """The built-in priorities, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITIES: tuple[Priority, ...] = tuple(Priority)
# What an SLA policy may set a target for (each a clock on the ticket, a deadline column).
SLA_TARGETS: tuple[str, ...] = ("first_response", "next_response", "resolution")

# Fields every ticket has: a ticket type may place them in its forms but never declare
# a field of the same name.
BUILTIN_FIELDS: tuple[str, ...] = (
    "assignee", "description", "priority", "requester", "state", "tags", "team", "title",
)  # fmt: skip
# What conditions may read beside the fields: the built-ins and two facts of every
# ticket that are no field of a form (its type and its state's category).
CONDITION_BUILTINS: frozenset[str] = frozenset({*BUILTIN_FIELDS, "state_category", "type"})
# Built-ins an agent edits directly; team and assignee change by assigning, state by a
# transition, requester and type never.
EDITABLE_BUILTINS: tuple[str, ...] = ("title", "description", "priority", "tags")
# Built-ins only staff set when a ticket is created, by any channel (the portal, the API,
# mail): they steer routing, SLAs and automations. A ticket type may let its requesters
# set some of them (`requester_may_set: [priority]`). The requester is not among them:
# a requester always files for themselves.
STAFF_ONLY_BUILTINS: tuple[str, ...] = ("assignee", "priority", "tags", "team")

"""The compiled, immutable config Bundle and the engine-level types it holds.

The engine only ever sees these values: everything in them has been validated and
cross-checked, so code indexes keys directly. Field types live in `gongdan.forms`;
calendars, SLA policies, routing rules, automations and teams in `gongdan.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gongdan.bundle.compile_mail import MailboxDef, TemplateDef
from gongdan.bundle.compile_views import ViewDef
from gongdan.errors import ConfigIssue
from gongdan.forms.data import ticket_data_schema
from gongdan.forms.fields import FieldDef
from gongdan.rules.calendar import Calendar
from gongdan.rules.priority import PriorityRule
from gongdan.rules.routing import Automation, RoutingRule
from gongdan.rules.sla import SLAPolicy
from gongdan.rules.teams import Team
from gongdan.rules.workflow import WorkflowDef

__all__ = [
    "Bundle",
    "FormSection",
    "PortalSettings",
    "TicketTypeDef",
]


@dataclass(frozen=True, slots=True)
class FormSection:
    label: Any  # None for an untitled section
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TicketTypeDef:
    id: str
    name: Any
    description: Any
    key_prefix: str
    workflow: str
    sla: str | None
    portal: bool
    fields: tuple[FieldDef, ...]
    field_map: Mapping[str, FieldDef]
    forms: Mapping[str, tuple[FormSection, ...]]
    priority_default: str
    priority_rules: tuple[PriorityRule, ...]

    @property
    def data_schema(self) -> dict[str, Any]:
        """The JSON Schema of this type's custom data (built on first use, then cached
        by `gongdan.forms`; a fresh copy each time)."""
        return ticket_data_schema(self.fields)


@dataclass(frozen=True, slots=True)
class PortalSettings:
    """The requester portal (`kind: Portal`, at most one per bundle). Without that
    document nobody may sign themselves up: requesters are added by staff, or by
    writing in (email intake)."""

    self_signup: bool = False
    allowed_email_domains: frozenset[str] = frozenset()  # empty: any domain
    welcome: Any = None  # a label shown on the portal's home page


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything a config directory declares, compiled. Swapped whole on reload."""

    version: str
    ticket_types: Mapping[str, TicketTypeDef]
    workflows: Mapping[str, WorkflowDef]
    calendars: Mapping[str, Calendar]
    sla_policies: tuple[SLAPolicy, ...]
    routing_rules: tuple[RoutingRule, ...]
    automations: Mapping[str, Automation]
    teams: Mapping[str, Team]
    warnings: tuple[ConfigIssue, ...] = ()
    # User fields that name approvers (`roles: [field:approver]`): the people named in
    # them may see the ticket to decide, even as requesters.
    approval_fields: frozenset[str] = frozenset()
    # Notification templates and mail intake (`kind: Template`, `kind: Mailbox`).
    templates: Mapping[str, TemplateDef] = field(default_factory=dict)
    mailboxes: Mapping[str, MailboxDef] = field(default_factory=dict)
    # Saved queues (`kind: View`), in id order.
    views: Mapping[str, ViewDef] = field(default_factory=lambda: MappingProxyType({}))
    portal: PortalSettings = PortalSettings()

    def summary(self) -> str:
        """One line saying what the bundle holds."""
        counts = [
            (len(self.ticket_types), "ticket type", "ticket types"),
            (len(self.workflows), "workflow", "workflows"),
            (len(self.calendars), "calendar", "calendars"),
            (len(self.sla_policies), "SLA policy", "SLA policies"),
            (len(self.routing_rules), "routing rule", "routing rules"),
            (len(self.automations), "automation", "automations"),
            (len(self.teams), "team", "teams"),
            (len(self.views), "view", "views"),
        ]
        return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)

"""The compiled, immutable config Bundle and the engine-level types it holds.

The engine only ever sees these values: everything in them has been validated and
cross-checked, so code indexes keys directly. Field types live in `gongdan.forms`;
calendars, SLA policies, routing rules, automations and teams in `gongdan.rules`.

What the engine looks up in the config on every write is derived here, once, when a
bundle (or a ticket type) is made, and held by it: the keys the routing rules read,
the SLA policy of each ticket type and priority, the policies by id, the enabled
automations of each event, a type's internal fields. Derived values are never
arguments: `dataclasses.replace` and every other way of making one recomputes them,
so they always follow the values they come from. What a layer above derives from a
bundle with means of its own is kept per bundle version (`derived.PerBundle`), never
by `id()`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gongdan.bundle.compile_mail import MailboxDef, TemplateDef
from gongdan.bundle.compile_reports import ReportDef
from gongdan.bundle.compile_views import ViewDef
from gongdan.errors import ConfigIssue
from gongdan.forms.data import ticket_data_schema
from gongdan.forms.fields import FieldDef
from gongdan.rules.calendar import Calendar
from gongdan.rules.priority import PriorityRule
from gongdan.rules.routing import Automation, RoutingRule, rule_keys
from gongdan.rules.sla import PolicyChoice, SLAPolicy, policy_choice
from gongdan.rules.teams import Team
from gongdan.rules.workflow import WorkflowDef
from gongdan.vocabulary import PRIORITIES, STAFF_ONLY_BUILTINS

if TYPE_CHECKING:  # compile_macros reads TicketTypeDef from here
    from gongdan.bundle.compile_macros import MacroDef

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
    # Staff-only built-ins (`vocabulary.STAFF_ONLY_BUILTINS`) its requesters may set.
    requester_may_set: frozenset[str] = frozenset()
    # Derived: the ids of the fields marked `internal: true` (never shown to requesters).
    internal_fields: frozenset[str] = field(init=False, repr=False, compare=False)
    # Derived: the fields whose words the desk's search looks into (`text_search`).
    searchable_fields: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        internal = frozenset(f.id for f in self.fields if f.internal)
        object.__setattr__(self, "internal_fields", internal)
        searchable = frozenset(f.id for f in self.fields if f.field_type.text_search)
        object.__setattr__(self, "searchable_fields", searchable)

    @property
    def staff_only_builtins(self) -> frozenset[str]:
        """The built-ins this type's requesters may not set (the one rule the portal's
        forms and the engine's checks both follow)."""
        return frozenset(STAFF_ONLY_BUILTINS) - self.requester_may_set

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
    # The dashboard's reports (`kind: Report`), in the order declared.
    reports: Mapping[str, ReportDef] = field(default_factory=lambda: MappingProxyType({}))
    portal: PortalSettings = PortalSettings()
    # Canned responses (`kind: Macro`, `bundle.compile_macros.MacroDef`), in id order.
    macros: Mapping[str, MacroDef] = field(default_factory=lambda: MappingProxyType({}))
    # Derived when the bundle is made (`__post_init__`), never passed in.
    # Every key the routing rules read: a change to one of them re-runs routing.
    routing_keys: frozenset[str] = field(init=False, repr=False, compare=False)
    _policies: Mapping[str, SLAPolicy] = field(init=False, repr=False, compare=False)
    _policy_choices: Mapping[tuple[str, str], PolicyChoice] = field(
        init=False, repr=False, compare=False
    )
    _automations_on: Mapping[str, tuple[Automation, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        set_derived = object.__setattr__
        set_derived(self, "routing_keys", rule_keys(self.routing_rules))
        policies = {p.id: p for p in self.sla_policies}
        set_derived(self, "_policies", MappingProxyType(policies))
        set_derived(
            self,
            "_policy_choices",
            MappingProxyType(
                {
                    (type_id, str(priority)): self._decide_policy(type_id, str(priority))
                    for type_id in self.ticket_types
                    for priority in PRIORITIES
                }
            ),
        )
        events: dict[str, list[Automation]] = defaultdict(list)
        for automation in self.automations.values():
            if automation.enabled:
                events[automation.on].append(automation)
        set_derived(
            self, "_automations_on", MappingProxyType({k: tuple(v) for k, v in events.items()})
        )

    def sla_policy(self, policy_id: str) -> SLAPolicy | None:
        """The SLA policy `policy_id`, if the bundle has it."""
        return self._policies.get(policy_id)

    def policy_choice(self, type_id: str, priority: str) -> PolicyChoice | None:
        """How the SLA policy of a ticket of `type_id` and `priority` is chosen: the
        type's explicit `sla:`, else the first policy whose `applies_when` holds, as far
        as decided when the bundle was made (`rules.sla.policy_choice`). None for a type
        the bundle does not have."""
        choice = self._policy_choices.get((type_id, priority))
        if choice is None and type_id in self.ticket_types:  # (not a built-in priority)
            choice = self._decide_policy(type_id, priority)
        return choice

    def _decide_policy(self, type_id: str, priority: str) -> PolicyChoice:
        explicit = self.ticket_types[type_id].sla
        if explicit is not None:
            return PolicyChoice((), self._policies.get(explicit))
        return policy_choice(self.sla_policies, type_id, priority)

    def automations_on(self, event: str) -> tuple[Automation, ...]:
        """The enabled automations `on: event` (`schedule` for the scheduled ones), in
        the bundle's order."""
        return self._automations_on.get(event, ())

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
            (len(self.reports), "report", "reports"),
        ]
        return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)

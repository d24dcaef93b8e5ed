"""Compile the `Portal` document: self sign-up and the portal's welcome text.

A bundle has at most one. Without it the defaults of `PortalSettings` apply: no self
sign-up (requesters are added by staff or by writing in).
"""

from __future__ import annotations

from gongdan.bundle.compiled import PortalSettings
from gongdan.bundle.context import Entry, Reporter

__all__ = ["compile_portal"]


def compile_portal(entries: list[Entry], report: Reporter) -> PortalSettings:
    """The portal settings of the schema-valid `Portal` entries (only one is allowed)."""
    if not entries:
        return PortalSettings()
    first, *others = entries
    for other in others:
        report.error(
            other.doc,
            (),
            f"a bundle has one Portal document; '{first.id}' is already one "
            f"({first.doc.file}:{first.doc.position[0]})",
        )
    data = first.data
    self_signup = bool(data.get("self_signup", False))
    domains = frozenset(str(d).lower() for d in data.get("allowed_email_domains", ()))
    if domains and not self_signup:
        report.warning(
            first.doc,
            ("allowed_email_domains",),
            "has no effect while self_signup is false",
            key=True,
        )
    return PortalSettings(
        self_signup=self_signup, allowed_email_domains=domains, welcome=data.get("welcome")
    )

"""Channels into and out of Gongdan beside the web: email in and out, webhooks.

A channel calls the engine's public API (`gongdan.engine`) and never writes SQL of its
own. `channels_for` builds the `Channels` background work delivers through: whoever
starts that work (`gongdan.tasks`, the web app's in-process runner) calls it.
"""

from __future__ import annotations

from collections.abc import Mapping

from gongdan.channels.webhooks import TIMEOUT_SECONDS, SignedWebhooks
from gongdan.engine import Channels, LogNotifier, Notifier

__all__ = ["channels_for"]


def channels_for(
    notifier: Notifier | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    webhook_timeout: float = TIMEOUT_SECONDS,
) -> Channels:
    """Notifications to `notifier` (default: only logged), webhooks signed with the
    secrets of `environ` (default: `os.environ`, read at each delivery)."""
    return Channels(
        notifier=notifier if notifier is not None else LogNotifier(),
        webhooks=SignedWebhooks(environ, webhook_timeout),
    )

# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a remote system's ``Retry-After`` header asks for, read the same way by every client.

RFC 9110 allows two forms: a number of seconds (``120``) or an HTTP date
(``Wed, 02 Dec 2026 18:30:00 GMT``). Both Procountor and the collection agencies' gateways
send either, so both clients read it here.
"""

from __future__ import annotations

import datetime as dt
import email.utils


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait before trying again, never negative; None when ``value`` is missing or
    unreadable (the caller's own backoff applies then). ``now`` (aware) is for tests."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def retry_after_text(value: float | str) -> str:
    """A ``Retry-After`` header for ``value``: seconds as a plain number, a text (an HTTP date)
    as given. For the sandboxes, which play the remote side."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)

# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What an outbox (exchange record) does after a failed push to a remote system.

An exchange record is pushed, by a scheduled action or by hand, until it is ``done``. When a push
fails, :func:`decide_failure` says which state the record takes, whether and when it is tried
again by itself, and what to show the person looking at it:

========================================  =========  ===========================================
failure                                   state      next automatic try
========================================  =========  ===========================================
remote unavailable, rate limited          error      after a backoff, until ``max_attempts``
outcome unknown (timeout after sending)   unknown    after a backoff; the next push looks the
                                                     object up by our key before any resend
request refused (400 validation, 403,     error      none: a person fixes data or rights and
404, 401 login)                                      presses Retry
anything else (a bug, bad local data)     error      none
========================================  =========  ===========================================

Backoff doubles from ``base`` up to ``cap``. After ``max_attempts`` tries a record waits for a
person; an ``unknown`` record keeps its state so that nobody mistakes it for "not sent".

``Decision.reason`` names the case (see :data:`REASONS`) so that a user interface can say it in
the user's language; ``message`` says it in English with the technical detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from nordic_billing.procountor import (
    ProcountorAuthError,
    ProcountorError,
    ProcountorNotFoundError,
    ProcountorPermissionError,
    ProcountorUnknownOutcomeError,
    ProcountorValidationError,
)

DONE = "done"
ERROR = "error"
UNKNOWN = "unknown"
REASONS = (
    "unknown",  # no answer; the next try looks the object up first
    "unknown_given_up",  # still no answer after the last automatic try
    "unavailable",  # not reachable; tried again later
    "unavailable_given_up",  # not reachable, and no automatic try is left
    "refused",  # 400: the data broke a rule (field and code say which)
    "forbidden",  # 403: the API user may not, or not in this state
    "login",  # 401: credentials refused
    "not_found",  # 404
    "other",  # another answer of the remote
    "local",  # failed before or after talking to the remote (bad local data, a bug)
)


@dataclass(frozen=True)
class BackoffPolicy:
    """When to try a failed push again."""

    base: float = 300.0  # seconds before the second try
    cap: float = 6 * 3600.0
    max_attempts: int = 8  # tries in all, the first included

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed tries (1-based)."""
        if attempts < 1:
            raise ValueError("attempts counts the tries made, the first being 1")
        return min(self.cap, self.base * 2 ** (attempts - 1))


@dataclass(frozen=True)
class Decision:
    """The state an exchange record takes after a failed push."""

    state: str
    retry_in: float | None  # seconds until the next automatic try; None: wait for a person
    message: str
    field: str = ""  # the remote's name of the field at fault, when it gave one
    code: str = ""  # the remote's validation code, when it gave one
    reason: str = "other"  # one of REASONS
    detail: str = ""  # the technical text of the failure

    @property
    def retryable(self) -> bool:
        return self.retry_in is not None


def decide_failure(
    exc: BaseException, attempts: int, policy: BackoffPolicy | None = None
) -> Decision:
    """The decision after try number ``attempts`` (1-based) failed with ``exc``."""
    policy = policy or BackoffPolicy()
    retry_in = policy.delay(attempts) if attempts < policy.max_attempts else None
    detail = str(exc)
    if not isinstance(exc, ProcountorError):
        detail = f"{type(exc).__name__}: {exc}"
        return Decision(ERROR, None, detail, reason="local", detail=detail)
    field, code = exc.field, exc.code

    def decision(state, retry, reason, message):
        return Decision(state, retry, message, field, code, reason, detail)

    if isinstance(exc, ProcountorUnknownOutcomeError):
        if retry_in is None:
            message = f"Outcome still unknown after {attempts} tries; Retry looks it up: {exc}"
            return decision(UNKNOWN, None, "unknown_given_up", message)
        message = f"Outcome unknown, the next try looks it up first: {exc}"
        return decision(UNKNOWN, retry_in, "unknown", message)
    if exc.retryable:
        message = f"Not reachable, tried {attempts} time(s): {exc}"
        reason = "unavailable" if retry_in is not None else "unavailable_given_up"
        return decision(ERROR, retry_in, reason, message)
    if isinstance(exc, ProcountorValidationError):
        where = f"{field}: {code}" if field else code
        return decision(ERROR, None, "refused", f"Refused: {where or exc}")
    if isinstance(exc, ProcountorPermissionError):
        message = f"Not allowed for this API user or in this state: {exc}"
        return decision(ERROR, None, "forbidden", message)
    if isinstance(exc, ProcountorAuthError):
        return decision(ERROR, None, "login", f"Login refused, check the credentials: {exc}")
    if isinstance(exc, ProcountorNotFoundError):
        return decision(ERROR, None, "not_found", f"Not found: {exc}")
    if exc.status is None:  # a broken answer rather than a refusal
        reason = "unavailable" if retry_in is not None else "unavailable_given_up"
        return decision(ERROR, retry_in, reason, str(exc))
    return decision(ERROR, None, "other", str(exc))

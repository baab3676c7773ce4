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

    @property
    def retryable(self) -> bool:
        return self.retry_in is not None


def decide_failure(
    exc: BaseException, attempts: int, policy: BackoffPolicy | None = None
) -> Decision:
    """The decision after try number ``attempts`` (1-based) failed with ``exc``."""
    policy = policy or BackoffPolicy()
    retry_in = policy.delay(attempts) if attempts < policy.max_attempts else None
    if not isinstance(exc, ProcountorError):
        return Decision(ERROR, None, f"{type(exc).__name__}: {exc}")
    field, code = exc.field, exc.code
    if isinstance(exc, ProcountorUnknownOutcomeError):
        message = f"Outcome unknown, the next try looks it up first: {exc}"
        if retry_in is None:
            message = f"Outcome still unknown after {attempts} tries; Retry looks it up: {exc}"
        return Decision(UNKNOWN, retry_in, message, field, code)
    if exc.retryable:
        message = f"Not reachable, tried {attempts} time(s): {exc}"
        return Decision(ERROR, retry_in, message, field, code)
    if isinstance(exc, ProcountorValidationError):
        where = f"{field}: {code}" if field else code
        return Decision(ERROR, None, f"Refused: {where or exc}", field, code)
    if isinstance(exc, ProcountorPermissionError):
        message = f"Not allowed for this API user or in this state: {exc}"
        return Decision(ERROR, None, message, field, code)
    if isinstance(exc, ProcountorAuthError):
        return Decision(ERROR, None, f"Login refused, check the credentials: {exc}", field, code)
    if isinstance(exc, ProcountorNotFoundError):
        return Decision(ERROR, None, f"Not found: {exc}", field, code)
    if exc.status is None:  # a broken answer rather than a refusal
        return Decision(ERROR, retry_in, str(exc), field, code)
    return Decision(ERROR, None, str(exc), field, code)

# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Outbox decisions after failed pushes: state, automatic retry, message."""

import pytest

from nordic_billing.outbox import ERROR, UNKNOWN, BackoffPolicy, decide_failure
from nordic_billing.procountor import (
    ErrorDetail,
    ProcountorAuthError,
    ProcountorError,
    ProcountorNotFoundError,
    ProcountorPermissionError,
    ProcountorRateLimitedError,
    ProcountorUnavailableError,
    ProcountorUnknownOutcomeError,
    ProcountorValidationError,
)

POLICY = BackoffPolicy(base=60, cap=600, max_attempts=4)


def test_backoff_doubles_up_to_the_cap():
    assert [POLICY.delay(n) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
    with pytest.raises(ValueError):
        POLICY.delay(0)


def test_unavailable_is_retried_until_the_last_attempt():
    exc = ProcountorUnavailableError("HTTP 503, gave up after 4 tries", status=503)
    first = decide_failure(exc, 1, POLICY)
    assert (first.state, first.retry_in, first.retryable) == (ERROR, 60, True)
    assert first.reason == "unavailable"
    last = decide_failure(exc, 4, POLICY)
    assert (last.state, last.retry_in, last.retryable) == (ERROR, None, False)
    assert "tried 4 time(s)" in last.message
    assert last.reason == "unavailable_given_up"
    assert last.detail == str(exc)


def test_rate_limited_is_retried():
    decision = decide_failure(ProcountorRateLimitedError("HTTP 429", status=429), 2, POLICY)
    assert (decision.state, decision.retry_in) == (ERROR, 120)


def test_unknown_outcome_keeps_its_state_even_when_given_up():
    exc = ProcountorUnknownOutcomeError("no answer", timed_out=True, method="POST", path="/x")
    assert decide_failure(exc, 1, POLICY).state == UNKNOWN
    assert decide_failure(exc, 1, POLICY).retry_in == 60
    assert decide_failure(exc, 1, POLICY).reason == "unknown"
    given_up = decide_failure(exc, 4, POLICY)
    assert (given_up.state, given_up.retry_in) == (UNKNOWN, None)
    assert "looks it up" in given_up.message
    assert given_up.reason == "unknown_given_up"


def test_validation_names_field_and_code_and_waits_for_a_person():
    exc = ProcountorValidationError(
        "Bad Request",
        status=400,
        errors=(ErrorDetail(400, "transactions[1].account", "ACCOUNT_INACTIVE"),),
    )
    decision = decide_failure(exc, 1, POLICY)
    assert (decision.state, decision.retry_in) == (ERROR, None)
    assert (decision.field, decision.code) == ("transactions[1].account", "ACCOUNT_INACTIVE")
    assert decision.message == "Refused: transactions[1].account: ACCOUNT_INACTIVE"
    assert decision.reason == "refused"


@pytest.mark.parametrize(
    ("exc", "words", "reason"),
    [
        (ProcountorPermissionError("Forbidden", status=403), "Not allowed", "forbidden"),
        (ProcountorAuthError("Unauthorized", status=401), "Login refused", "login"),
        (ProcountorNotFoundError("Not Found", status=404), "Not found", "not_found"),
        (ProcountorError("Conflict", status=409), "Conflict", "other"),
        (ValueError("no account for product"), "ValueError: no account for product", "local"),
    ],
)
def test_refusals_and_local_errors_wait_for_a_person(exc, words, reason):
    decision = decide_failure(exc, 1, POLICY)
    assert (decision.state, decision.retry_in) == (ERROR, None)
    assert words in decision.message
    assert decision.reason == reason


def test_a_broken_answer_is_retried():
    decision = decide_failure(ProcountorError("answer is not JSON"), 1, POLICY)
    assert (decision.state, decision.retry_in, decision.reason) == (ERROR, 60, "unavailable")


def test_every_reason_is_named():
    from nordic_billing.outbox import REASONS

    exc = ProcountorUnknownOutcomeError("no answer", timed_out=True)
    reasons = {decide_failure(exc, n, POLICY).reason for n in (1, 4)}
    assert reasons <= set(REASONS)

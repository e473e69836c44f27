"""A fuzzer against the live OpenAPI document: no 500, and no answer the document does not describe.

Schemathesis reads /api/v1/openapi.json from the app under gunicorn (as in production,
on the test database), generates requests from it, valid ones and invalid ones, and runs
every check it has on each answer: server errors, status codes, content types, headers
and bodies against the document, invalid data refused, valid data accepted,
authentication not ignored. Then the same statefully: sequences of calls along the
links schemathesis infers between operations. The seed is fixed and the examples
bounded (about 1,800 + 650 requests, a minute on two cores), so a run finds the same
things every time. "Valid data accepted" allows 422 (see ACCEPTED).

Schemathesis' own pytest plugin does not run under pytest 9, so the operations are
driven through its Hypothesis strategies directly.
"""

from __future__ import annotations

import contextlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from bookings.api.auth import forget_failures
from bookings.services.tokens import issue_token
from tests import factories

pytestmark = pytest.mark.slow

EXAMPLES = 50
STATEFUL_EXAMPLES = 100
ACCEPTED = ["2xx", "401", "403", "404", "409", "412", "422"]
SEED = 13


@pytest.fixture
def api(gunicorn_server, transactional_db):
    alice = factories.user("alice")
    factories.room()
    _token, raw = issue_token(user=alice, name="fuzz")
    load_all_checks()
    config = SchemathesisConfig.from_dict(
        {
            # Valid by the document is not always bookable: end before start, a time in the
            # past, a room's rules. Those are 422 with the reason, documented as such; what
            # valid data must never meet is 400, 413 or 415.
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        }
    )
    url = f"{gunicorn_server}/api/v1/openapi.json"
    return schemathesis.openapi.from_url(url, config=config), {
        "Authorization": f"Bearer {raw}",
        "Accept-Language": "de",
    }


def vanishes(case) -> bool:
    """A negative query value that a URL cannot carry (an empty list or object, None) is left
    out when the request is sent, and the request that arrives is then a valid one: the
    "invalid data accepted" check would blame the API for the generator's value."""
    return any(value in ([], {}, None) for value in (case.query or {}).values())


def fuzz(operation, mode: GenerationMode, headers: dict, failures: list) -> int:
    sent = 0

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal sent
        if mode is GenerationMode.NEGATIVE and vanishes(case):
            return
        # The fuzzer sends wrong tokens on purpose; the failure limit has its own tests.
        forget_failures()
        sent += 1
        try:
            case.call_and_validate(headers=headers, checks=list(CHECKS.get_all()))
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label} [{mode}]: {exc}"[:2000])
            raise

    # A failure is recorded in failures; every operation still runs.
    with contextlib.suppress(Exception, BaseExceptionGroup):
        run()
    return sent


def test_it_answers_every_generated_request_as_the_document_says(api):
    schema, headers = api
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += fuzz(operation, mode, headers, failures)

    print(f"schemathesis: {sent} requests")
    assert not failures, "\n\n".join(failures)


def test_it_holds_the_document_across_sequences_of_calls(api):
    """Stateful: bookings created, then read, changed, approved, cancelled through the links
    schemathesis infers between operations (an id from one answer in the next request)."""
    schema, headers = api
    checks = list(CHECKS.get_all())
    calls = 0

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            nonlocal calls
            calls += 1
            forget_failures()
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=checks, headers=headers, transport_kwargs=kwargs or None)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"schemathesis stateful: {calls} requests")

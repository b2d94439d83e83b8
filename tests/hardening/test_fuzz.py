"""Property-based fuzzing of every operation of the OpenAPI document the local stack serves.

Schemathesis generates valid and invalid requests from /openapi.json and sends them over HTTP
with an admin token (admins may do everything editors may). A schema hook (``flatmap_headers``)
adds random Content-Type, If-Match and Idempotency-Key headers to every operation's cases, under
names in any case, with parameters, unknown media types and non-ASCII bytes (``header_values``).
Every response must be a non-5xx that matches the documented status codes, content type,
headers and body schema, and invalid input must be refused with a 4xx. Half of the cases aim at
real resources (an existing dossier and document, with a valid If-Match unless the case has a
random one), so the routes are exercised past the 404.
"""

from __future__ import annotations

import collections
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from patronus_api.route_table import routes
from tests.conftest import LocalStack as Stack
from tests.hardening.header_values import FUZZED, with_fuzzed_headers

EXAMPLES_PER_OPERATION = 80  # 16 operations
# Every operation but /health gets its 80 cases; /health takes no input and no token, so it has
# only a couple of distinct requests to make.
MIN_CASES = 12 * EXAMPLES_PER_OPERATION
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _real_resources(stack: Stack, auth: dict[str, str], reference: str) -> dict[str, str]:
    """A new dossier with one document, for one operation's cases to aim at (an operation that
    archives or deletes its target leaves the next operation's target alone)."""
    dossier = requests.post(
        f"{stack.url}/v1/dossiers",
        json={"reference": reference, "title": "Target of the fuzzer"},
        headers=auth,
        timeout=10,
    )
    assert dossier.status_code == 201, dossier.text
    document = requests.post(
        f"{stack.url}/v1/dossiers/{dossier.json()['id']}/documents",
        json={"filename": "target.pdf", "content_type": "application/pdf", "size_bytes": 10},
        headers=auth,
        timeout=10,
    )
    assert document.status_code == 201, document.text
    return {"dossier_id": dossier.json()["id"], "document_id": document.json()["document"]["id"]}


def _current_etag(stack: Stack, auth: dict[str, str], dossier_id: str) -> str:
    reply = requests.get(f"{stack.url}/v1/dossiers/{dossier_id}", headers=auth, timeout=10)
    assert reply.status_code == 200, reply.text
    return str(reply.headers["ETag"])


def _fuzzed(exercise: Any, cases: st.SearchStrategy[Any]) -> Any:
    """``exercise(case, aim)`` run over generated cases, reproducibly, without shrinking."""
    return settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same cases on every run: a failure here is reproducible
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(case=cases, aim=st.booleans())(lambda case, aim: exercise(case, aim)))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_operation_answers_generated_requests_as_documented(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the served OpenAPI document, an admin's token and real resources to aim at
    schema = schemathesis.openapi.from_url(f"{stack.url}/openapi.json")

    @schema.hook("flatmap_headers")
    def random_header_values(context: Any, headers: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        return with_fuzzed_headers(headers)

    auth = stack.auth("fuzzer", ("admins",))
    failures: dict[tuple[str, str], str] = {}
    counts: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[int] = collections.Counter()
    sent: collections.Counter[str] = collections.Counter()  # fuzzed header -> cases carrying it
    spellings: set[str] = set()

    # When every operation receives generated requests
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation of the document is invalid: {result}"
        operation = result.ok()
        label = operation.label
        targets = _real_resources(stack, auth, f"FUZZ-{len(counts)}")

        def exercise(case: Any, aim: bool, label: str = label, targets: dict[str, str] = targets) -> None:
            present = {name.lower(): name for name in case.headers}
            if aim:
                for name, value in targets.items():
                    if case.path_parameters and name in case.path_parameters:
                        case.path_parameters[name] = value
                if "if-match" not in present and case.method == "PATCH":
                    case.headers["If-Match"] = _current_etag(stack, auth, targets["dossier_id"])
            for name in FUZZED:
                if name.lower() in present:
                    sent[name] += 1
                    spellings.add(present[name.lower()])
            counts[label] += 1
            try:
                response = case.call_and_validate(headers=auth, checks=CHECKS, timeout=30)
                statuses[response.status_code] += 1
            except (Exception, BaseExceptionGroup) as exc:
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                failures.setdefault((label, first_line), str(exc)[:3000])

        _fuzzed(exercise, operation.as_strategy())()

    with capsys.disabled():
        print(
            f"\nfuzz: {sum(counts.values())} cases over {len(counts)} operations, statuses {dict(statuses)}, "
            f"random headers {dict(sent)} under {len(spellings)} spellings"
        )
    # Then nothing failed, and enough cases ran over every operation
    assert not failures, "\n\n".join(f"{label}: {detail}" for (label, _), detail in failures.items())
    assert sum(counts.values()) >= MIN_CASES, counts
    documented = {f"{r.method} {r.path}" for r in routes() if r.path not in {"/docs", "/openapi.json"}}
    assert set(counts) == documented, sorted(documented ^ set(counts))
    assert not [status for status in statuses if status >= 500], statuses
    # And the random headers went out on a good share of the cases, in many spellings, and reached
    # the code that reads them (415 comes only from a Content-Type other than JSON)
    assert min(sent[name] for name in FUZZED) >= sum(counts.values()) // 4, sent
    assert len(spellings) >= 3 * len(FUZZED), spellings
    assert 415 in statuses, statuses

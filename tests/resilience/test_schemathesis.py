"""Schemathesis against the OpenAPI schema: no input, valid or not, gets a 5xx (DESIGN §7).

The API runs for real (:mod:`tests.resilience.api_under_test`: uvicorn on 127.0.0.1, the
embedded SQLite database, an owner's bearer token). Every operation of the schema gets
``EXAMPLES`` cases that fit the schema and ``EXAMPLES`` that break it (Schemathesis'
positive and negative generation), derandomized — the same cases on every run. Half the
cases aim their path parameters at objects that exist (a room, an agent, a turn, a file…),
so the handlers run past the lookup; the rest use whatever was generated. Each response
goes through Schemathesis' ``not_a_server_error`` check; every 5xx found is listed with the
request that caused it. One test per tag of the schema, so the work spreads over workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation

from pantheon_http.app import OPENAPI_URL, TAGS
from tests.resilience.api_under_test import LiveApi, live_api

EXAMPLES = 8  # per operation and generation mode
TAG_NAMES = [tag["name"] for tag in TAGS]
RESPONSE_TIMEOUT_S = 30
CLOSE = {"Connection": "close"}  # a stream of a finished turn ends; nothing may hang


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with live_api(Path(tmp_path_factory.mktemp("schemathesis"))) as served:
        yield served


@pytest.fixture(scope="module")
def schema(api: LiveApi) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api.base_url}{OPENAPI_URL}")


def operations(schema: schemathesis.BaseSchema) -> list[APIOperation]:
    found = []
    for result in schema.get_all_operations():
        found.append(result.ok())
    return found


def first_tag(operation: APIOperation) -> str:
    tags = operation.definition.raw.get("tags") or ["untagged"]
    return str(tags[0])


def exercise(api: LiveApi, operation: APIOperation) -> list[str]:
    """Run the operation's cases; returns a line for each 5xx (an empty list is a pass)."""
    found: list[str] = []
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=2 * EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases, aim=st.booleans())
    def run(case: Case, aim: bool) -> None:
        if aim and case.path_parameters:
            for name in case.path_parameters:
                if name in api.ids:
                    case.path_parameters[name] = api.ids[name]
        # A connection per request: on a kept-alive one, a client in the server's own
        # process waits ~40 ms for each answer (delayed ACKs), a new one takes ~2 ms.
        response = case.call(base_url=api.base_url, headers=api.auth | CLOSE,
                             timeout=RESPONSE_TIMEOUT_S)
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except (Failure, FailureGroup):
            found.append(f"{response.status_code} {response.text[:300]!r}\n"
                         f"    {case.as_curl_command()}")

    run()
    return found


@pytest.mark.parametrize("tag", TAG_NAMES)
def test_no_request_gets_a_server_error(api: LiveApi, schema: schemathesis.BaseSchema,
                                        tag: str) -> None:
    mine = [op for op in operations(schema) if first_tag(op) == tag]
    assert mine, f"no operation is tagged {tag!r}"
    failures: list[str] = []
    for operation in mine:
        failures += [f"{operation.label}: {line}" for line in exercise(api, operation)]
    assert not failures, "5xx responses:\n" + "\n".join(failures)


def test_every_operation_is_exercised(schema: schemathesis.BaseSchema) -> None:
    untagged = [op.label for op in operations(schema) if first_tag(op) not in TAG_NAMES]
    assert not untagged, f"operations no test above reaches: {untagged}"
    assert len(operations(schema)) >= 70

"""Fixtures of the hardening suite.

* ``stack``: the session's local stack (``scripts.run_local``) over real HTTP, for the fuzzing
  and load tests; ``stack.db_url`` lets a test count rows.
* ``api``: the real handler called in-process with API Gateway events (the integration harness),
  for the bad-input and authorization tests.
"""

from __future__ import annotations

import pytest

from tests.conftest import LocalStack
from tests.integration.conftest import api, api_settings  # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def stack(local_stack: LocalStack) -> LocalStack:
    return local_stack

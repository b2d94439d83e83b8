"""Custom resource ``Custom::PatronusSmokeTestUser`` (behind the CDK provider framework).

Create and Update bring the smoke-test user in step with its secret and sign it in once (a
deployment fails when the smoke test could not sign in); Delete removes the user. An operator
may invoke the function directly with any other payload (``{}``) to repair the user after
writing a new password in the secret (docs/operations.md).

Configured by the api stack: ``USER_POOL_ID``, ``CLIENT_ID`` (the smoke test's app client),
``SECRET_ARN`` (the user's secret) and ``GROUP`` (its only group). The resource's properties
repeat them, so that a change of any of them (or of this code) updates the resource.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3

from patronus_smoke_user.user import SmokeTestUser

LOGGER = logging.getLogger("patronus.smoke_user")
LOGGER.setLevel("INFO")


def smoke_test_user() -> SmokeTestUser:
    return SmokeTestUser(
        cognito=boto3.client("cognito-idp"),
        secrets=boto3.client("secretsmanager"),
        user_pool_id=os.environ["USER_POOL_ID"],
        client_id=os.environ["CLIENT_ID"],
        secret_id=os.environ["SECRET_ARN"],
        group=os.environ["GROUP"],
    )


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    user = smoke_test_user()
    if event.get("RequestType") == "Delete":
        physical_id = str(event.get("PhysicalResourceId", ""))
        if "@" in physical_id:  # a failed create leaves the provider's own id: nothing to delete
            user.delete(physical_id)
        LOGGER.info("delete: %s", "; ".join(user.actions) or "nothing to do")
        return {"PhysicalResourceId": physical_id}
    username = user.ensure()
    LOGGER.info("%s: %s", event.get("RequestType", "repair"), "; ".join(user.actions) or "in step")
    return {"PhysicalResourceId": username, "Data": {"Username": username, "Changes": len(user.actions)}}

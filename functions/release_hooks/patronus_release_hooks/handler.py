"""Lambda entry points of the CodeDeploy hooks of the api function (see :mod:`.hooks`).

Configured by the api stack: ``TARGET_VERSION_ARN`` (the version being released),
``SMOKE_TEST_PATH``, ``SMOKE_TEST_USERNAME``, ``SMOKE_TEST_GROUP``, ``PRUNE_FUNCTIONS`` (names,
comma-separated) and ``KEEP_VERSIONS``.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from patronus_release_hooks.hooks import (
    FAILED,
    LOGGER,
    SUCCEEDED,
    checks,
    prune_versions,
    report,
    verify_version,
)

LOGGER.setLevel("INFO")


def pre_traffic(event: dict[str, Any], context: Any) -> dict[str, str]:
    to_check = checks(
        os.environ["SMOKE_TEST_PATH"], os.environ["SMOKE_TEST_USERNAME"], os.environ["SMOKE_TEST_GROUP"]
    )
    try:
        problems = verify_version(boto3.client("lambda"), os.environ["TARGET_VERSION_ARN"], to_check)
    except (BotoCoreError, ClientError, ValueError) as exc:  # not checked is not good: the release stops
        problems = [f"the checks could not run: {exc!r}"]
    for problem in problems:
        LOGGER.error("pre-traffic check failed: %s", problem)
    status = FAILED if problems else SUCCEEDED
    report(boto3.client("codedeploy"), event, status)
    return {"status": status}


def post_traffic(event: dict[str, Any], context: Any) -> dict[str, str]:
    client = boto3.client("lambda")
    keep = int(os.environ.get("KEEP_VERSIONS", "3"))
    for name in filter(None, os.environ["PRUNE_FUNCTIONS"].split(",")):
        try:
            deleted = prune_versions(client, name, keep)
            LOGGER.info("pruned %s versions of %s: %s", len(deleted), name, ", ".join(deleted) or "none")
        except (BotoCoreError, ClientError):  # housekeeping: the release succeeded anyway
            LOGGER.exception("pruning the versions of %s failed", name)
    report(boto3.client("codedeploy"), event, SUCCEEDED)
    return {"status": SUCCEEDED}

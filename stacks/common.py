"""Small helpers shared by the stacks."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from stacks.config import LOG_RETENTION, EnvironmentConfig


def log_retention(days: int) -> logs.RetentionDays:
    """The CloudWatch Logs retention for ``days`` (validated by the config model)."""
    return LOG_RETENTION[days]


def removal_policy(config: EnvironmentConfig) -> RemovalPolicy:
    """Keep data resources when the stack goes away (prod), or remove them (dev)."""
    return RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY

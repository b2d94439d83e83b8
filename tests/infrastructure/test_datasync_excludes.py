"""The DataSync task and the file scripts exclude the same files.

Kept out of the unit suite because it imports the CDK construct (and with it aws-cdk-lib).
"""

from __future__ import annotations

from scripts.operator_tools.documents.excludes import DEFAULT_EXCLUDES, ExcludeFilter
from stacks.legacy_migration.datasync import DEFAULT_EXCLUDE_PATTERNS


def test_the_task_filter_is_the_scripts_filter() -> None:
    # Given the defaults of the scripts and of the CDK construct
    # Then the DataSync filter value they produce is the same
    assert ExcludeFilter(DEFAULT_EXCLUDES).datasync_value() == "|".join(DEFAULT_EXCLUDE_PATTERNS)

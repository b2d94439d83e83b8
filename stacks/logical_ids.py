"""Constructs that group resources without changing their CloudFormation logical ids.

CloudFormation knows a resource by its logical id, and aws-cdk-lib derives that id from the
construct path below the stack (``Users/Resource`` becomes ``UsersXXXXXXXX``, the suffix a hash
of the path). Moving a deployed resource into a new construct changes its path, so its id, and
CloudFormation replaces it: a new, empty user pool; a secret with a new value; a role whose fixed
name the old one still holds.

A :class:`FlatScope` is a construct that is left out of that path: the resources in it keep the
logical ids they had as children of the construct above. A stack whose constructs are flat scopes
derives from :class:`FlatScopeStack`, which allocates the ids, and refuses two resources with the
same id (inside flat scopes, construct ids must be unique across the scopes that share a parent).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from aws_cdk import CfnElement, Stack
from constructs import Construct

# aws-cdk-lib's rules (core/lib/private/uniqueid.ts): "Default" is left out of the id, "Resource"
# out of its readable part, 8 hash characters, at most 240 readable ones and 255 in all.
_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"
_HASH_LENGTH = 8
_MAX_HUMAN_LENGTH = 240
_MAX_LENGTH = 255
_NON_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


def unique_id(components: Sequence[str]) -> str:
    """The logical id aws-cdk-lib gives the construct path ``components`` (below the stack)."""
    path = [component for component in components if component != _HIDDEN]
    if not path:
        raise ValueError("a logical id needs at least one path component")
    if len(path) == 1:
        candidate = _NON_ALPHANUMERIC.sub("", path[0])
        if len(candidate) <= _MAX_LENGTH:
            return candidate
    digest = hashlib.md5("/".join(path).encode(), usedforsecurity=False).hexdigest()
    readable = "".join(
        _NON_ALPHANUMERIC.sub("", component)
        for component in _without_repeats(path)
        if component != _HIDDEN_FROM_HUMAN
    )
    return readable[:_MAX_HUMAN_LENGTH] + digest[:_HASH_LENGTH].upper()


def _without_repeats(path: Sequence[str]) -> list[str]:
    """Drop a component that the previous one ends with (``Users/Users`` reads ``Users``)."""
    kept: list[str] = []
    for component in path:
        if not kept or not kept[-1].endswith(component):
            kept.append(component)
    return kept


class FlatScope(Construct):
    """A construct whose id is left out of its resources' logical ids (see the module docstring)."""


class FlatScopeStack(Stack):
    """A stack that leaves its :class:`FlatScope` constructs out of the logical ids it allocates."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._allocated: dict[str, str] = {}

    def _allocate_logical_id(self, cfn_element: CfnElement) -> str:
        scopes = cfn_element.node.scopes
        below = scopes[scopes.index(self) + 1 :]
        if any(isinstance(scope, FlatScope) for scope in below):
            logical_id = unique_id([scope.node.id for scope in below if not isinstance(scope, FlatScope)])
        else:
            logical_id = super()._allocate_logical_id(cfn_element)
        owner = self._allocated.setdefault(logical_id, cfn_element.node.path)
        if owner != cfn_element.node.path:
            raise ValueError(
                f"{cfn_element.node.path} and {owner} would both be {logical_id}: give one of them "
                "another construct id"
            )
        return logical_id

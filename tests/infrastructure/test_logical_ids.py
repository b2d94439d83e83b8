"""Constructs that group resources keep the logical ids the resources had without them."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.logical_ids import FlatScope, FlatScopeStack, unique_id


def _build(stack: cdk.Stack, parent: Construct) -> None:
    """Resources whose paths exercise every rule of aws-cdk-lib's ids: a single component, the
    hidden ``Resource`` and ``Default``, repeated ids, characters CloudFormation refuses, length."""
    sqs.CfnQueue(parent, "Single")
    queue = sqs.Queue(parent, "Queue")  # Queue/Resource
    iam.Role(parent, "Role", assumed_by=iam.AccountRootPrincipal()).add_to_policy(
        iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn])
    )  # Role/Resource and Role/DefaultPolicy/Resource
    inner = Construct(parent, "Group")
    sqs.CfnQueue(Construct(inner, "Default"), "Hidden")
    sqs.CfnQueue(inner, "Group")  # a repeated id
    sqs.CfnQueue(inner, "With-Odd.Characters_1")
    sqs.CfnQueue(inner, "L" * 250)


def _logical_ids(stack: cdk.Stack) -> list[str]:
    return sorted(cdk.App.of(stack).synth().get_stack_by_name(stack.stack_name).template["Resources"])  # type: ignore[union-attr]


def test_unique_id_is_the_id_aws_cdk_lib_allocates() -> None:
    # Given resources built straight into a plain stack, with aws-cdk-lib's own ids
    stack = cdk.Stack(cdk.App(), "Plain")
    _build(stack, stack)
    elements = [node for node in stack.node.find_all() if isinstance(node, cdk.CfnElement)]
    assert len(elements) >= 8
    # Then each id is the one unique_id computes from the resource's path below the stack
    for element in elements:
        path = element.node.path.split("/")[1:]
        assert stack.get_logical_id(element) == unique_id(path), element.node.path


def test_resources_in_flat_scopes_keep_the_ids_they_had_in_the_stack() -> None:
    # Given the same resources built straight into a stack, and into nested flat scopes
    plain = cdk.Stack(cdk.App(), "Same")
    _build(plain, plain)
    grouped = FlatScopeStack(cdk.App(), "Same")
    _build(grouped, FlatScope(FlatScope(grouped, "Outer"), "Inner"))
    # Then both templates have the same logical ids (and references between them resolve)
    assert _logical_ids(grouped) == _logical_ids(plain)


def test_two_resources_with_one_id_are_refused() -> None:
    # Given two flat scopes that each hold a resource of the same id
    stack = FlatScopeStack(cdk.App(), "Clash")
    sqs.CfnQueue(FlatScope(stack, "One"), "Queue")
    sqs.CfnQueue(FlatScope(stack, "Two"), "Queue")
    # Then synth fails, naming both
    with pytest.raises(Exception, match=r"Clash/Two/Queue and Clash/One/Queue would both be Queue"):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]

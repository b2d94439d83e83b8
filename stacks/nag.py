"""cdk-nag acknowledgments: one finding, one resource, one reason a reviewer can check."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (e.g. ``AwsSolutions-IAM5[Action::s3:GetObject*]``) on ``scope``."""
    if len(reason) < 20:
        raise ValueError(f"the acknowledgment of {rule} needs a real reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


BASIC_EXECUTION = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_EXECUTION = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


def acknowledge_function(function: lambda_.Function, *, in_vpc: bool = True, traced: bool = True) -> None:
    """The findings every Patronus function draws by construction, each with its reason."""
    role = function.role
    assert role is not None
    acknowledge(
        role,
        f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION}]",
        "AWS-managed basic execution policy: CloudWatch Logs writes for the function's own log group.",
    )
    if in_vpc:
        acknowledge(
            role,
            f"AwsSolutions-IAM4[Policy::{VPC_EXECUTION}]",
            "AWS-managed VPC access policy: the ENI actions Lambda needs to run in the private subnets.",
        )
    if traced:
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no "
            "resource-level permissions; this is the only statement on Resource *.",
        )
    acknowledge(
        function,
        "AwsSolutions-L1",
        "Python 3.13 on purpose: the pinned Powertools layer and the arm64 wheels of the project "
        "layer are built for it; moving to a newer runtime is a deliberate, tested change.",
    )


def acknowledge_provider_framework(provider: IConstruct, function: lambda_.Function, fronts: str) -> None:
    """The findings of a CDK custom resource provider (``custom_resources.Provider``) that fronts
    ``function`` (named ``fronts`` in the reasons)."""
    framework = provider.node.find_child("framework-onEvent")
    framework_role = framework.node.find_child("ServiceRole")
    acknowledge(
        framework_role,
        f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION}]",
        "CDK custom resource provider framework: basic execution policy for its own logs.",
    )
    function_id = Stack.of(function).get_logical_id(function.node.default_child)  # type: ignore[arg-type]
    acknowledge(
        framework_role.node.find_child("DefaultPolicy"),
        f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
        f"The provider framework invokes any version of the {fronts} it fronts; the wildcard "
        "covers version qualifiers of that one function only.",
    )
    acknowledge(
        framework,
        "AwsSolutions-L1",
        "The runtime of the CDK provider framework function is chosen by aws-cdk-lib and moves "
        "with it; it handles only CloudFormation callbacks.",
    )


def acknowledge_log_retention(stack: Stack) -> None:
    """The aws-cdk-lib function that sets retention on log groups created by services (RDS)."""
    # aws-cdk-lib's fixed construct id of the LogRetention singleton function.
    provider = stack.node.try_find_child("LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a")
    if provider is None:
        return
    role = provider.node.find_child("ServiceRole")
    acknowledge(
        role,
        f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION}]",
        "aws-cdk-lib log retention function: basic execution policy for its own logs.",
    )
    acknowledge(
        role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5[Resource::*]",
        "aws-cdk-lib log retention function: it sets retention on log groups that RDS creates "
        "at run time, whose ARNs are not known at deploy time.",
    )


def qualified_arn_finding(function: lambda_.IFunction) -> str:
    """The granular IAM5 finding of a statement on ``<function ARN>:*`` (its versions)."""
    stack = Stack.of(function)
    logical_id = stack.resolve(stack.get_logical_id(function.node.default_child))  # type: ignore[arg-type]
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]"

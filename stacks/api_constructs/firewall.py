"""The web application firewall in front of the API stage: AWS managed rule groups (addresses of
Amazon's IP reputation list, common exploits, known bad inputs, SQL injection), a per-IP rate
limit over five minutes (per environment: a whole office behind one address must fit), and its
logs in CloudWatch Logs with the Authorization and Cookie headers redacted."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.logical_ids import FlatScope

# Headers WAF's logs never hold: the bearer token and any cookie.
REDACTED_HEADERS = ("authorization", "cookie")
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


@dataclass(frozen=True)
class WebFirewallProps:
    """Inputs of :class:`WebFirewall`.

    Attributes:
        stage_arn: the API Gateway stage the web ACL guards.
        rate_limit_per_5_minutes: requests one IP may make in five minutes before being blocked.
        metrics_prefix: prefix of the CloudWatch metric names (the environment name).
        log_group_name: the log group of WAF's logs (WAF requires the ``aws-waf-logs-`` prefix).
        log_retention / removal_policy: that log group's.
    """

    stage_arn: str
    rate_limit_per_5_minutes: int
    metrics_prefix: str
    log_group_name: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


class WebFirewall(FlatScope):
    """A regional web ACL and its association with the API stage."""

    def __init__(self, scope: Construct, construct_id: str, props: WebFirewallProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=self._visibility("PatronusApi"),
            rules=[*self._managed_rules(), self._rate_limit(priority=len(MANAGED_RULE_GROUPS))],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=props.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        self.logs = self._build_logging()

    def _build_logging(self) -> logs.LogGroup:
        log_group = logs.LogGroup(
            self,
            "WebAclLogs",
            log_group_name=self.props.log_group_name,
            retention=self.props.log_retention,
            removal_policy=self.props.removal_policy,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WebAclLogging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group.log_group_arn],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        )
        return log_group

    def _managed_rules(self) -> list[wafv2.CfnWebACL.RuleProperty]:
        return [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=index,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=self._visibility(group),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]

    def _rate_limit(self, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=priority,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP",
                    limit=self.props.rate_limit_per_5_minutes,
                    evaluation_window_sec=300,
                )
            ),
            visibility_config=self._visibility("RateLimitPerIp"),
        )

    def _visibility(self, name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True,
            metric_name=f"{self.props.metrics_prefix}-{name}",
            sampled_requests_enabled=True,
        )

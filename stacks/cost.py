"""The cost guard of one environment: an AWS Budget and a Cost Anomaly Detection alert, from cdk.json.

* **Budget** (``monitoring.budget.monthly_limit_usd``): the month's cost of the resources tagged
  ``environment=<env>`` (the stage tags every resource; activate ``environment`` as a cost
  allocation tag once per account, in the Billing console, or the filter matches nothing). E-mails
  at each ``alert_percent`` of the actual cost and at 100 % of the forecast.
* **Anomaly alert** (``monitoring.budget.anomaly_alert_usd``): a custom anomaly monitor over the
  same tag, and a daily e-mail when an anomaly's total impact reaches the amount. A custom monitor
  (not the account-wide "AWS services" one, of which an account may hold one) lets dev and prod
  share an account.
"""

from __future__ import annotations

import json

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from constructs import Construct

from stacks.config import BudgetConfig


class CostGuard(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, environment: str, email: str, config: BudgetConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.budget = self._build_budget(environment, email, config)
        self.anomaly_subscription = (
            self._build_anomaly_alert(environment, email, config.anomaly_alert_usd)
            if config.anomaly_alert_usd is not None
            else None
        )

    def _build_budget(self, environment: str, email: str, config: BudgetConfig) -> budgets.CfnBudget:
        subscriber = budgets.CfnBudget.SubscriberProperty(address=email, subscription_type="EMAIL")
        alerts = [("ACTUAL", percent) for percent in config.alert_percent] + [("FORECASTED", 100)]
        return budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=config.monthly_limit_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:environment${environment}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type=kind,
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[subscriber],
                )
                for kind, percent in alerts
            ],
        )

    def _build_anomaly_alert(self, environment: str, email: str, amount: float) -> ce.CfnAnomalySubscription:
        monitor = ce.CfnAnomalyMonitor(
            self,
            "AnomalyMonitor",
            monitor_name=f"patronus-{environment}",
            monitor_type="CUSTOM",
            monitor_specification=json.dumps(
                {"Tags": {"Key": "environment", "Values": [environment], "MatchOptions": ["EQUALS"]}}
            ),
        )
        return ce.CfnAnomalySubscription(
            self,
            "AnomalyAlert",
            subscription_name=f"patronus-{environment}-anomalies",
            frequency="DAILY",
            monitor_arn_list=[monitor.attr_monitor_arn],
            subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(address=email, type="EMAIL")],
            threshold_expression=json.dumps(
                {
                    "Dimensions": {
                        "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                        "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                        "Values": [f"{amount:g}"],
                    }
                }
            ),
        )

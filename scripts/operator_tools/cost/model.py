"""What each environment costs a month, resource by resource, from its synthesized templates.

Every resource of every template is either priced by a rule of :mod:`.rules` or named free in
:data:`.rules.FREE_TYPES` (with the reason). A type in neither is unknown: :func:`estimate`
raises :class:`UnknownResourceTypes`, so a new resource cannot go uncosted.

A line is a monthly charge or a one-off (the legacy migration's copies). Lines that another
requirement adds (the migration VPN, backup copies in a second region, malware scanning, API
Gateway detailed metrics) carry their own category, so that their share is visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from scripts.operator_tools.cost.prices import PriceBook

HOURS_A_MONTH = 730
SECONDS_A_MONTH = HOURS_A_MONTH * 3600

# Categories shown on their own in the table and the totals.
RUN = "run"
MIGRATION = "legacy migration (one-off)"
MIGRATION_VPN = "migration VPN"
BACKUPS = "AWS Backup (documents and database)"
BACKUP_COPY = "backup copy, second region"
MALWARE_SCAN = "malware scanning"
DETAILED_METRICS = "API detailed metrics"
CATEGORIES = (RUN, BACKUPS, MIGRATION_VPN, BACKUP_COPY, MALWARE_SCAN, DETAILED_METRICS, MIGRATION)
ONE_OFF = frozenset({MIGRATION})


@dataclass(frozen=True)
class Usage:
    """The usage assumptions (command-line options); each one is a figure to argue about."""

    requests: int = 1_000_000  # API requests a month
    documents_gb: float = 1024.0  # documents stored (the legacy share is about 1 TB)
    average_document_mb: float = 2.0  # for object counts (monitoring fees, requests)
    uploaded_gb: float = 10.0  # new documents a month (malware scanning, PUTs)
    monthly_active_users: int = 200
    vpn_hours: float = HOURS_A_MONTH  # while the VPN to the datacenter exists
    database_gb: float = 5.0  # Aurora storage (the legacy dump is about 5 GB)
    # Hours a month an auto-pausing database is awake; None: 0 when idle, else all month.
    database_awake_hours: float | None = None
    acu_seconds_per_request: float = 0.05  # extra capacity a request costs above the floor
    io_per_request: float = 20.0  # Aurora storage I/Os per API request
    backup_daily_change_percent: float = 2.0
    function_ms_per_request: float = 150.0
    cold_start_percent: float = 1.0  # requests that start an execution environment
    log_kb_per_request: float = 2.0  # function and access logs per request
    waf_log_kb_per_request: float = 1.5
    flow_logs_gb: float = 1.0  # VPC flow logs a month
    downloads_per_request: float = 0.05
    # Intelligent-Tiering: where the stored documents sit (the rest in Archive Instant Access).
    frequent_percent: float = 20.0
    infrequent_percent: float = 30.0
    cloudfront_gb: float = 50.0  # web application and API bytes to browsers
    dms_hours: float = 168.0  # DMS full load and change capture until the cutover (+48 h billed)

    @property
    def idle(self) -> bool:
        return self.requests == 0

    @property
    def awake_hours(self) -> float:
        if self.database_awake_hours is not None:
            return self.database_awake_hours
        return 0.0 if self.idle else float(HOURS_A_MONTH)

    @property
    def objects(self) -> float:
        return self.documents_gb * 1024 / self.average_document_mb

    @property
    def uploads(self) -> float:
        return self.uploaded_gb * 1024 / self.average_document_mb


@dataclass(frozen=True)
class Line:
    env: str
    stack: str
    logical_id: str
    resource_type: str
    item: str
    quantity: float
    unit: str
    price_key: str | None
    unit_usd: float | None
    category: str = RUN

    @property
    def usd(self) -> float | None:
        if self.price_key is None:
            return 0.0
        return None if self.unit_usd is None else self.quantity * self.unit_usd

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "usd": self.usd, "one_off": self.category in ONE_OFF}


@dataclass
class Resource:
    """One resource of a template, with what a rule needs to price it."""

    env: str
    stack: str
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    template: Mapping[str, Any]
    usage: Usage
    prices: PriceBook
    lines: list[Line] = field(default_factory=list)

    def add(
        self,
        item: str,
        quantity: float,
        price_key: str | None,
        *,
        category: str = RUN,
        unit: str | None = None,
    ) -> None:
        """A line of ``quantity`` at the price ``price_key`` (None: free, said in ``item``)."""
        price = self.prices.get(price_key) if price_key else None
        self.lines.append(
            Line(
                env=self.env,
                stack=self.stack,
                logical_id=self.logical_id,
                resource_type=self.type,
                item=item,
                quantity=quantity,
                unit=unit or (price.unit if price else ""),
                price_key=price_key,
                unit_usd=price.usd if price else None,
                category=category,
            )
        )

    def resources(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        """This template's resources of one type, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource.get("Type") == resource_type
        }

    def referenced(self, value: Any) -> Mapping[str, Any] | None:
        """The resource ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, ...]}`` names in this template."""
        logical_id = None
        if isinstance(value, Mapping):
            if "Ref" in value:
                logical_id = value["Ref"]
            elif "Fn::GetAtt" in value:
                logical_id = value["Fn::GetAtt"][0]
        resource = self.template["Resources"].get(logical_id) if isinstance(logical_id, str) else None
        return resource if isinstance(resource, Mapping) else None


class UnknownResourceTypes(Exception):
    """Resources whose type the model neither prices nor knows to be free."""

    def __init__(self, unknown: Mapping[str, list[str]]) -> None:
        self.unknown = dict(unknown)
        listed = "; ".join(f"{kind} ({', '.join(where)})" for kind, where in sorted(self.unknown.items()))
        super().__init__(
            f"resource types the cost model does not know: {listed}. Price them in "
            "scripts/operator_tools/cost/rules.py (or name them free there, with the reason)"
        )


@dataclass
class Estimate:
    usage: Usage
    lines: list[Line]
    prices: PriceBook

    def environments(self) -> list[str]:
        return sorted({line.env for line in self.lines})

    def total(self, env: str, categories: tuple[str, ...] = CATEGORIES) -> float:
        return sum(line.usd or 0.0 for line in self.lines if line.env == env and line.category in categories)

    def monthly_total(self, env: str) -> float:
        """Every monthly line (what the environment costs while it runs, migration VPN included)."""
        return self.total(env, tuple(c for c in CATEGORIES if c not in ONE_OFF))

    def unpriced(self) -> list[Line]:
        return [line for line in self.lines if line.usd is None]

    def price_keys(self) -> set[str]:
        return {line.price_key for line in self.lines if line.price_key}

    def as_dict(self) -> dict[str, Any]:
        keys = self.price_keys()
        return {
            "usage": asdict(self.usage),
            "environments": {
                env: {
                    "monthly_usd": round(self.monthly_total(env), 2),
                    "by_category_usd": {c: round(self.total(env, (c,)), 2) for c in CATEGORIES},
                    "lines": [line.as_dict() for line in self.lines if line.env == env],
                }
                for env in self.environments()
            },
            "unpriced": [line.as_dict() for line in self.unpriced()],
            "prices": {
                "consulted": self.prices.consulted,
                "region": self.prices.region,
                "used": [asdict(price) for price in self.prices.used(keys)],
                "other_region": [price.key for price in self.prices.foreign(keys)],
            },
        }


def estimate(
    templates: Mapping[str, Mapping[str, Mapping[str, Any]]], usage: Usage, prices: PriceBook
) -> Estimate:
    """Price every resource of ``templates`` (environment -> stack -> template)."""
    from scripts.operator_tools.cost.rules import FREE_TYPES, RULES

    lines: list[Line] = []
    unknown: dict[str, list[str]] = {}
    for env, stacks in templates.items():
        for stack, template in stacks.items():
            for logical_id, resource in template["Resources"].items():
                kind = str(resource.get("Type"))
                rule = RULES.get(kind)
                if rule is None:
                    if kind not in FREE_TYPES and not kind.startswith("Custom::"):
                        unknown.setdefault(kind, []).append(f"{env}/{stack}/{logical_id}")
                    continue
                context = Resource(
                    env, stack, logical_id, kind, resource.get("Properties", {}), template, usage, prices
                )
                rule(context)
                lines.extend(context.lines)
    if unknown:
        raise UnknownResourceTypes(unknown)
    return Estimate(usage=usage, lines=lines, prices=prices)

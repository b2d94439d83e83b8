"""What each environment costs a month, line by line, from the synthesized templates.

    python -m scripts.cost_estimate                       # every environment of cdk.json
    python -m scripts.cost_estimate --env dev --idle      # dev with no traffic
    python -m scripts.cost_estimate --requests 3000000 --output cost.json
    python -m scripts.cost_estimate --templates cdk.out   # templates of an earlier cdk synth

The app of cdk.json is synthesized here (no asset bundling), or the templates of ``--templates``
are read: the model prices what will be deployed, not what cdk.json intends. Each resource is
priced by a rule (``scripts/operator_tools/cost/rules.py``) with the prices of
``scripts/operator_tools/cost/prices.json`` (each with its source, region and date; a figure can
be replaced with ``--price KEY=USD``) and the usage assumptions given as options. Lines that
another requirement adds (migration VPN, backup copies, malware scanning, detailed metrics) are
totalled on their own; the legacy migration's one-off charges are apart. The on-premises
baseline (``--onprem-*``) is the operator's own figures. docs/cost.md explains the model.

Exit status: 0 when every resource is priced (and within ``--max-monthly``); 1 when a line has no
price (a null in the price file: give it with --price) or an environment exceeds --max-monthly;
2 on bad input, or on a resource type the model does not know (price it in rules.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.cost.model import (
    CATEGORIES,
    RUN,
    Estimate,
    UnknownResourceTypes,
    Usage,
    estimate,
)
from scripts.operator_tools.cost.onprem import OnPremises
from scripts.operator_tools.cost.prices import PRICE_FILE, PriceBook, parse_override
from scripts.operator_tools.cost.templates import read_cdk_out, synthesize

_HELP = {
    "requests": "API requests a month (default 1000000)",
    "documents_gb": "documents stored, GB (default 1024: the legacy share)",
    "average_document_mb": "average document size, MB (object counts)",
    "uploaded_gb": "new documents a month, GB (scanning, PUT requests)",
    "monthly_active_users": "users signing in each month",
    "vpn_hours": "hours a month the VPN to the datacenter exists (where it is built)",
    "database_gb": "Aurora storage, GB",
    "database_awake_hours": "hours a month an auto-pausing database is awake (default: 0 idle, else 730)",
    "acu_seconds_per_request": "capacity a request adds above the floor, ACU-seconds",
    "io_per_request": "Aurora storage I/Os per request",
    "backup_daily_change_percent": "share of the database changed each day",
    "function_ms_per_request": "function duration per request, ms",
    "cold_start_percent": "requests that start an execution environment, %%",
    "log_kb_per_request": "function logs per request, KB",
    "waf_log_kb_per_request": "WAF logs per request, KB (where WAF logging is on)",
    "flow_logs_gb": "VPC flow logs a month, GB",
    "downloads_per_request": "document downloads per request",
    "frequent_percent": "stored documents in Intelligent-Tiering's frequent tier, %%",
    "infrequent_percent": "stored documents in the infrequent tier, %% (the rest: archive)",
    "cloudfront_gb": "bytes to browsers a month through CloudFront, GB",
    "dms_hours": "hours DMS runs until the cutover",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.cost_estimate",
        description="Monthly cost of each environment, from its synthesized templates.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 priced; 1 unpriced lines or over --max-monthly; 2 bad input, unknown types.",
    )
    parser.add_argument(
        "--env", action="append", dest="environments", help="an environment (repeatable; default all)"
    )
    parser.add_argument("--templates", type=Path, help="a cdk.out folder to read instead of synthesizing")
    parser.add_argument("--output", help="write the estimate as JSON to this file")
    parser.add_argument("--idle", action="store_true", help="no traffic: requests, users and uploads at 0")
    parser.add_argument(
        "--price", action="append", default=[], metavar="KEY=USD", help="replace a price of the file"
    )
    parser.add_argument("--price-file", type=Path, default=PRICE_FILE, help="another price file")
    parser.add_argument(
        "--max-monthly", type=float, help="exit 1 when an environment's monthly total exceeds this"
    )
    parser.add_argument("--all-lines", action="store_true", help="also print the lines that cost nothing")
    usage = parser.add_argument_group("usage assumptions")
    for item in fields(Usage):
        usage.add_argument(
            f"--{item.name.replace('_', '-')}", type=float, default=None, help=_HELP.get(item.name, item.name)
        )
    onprem = parser.add_argument_group("on-premises baseline (your figures; the defaults are placeholders)")
    for item in fields(OnPremises):
        onprem.add_argument(
            f"--onprem-{item.name.replace('_', '-')}", type=float, default=None, help=item.name
        )
    return parser


def usage_from(args: argparse.Namespace) -> Usage:
    values: dict[str, float] = {}
    if args.idle:
        values.update(requests=0, monthly_active_users=0, uploaded_gb=0)
    for item in fields(Usage):
        given = getattr(args, item.name)
        if given is not None:
            if given < 0:
                raise toolkit.ToolError(f"--{item.name.replace('_', '-')}: must be 0 or more")
            values[item.name] = given
    for whole in ("requests", "monthly_active_users"):
        if whole in values:
            values[whole] = int(values[whole])
    return Usage(**values)  # type: ignore[arg-type]


def onprem_from(args: argparse.Namespace) -> OnPremises:
    values = {item.name: getattr(args, f"onprem_{item.name}") for item in fields(OnPremises)}
    given = {name: value for name, value in values.items() if value is not None}
    if "servers" in given:
        given["servers"] = int(given["servers"])
    return OnPremises(**given)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = dict(parse_override(text) for text in args.price)
    prices = PriceBook.load(args.price_file, overrides)
    usage = usage_from(args)
    onprem = onprem_from(args)
    templates = (
        read_cdk_out(args.templates, args.environments) if args.templates else synthesize(args.environments)
    )
    try:
        result = estimate(templates, usage, prices)
    except UnknownResourceTypes as exc:
        raise toolkit.ToolError(str(exc)) from exc
    print_estimate(result, onprem, all_lines=args.all_lines)
    toolkit.write_report(args.output, {**result.as_dict(), "on_premises": onprem.as_dict()})
    over = [
        env
        for env in result.environments()
        if args.max_monthly is not None and result.monthly_total(env) > args.max_monthly
    ]
    for env in over:
        print(
            f"{env}: ${result.monthly_total(env):,.2f} a month exceeds --max-monthly ${args.max_monthly:,.2f}"
        )
    return toolkit.EXIT_FAILED if result.unpriced() or over else toolkit.EXIT_OK


def _money(usd: float | None) -> str:
    return "unpriced" if usd is None else f"{usd:10,.2f}"


def print_estimate(result: Estimate, onprem: OnPremises, *, all_lines: bool = False) -> None:
    out: list[str] = [
        f"Prices: {result.prices.region} price file, consulted {result.prices.consulted} (figures per region "
        "in scripts/operator_tools/cost/prices.json)",
    ]
    foreign = result.prices.foreign(result.price_keys())
    if foreign:
        listed = ", ".join(f"{price.key} ({price.region})" for price in foreign)
        out.append(f"Not {result.prices.region} figures (none found for it; see docs/cost.md): {listed}")
    for env in result.environments():
        out += ["", f"== {env} ==", f"{'stack':<12} {'resource':<44} {'item':<52} {'USD/month':>10}"]
        for category in CATEGORIES:
            lines = [line for line in result.lines if line.env == env and line.category == category]
            shown = [line for line in lines if all_lines or line.usd is None or line.usd >= 0.005]
            if not shown:
                continue
            if category != RUN:
                out.append(f"-- {category}")
            for line in shown:
                resource = f"{line.logical_id[:30]} ({line.resource_type.split('::')[1]})"
                out.append(
                    f"{line.stack[:12]:<12} {resource[:44]:<44} {line.item[:52]:<52} {_money(line.usd)}"
                )
        for category in CATEGORIES:
            total = result.total(env, (category,))
            if total or category == RUN:
                out.append(f"{'':<12} {'total: ' + category:<97} {_money(total)}")
        out.append(f"{'':<12} {'monthly total (every monthly line)':<97} {_money(result.monthly_total(env))}")
    out += ["", "== on-premises baseline (your figures; see --onprem-*) =="]
    out += [f"{'':<12} {item:<97} {_money(usd)}" for item, usd in onprem.lines()]
    out.append(f"{'':<12} {'monthly total':<97} {_money(onprem.total())}")
    for line in result.unpriced():
        out.append(
            f"unpriced: {line.env}/{line.stack}/{line.logical_id} {line.item}: "
            f"give --price {line.price_key}=USD"
        )
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(toolkit.run(main))

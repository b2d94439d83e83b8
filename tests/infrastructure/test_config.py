"""The configuration model: cdk.json parses, and every mistake fails naming its key."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from app import build_app
from stacks.config import ConfigError, load_config
from tests.infrastructure.conftest import cdk_context, with_overrides


def patronus(**overrides: Any) -> dict[str, Any]:
    context = cdk_context()
    return with_overrides(context, "dev", overrides)["patronus"] if overrides else context["patronus"]


def test_cdk_json_describes_dev_and_prod() -> None:
    # Given the committed cdk.json, When it is parsed
    configs = {c.name: c for c in load_config(patronus())}
    # Then both environments exist, with the shared defaults merged in
    assert set(configs) >= {"dev", "prod"}
    dev, prod = configs["dev"], configs["prod"]
    assert dev.region == prod.region == "eu-west-3"
    assert len(dev.network.availability_zones) == 2
    assert len(prod.network.availability_zones) == 3
    assert prod.database.backup_retention_days == 35
    assert prod.database.deletion_protection and not dev.database.deletion_protection
    assert dev.database.app_user == prod.database.app_user == "patronus_app"
    assert [str(c) for c in prod.network.on_premises_cidrs] == ["10.0.10.0/24", "10.0.20.0/24"]


def test_one_environment_can_be_selected() -> None:
    configs = load_config(patronus(), only="prod")
    assert [c.name for c in configs] == ["prod"]


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="env: unknown environment 'staging'"):
        load_config(patronus(), only="staging")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"database.max_acu": 512}, "patronus.environments.dev.database.max_acu"),
        ({"database.min_acu": 0.3}, "patronus.environments.dev.database.min_acu"),
        ({"database.backup_window": "25:00-26:00"}, "patronus.environments.dev.database.backup_window"),
        ({"database.max_ACU": 4}, "patronus.environments.dev.database.max_ACU"),
        ({"api.mfa": "sometimes"}, "patronus.environments.dev.api.mfa"),
        (
            {"network.flow_logs_retention_days": 10},
            "patronus.environments.dev.network.flow_logs_retention_days",
        ),
        ({"monitoring.alarm_email": "nobody"}, "patronus.environments.dev.monitoring.alarm_email"),
        (
            {"network.availability_zones": ["eu-west-3a"]},
            "patronus.environments.dev.network.availability_zones",
        ),
        ({"api.unit_groups": ["unit-Litigation"]}, "patronus.environments.dev.api"),
        ({"api.unit_groups": ["litigation"]}, "patronus.environments.dev.api"),
        ({"api.unit_prefix": "u"}, "patronus.environments.dev.api"),
    ],
)
def test_a_wrong_value_names_its_key(overrides: dict[str, Any], key: str) -> None:
    # Given a cdk.json context with one wrong value, When it is parsed, Then the error names it
    with pytest.raises(ConfigError) as raised:
        load_config(patronus(**overrides))
    assert key in str(raised.value)


def test_a_missing_key_is_named() -> None:
    context = patronus()
    del context["environments"]["dev"]["monitoring"]
    with pytest.raises(ConfigError, match=r"patronus\.environments\.dev\.monitoring: Field required"):
        load_config(context)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.16.0/20", "10.0.0.0/12"])
def test_a_vpc_range_overlapping_the_datacenter_is_refused(cidr: str) -> None:
    # Given a VPC CIDR that contains a legacy server range (10.0.10.0/24 or 10.0.20.0/24)
    with pytest.raises(ConfigError, match=r"network: Value error, cidr .* overlaps the on-premises range"):
        load_config(patronus(**{"network.cidr": cidr}))


def test_availability_zones_must_belong_to_the_region() -> None:
    with pytest.raises(ConfigError, match="is not a zone of region eu-west-3"):
        load_config(patronus(**{"network.availability_zones": ["eu-west-1a", "eu-west-1b"]}))


def test_an_enabled_vpn_needs_the_customer_gateway() -> None:
    with pytest.raises(ConfigError, match=r"network\.vpn: .*customer_gateway_ip is required"):
        load_config(patronus(**{"network.vpn.enabled": True}))


def test_the_legacy_migration_section_is_typed_and_off_unless_enabled() -> None:
    configs = {c.name: c for c in load_config(patronus())}
    # dev: the default (no legacy migration stack); prod: the example with DMS and DataSync
    assert configs["dev"].legacy_migration.enabled is False and configs["dev"].legacy_migration.dms is None
    prod = configs["prod"].legacy_migration
    assert prod.enabled and prod.dms is not None and prod.datasync is not None
    assert str(prod.dms.source_host) == "10.0.20.2" and prod.datasync.smb_server == "10.0.20.1"
    # An unknown key is refused there too (tests/infrastructure/test_legacy_migration_stack.py has more)
    with pytest.raises(ConfigError, match=r"dev\.legacy_migration\.dms\.replication_capacity: Extra inputs"):
        load_config(patronus(**{"legacy_migration": {"dms": {"replication_capacity": 4}}}), only="dev")


def test_synth_fails_on_a_bad_config_before_building_anything() -> None:
    # Given an app whose context has a wrong value
    context = cdk_context(env="dev")
    context["patronus"]["environments"]["dev"]["database"]["min_acu"] = -1
    app = cdk.App(context=context)
    # When the app is built, Then it fails naming the key and no stage was created
    with pytest.raises(ConfigError, match=r"dev\.database\.min_acu"):
        build_app(app, nag=False)
    assert not app.node.children


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # Auto-pause behind a proxy: the proxy's connections keep the cluster awake
        (
            {"database.min_acu": 0, "database.proxy": {"enabled": True}},
            r"database: .*min_acu 0 \(auto-pause\) cannot work behind RDS Proxy",
        ),
        # Auto-pause before Aurora MySQL 3.08
        (
            {"database.engine_version": "3.07.1"},
            r"database: .*needs Aurora MySQL 3\.08\.0 or later, not 3\.07\.1",
        ),
        # A pause delay without a 0-ACU floor
        ({"database.min_acu": 0.5}, r"database: .*auto_pause_after_seconds needs min_acu 0"),
        # Aurora's range for the pause delay: 5 minutes to a day
        (
            {"database.auto_pause_after_seconds": 60},
            r"database\.auto_pause_after_seconds: .*greater than or equal to 300",
        ),
        # More endpoint zones than the VPC has
        (
            {"network.interface_endpoint_zones": 3},
            r"network: .*interface_endpoint_zones 3 exceeds the 2 availability",
        ),
        # Archive tiers outside Intelligent-Tiering
        (
            {"storage.legacy_documents": {"storage_class": "STANDARD", "archive_access_after_days": 90}},
            r"storage\.legacy_documents: .*archive tiers belong to storage_class INTELLIGENT_TIERING",
        ),
        (
            {
                "storage.legacy_documents": {
                    "archive_access_after_days": 200,
                    "deep_archive_access_after_days": 180,
                }
            },
            r"storage\.legacy_documents: .*deep_archive_access_after_days must exceed",
        ),
        (
            {"storage.legacy_documents": {"storage_class": "GLACIER"}},
            r"storage\.legacy_documents\.storage_class",
        ),
    ],
)
def test_a_cost_knob_out_of_its_rules_is_refused_naming_the_key(
    overrides: dict[str, Any], message: str
) -> None:
    # Given dev (min_acu 0, no proxy, pause after 300 s) with one knob set against its rules
    # When the context is parsed, Then the error names the key and says why
    with pytest.raises(ConfigError, match=rf"patronus\.environments\.dev\.{message}"):
        load_config(patronus(**overrides))


def test_the_cost_defaults_dev_pauses_without_reader_or_proxy_prod_keeps_both() -> None:
    configs = {c.name: c for c in load_config(patronus())}
    dev, prod = configs["dev"].database, configs["prod"].database
    assert dev.auto_pauses and not dev.reader and not dev.proxy.enabled
    assert dev.pause_delay_seconds == 300
    assert (dev.resume_wait_seconds, dev.client_retry_after_seconds) == (15, 15)
    assert configs["dev"].db_connect_timeout_seconds == 15
    assert prod.reader and prod.proxy.enabled and prod.min_acu == 0.5 and not prod.auto_pauses
    assert (prod.resume_wait_seconds, prod.client_retry_after_seconds) == (None, 5)
    assert configs["prod"].db_connect_timeout_seconds == 3


def test_functions_that_could_open_more_connections_than_the_proxy_allows_are_refused() -> None:
    # Given prod (max 16 ACU: max_connections 2000, 90% for the proxy: 1800) with 1800 API
    # environments, the 50 of the events function and the one of the upload expiry
    overrides = {"api.api_function": {"memory_mb": 1024, "timeout_seconds": 20, "reserved_concurrency": 1800}}
    # Then synth refuses it, naming the keys to change and the budget
    with pytest.raises(ConfigError) as refused:
        load_config(with_overrides(cdk_context(), "prod", overrides)["patronus"], only="prod")
    message = str(refused.value)
    assert (
        "api.api_function.reserved_concurrency (1800) + api.events_function.reserved_concurrency (50)"
        " + api.upload_expiry_function.reserved_concurrency (1)" in message
    )
    assert "= 1851 database connections, more than the 1800" in message
    assert "database.max_acu 16" in message and "database.proxy.max_connections_percent 90%" in message


def test_without_a_proxy_the_functions_share_the_writers_max_connections() -> None:
    # Given dev (max 4 ACU: max_connections 135, no proxy) with 200 API environments
    overrides = {"api.api_function": {"memory_mb": 1024, "timeout_seconds": 26, "reserved_concurrency": 200}}
    with pytest.raises(ConfigError) as refused:
        load_config(patronus(**overrides), only="dev")
    message = str(refused.value)
    assert "= 211 database connections, more than the 135" in message
    assert "max_connections_percent" not in message


def test_a_function_holding_connections_must_have_a_reserved_concurrency() -> None:
    overrides = {"api.events_function": {"memory_mb": 512, "timeout_seconds": 60}}
    with pytest.raises(ConfigError, match=r"api\.events_function\.reserved_concurrency must be set"):
        load_config(patronus(**overrides), only="dev")


def test_the_budget_follows_the_maximum_capacity() -> None:
    # Given the same 200 environments, with the database allowed to reach 16 ACU (2000 connections)
    overrides = {
        "api.api_function": {"memory_mb": 1024, "timeout_seconds": 26, "reserved_concurrency": 200},
        "database.max_acu": 16,
    }
    # Then the configuration is accepted
    (config,) = load_config(patronus(**overrides), only="dev")
    assert config.api.api_function.reserved_concurrency == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"api.api_function": {"memory_mb": 1024, "timeout_seconds": 29, "reserved_concurrency": 50}},
            r"api.api_function.timeout_seconds \(29\) must leave headroom .* at most 28",
        ),
        (
            {"api.db_query_timeout_seconds": 15},
            r"may take 30 s \(the 15 s wait through a resume .* more than "
            r"api.api_function.timeout_seconds \(26\)",
        ),
        ({"backup.copy_to_region": "eu-west-3"}, r"backup\.copy_to_region must be another region"),
    ],
)
def test_deadlines_and_backup_copies_are_checked(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(patronus(**overrides), only="dev")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"web.sign_in_domain_prefix": "Patronus_Dev"},
            r"dev\.web\.sign_in_domain_prefix: String should match",
        ),
        ({"web.sign_in_domain_prefix": "patronus-cognito"}, r"sign_in_domain_prefix: .*containing 'cognito'"),
        (
            {"web.domain_name": "patronus.example.org"},
            r"dev\.web: .*domain_name and certificate_arn go together",
        ),
        (
            {
                "web.domain_name": "patronus.example.org",
                "web.certificate_arn": "arn:aws:acm:eu-west-3:123456789012:certificate/"
                "00000000-0000-0000-0000-000000000000",
            },
            r"dev\.web\.certificate_arn: .*ACM certificate in us-east-1",
        ),
        ({"web.price_class": "PriceClass_50"}, r"dev\.web\.price_class"),
        ({"web.id_token_minutes": 720, "web.refresh_token_hours": 12}, r"refresh_token_hours must outlast"),
    ],
)
def test_web_mistakes_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(patronus(**overrides), only="dev")


def test_a_custom_domain_takes_a_us_east_1_certificate_of_any_account() -> None:
    arn = (
        "arn:${AWS::Partition}:acm:us-east-1:${AWS::AccountId}:certificate/"
        "00000000-0000-0000-0000-000000000000"
    )
    (config,) = load_config(
        patronus(**{"web.domain_name": "patronus.example.org", "web.certificate_arn": arn}), only="dev"
    )
    assert (config.web.domain_name, config.web.certificate_arn) == ("patronus.example.org", arn)

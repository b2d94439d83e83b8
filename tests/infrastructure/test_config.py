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

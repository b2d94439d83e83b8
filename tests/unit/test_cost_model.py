"""The cost model's rules on small templates, and its command line (no synthesis)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scripts import cost_estimate
from scripts.operator_tools.cost.model import UnknownResourceTypes, Usage, estimate
from scripts.operator_tools.cost.prices import PriceBook


def _cluster(min_acu: float, *, instances: int, proxy: bool) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Cluster": {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {"ServerlessV2ScalingConfiguration": {"MinCapacity": min_acu, "MaxCapacity": 4}},
        }
    }
    for index in range(instances):
        resources[f"Instance{index}"] = {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}, "DBInstanceClass": "db.serverless"},
        }
    if proxy:
        resources["Proxy"] = {"Type": "AWS::RDS::DBProxy", "Properties": {}}
        resources["Targets"] = {
            "Type": "AWS::RDS::DBProxyTargetGroup",
            "Properties": {"DBProxyName": {"Ref": "Proxy"}, "DBClusterIdentifiers": [{"Ref": "Cluster"}]},
        }
    return {"Resources": resources}


def _usd(templates: dict[str, Any], usage: Usage, resource_type: str) -> float:
    result = estimate(templates, usage, PriceBook.load())
    return sum(line.usd or 0 for line in result.lines if line.resource_type == resource_type)


def test_a_proxy_is_billed_8_acu_even_behind_one_small_instance() -> None:
    templates = {"env": {"database": _cluster(0.5, instances=1, proxy=True)}}
    price = PriceBook.load().get("rds_proxy.serverless_acu_hour").usd
    assert price is not None
    assert _usd(templates, Usage(requests=0), "AWS::RDS::DBProxy") == pytest.approx(8 * 730 * price)


def test_an_auto_pausing_instance_costs_nothing_idle_and_its_awake_hours_otherwise() -> None:
    templates = {"env": {"database": _cluster(0, instances=1, proxy=False)}}
    assert _usd(templates, Usage(requests=0), "AWS::RDS::DBInstance") == 0
    awake = _usd(templates, Usage(requests=0, database_awake_hours=100), "AWS::RDS::DBInstance")
    always = _usd(templates, Usage(requests=0, database_awake_hours=730), "AWS::RDS::DBInstance")
    assert 0 < awake < always
    # A 0.5-ACU floor costs what an always-awake paused-capable instance costs
    floor = {"env": {"database": _cluster(0.5, instances=1, proxy=False)}}
    assert _usd(floor, Usage(requests=0), "AWS::RDS::DBInstance") == pytest.approx(always)


def test_a_resource_type_the_model_does_not_know_is_refused_by_name() -> None:
    templates = {"env": {"stack": {"Resources": {"Queue": {"Type": "AWS::MQ::Broker", "Properties": {}}}}}}
    with pytest.raises(UnknownResourceTypes, match=r"AWS::MQ::Broker \(env/stack/Queue\)"):
        estimate(templates, Usage(), PriceBook.load())


def _cdk_out(tmp_path: Path, resources: dict[str, Any]) -> Path:
    folder = tmp_path / "cdk.out" / "assembly-dev"
    folder.mkdir(parents=True)
    (folder / "devStack.template.json").write_text(json.dumps({"Resources": resources}))
    return tmp_path / "cdk.out"


def test_the_command_exits_2_on_an_unknown_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cdk_out = _cdk_out(tmp_path, {"Broker": {"Type": "AWS::MQ::Broker", "Properties": {}}})
    code = cost_estimate.toolkit.run(cost_estimate.main, ["--templates", str(cdk_out)])
    assert code == 2
    assert "AWS::MQ::Broker" in capsys.readouterr().err


_SCAN_PLAN = {"Scan": {"Type": "AWS::GuardDuty::MalwareProtectionPlan", "Properties": {}}}


def test_an_unpriced_line_exits_1_until_its_price_is_given(tmp_path: Path) -> None:
    # A price file where no source gave the malware-scanning prices (null)
    data = json.loads(Path("scripts/operator_tools/cost/prices.json").read_text())
    for key in ("guardduty.malware_s3.gb_scanned", "guardduty.malware_s3.1k_objects"):
        data["prices"][key]["usd"] = None
    price_file = tmp_path / "prices.json"
    price_file.write_text(json.dumps(data))
    cdk_out = _cdk_out(tmp_path, _SCAN_PLAN)
    base = ["--templates", str(cdk_out), "--price-file", str(price_file)]
    assert cost_estimate.main(base) == 1
    report = tmp_path / "cost.json"
    given = [
        "--price",
        "guardduty.malware_s3.gb_scanned=0.1",
        "--price",
        "guardduty.malware_s3.1k_objects=0.2",
    ]
    assert cost_estimate.main([*base, "--uploaded-gb", "10", *given, "--output", str(report)]) == 0
    dev = json.loads(report.read_text())["environments"]["dev"]
    assert dev["by_category_usd"]["malware scanning"] == pytest.approx(
        10 * 0.1 + 10 * 1024 / 2 / 1000 * 0.2, abs=0.01
    )


def test_a_malware_protection_plan_is_priced_per_gb_uploaded_and_per_object(tmp_path: Path) -> None:
    prices = PriceBook.load()
    per_gb = prices.get("guardduty.malware_s3.gb_scanned").usd
    per_1k = prices.get("guardduty.malware_s3.1k_objects").usd
    assert per_gb is not None and per_1k is not None
    usage = Usage(uploaded_gb=20, average_document_mb=0.5)
    result = estimate({"prod": {"storage": {"Resources": _SCAN_PLAN}}}, usage, prices)
    lines = {line.item: line for line in result.lines}
    assert lines["uploads scanned"].quantity == pytest.approx(20)
    assert lines["objects evaluated"].quantity == pytest.approx(20 * 1024 / 0.5 / 1000)
    assert result.total("prod", ("malware scanning",)) == pytest.approx(20 * per_gb + 40.96 * per_1k)
    assert result.total("prod", ("run",)) == 0
    # the committed price file prices it: the command exits 0 (nothing unpriced)
    assert cost_estimate.main(["--templates", str(_cdk_out(tmp_path, _SCAN_PLAN))]) == 0


def test_prices_of_another_region_are_named_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_out = _cdk_out(tmp_path, _SCAN_PLAN)
    report = tmp_path / "cost.json"
    assert cost_estimate.main(["--templates", str(cdk_out), "--output", str(report)]) == 0
    other = json.loads(report.read_text())["prices"]["other_region"]
    book = PriceBook.load()
    assert other == sorted(
        key
        for key in ("guardduty.malware_s3.1k_objects", "guardduty.malware_s3.gb_scanned")
        if book.get(key).region not in {"eu-west-3", "global"}
    )
    printed = capsys.readouterr().out.splitlines()
    named = [line for line in printed if line.startswith("Not eu-west-3 figures")]
    assert len(named) == (1 if other else 0)
    for key in other:
        assert f"{key} ({book.get(key).region})" in named[0]


def test_max_monthly_fails_an_environment_over_budget(tmp_path: Path) -> None:
    cdk_out = _cdk_out(tmp_path, {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}})
    assert cost_estimate.main(["--templates", str(cdk_out), "--max-monthly", "5"]) == 0
    assert cost_estimate.main(["--templates", str(cdk_out), "--max-monthly", "0.5"]) == 1


def test_every_price_names_its_source_region_and_date() -> None:
    data = json.loads(Path("scripts/operator_tools/cost/prices.json").read_text())
    assert data["region"] == "eu-west-3"
    for key, entry in data["prices"].items():
        assert entry["source"].startswith("https://"), key
        assert entry["region"] in {"eu-west-3", "us-east-1", "us-east-2", "global"}, key
        assert entry["usd"] is None or entry["usd"] >= 0, key
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", entry["as_of"]), key
        if entry["region"] not in {"eu-west-3", "global"}:
            # a figure of another region says why it stands in for the Paris one
            assert "Paris" in entry.get("note", ""), key


def test_the_copy_vault_key_is_a_line_of_the_backup_copy() -> None:
    # Given the backup stack (plan, vault and its key) and the copy vault's stack in the second region
    key = {"Type": "AWS::KMS::Key", "Properties": {}}

    def vault(key_id: str) -> dict[str, Any]:
        return {
            "Type": "AWS::Backup::BackupVault",
            "Properties": {"EncryptionKeyArn": {"Fn::GetAtt": [key_id, "Arn"]}},
        }

    templates = {
        "prod": {
            "backup": {
                "Resources": {
                    "Key": key,
                    "Vault": vault("Key"),
                    "Plan": {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {}}},
                }
            },
            "backup_copy": {"Resources": {"CopyKey": key, "CopyVault": vault("CopyKey"), "Other": key}},
        }
    }
    # When it is priced
    lines = estimate(templates, Usage(), PriceBook.load()).lines
    categories = {
        (line.stack, line.logical_id): line.category
        for line in lines
        if line.resource_type == "AWS::KMS::Key"
    }
    # Then the copy vault's key is on the copy's own line, the others on what runs
    assert categories == {
        ("backup", "Key"): "run",
        ("backup_copy", "CopyKey"): "backup copy, second region",
        ("backup_copy", "Other"): "run",
    }

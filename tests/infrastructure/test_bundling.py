"""A real synth with local bundling (no Docker), checked the way SAM reads it.

SAM (``sam local invoke -t cdk.out/...template.json``) finds each function's code through the
``aws:asset:path`` / ``aws:asset:property`` metadata; that folder must hold the handler module,
and the project layer folder must hold ``python/patronus`` and PyMySQL built for arm64.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.code import (
    PIP_PLATFORM,
    BundlingError,
    check_layer_requirements,
    pip_install_command,
    powertools_layer_arn,
)
from tests.infrastructure.conftest import Synth, cdk_context, synthesize

HANDLERS = {
    "patronus_api.handler.handler",
    "patronus_document_events.handler.handler",
    "patronus_db_migrate.handler.handler",
    "patronus_upload_expiry.handler.handler",
}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Synth, Path]:
    outdir = Path(tmp_path_factory.mktemp("bundled"))
    # Given the dev environment, When it is synthesized with bundling and asset metadata on
    synth = synthesize(outdir, bundling=True, asset_metadata=True, context=cdk_context(env="dev"))
    return synth, outdir


def resources(synth: Synth, kind: str) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for template_file in synth.template_files():
        template = json.loads(template_file.read_text())
        for resource in template["Resources"].values():
            if resource["Type"] == kind:
                found.append((template_file.parent, resource))
    return found


def test_every_function_points_sam_at_a_folder_with_its_handler(bundled: tuple[Synth, Path]) -> None:
    synth, _ = bundled
    functions = [
        (folder, r)
        for folder, r in resources(synth, "AWS::Lambda::Function")
        if r["Properties"].get("Handler") in HANDLERS
    ]
    assert {r["Properties"]["Handler"] for _, r in functions} == HANDLERS
    for folder, function in functions:
        metadata = function["Metadata"]
        assert metadata["aws:asset:property"] == "Code"
        code = (folder / metadata["aws:asset:path"]).resolve()
        module = function["Properties"]["Handler"].rsplit(".", 1)[0]
        assert (code / (module.replace(".", "/") + ".py")).is_file(), f"{module} missing in {code}"
        assert not list(code.rglob("__pycache__"))


def test_the_project_layer_is_built_for_arm64_without_the_powertools_packages(
    bundled: tuple[Synth, Path],
) -> None:
    synth, _ = bundled
    # aws-cdk-lib's AWS CLI layer of the web stack's bucket deployment is prebuilt: not ours
    layers = [
        (folder, layer)
        for folder, layer in resources(synth, "AWS::Lambda::LayerVersion")
        if layer["Properties"].get("Description") != "/opt/awscli/aws"
    ]
    assert layers
    for folder, layer in layers:
        metadata = layer["Metadata"]
        assert metadata["aws:asset:property"] == "Content"
        assert metadata["aws:asset:is-bundled"] is True
        content = (folder / metadata["aws:asset:path"]).resolve()
        assert (content / "python" / "patronus" / "__init__.py").is_file()
        assert (content / "python" / "patronus" / "schema" / "sql").is_dir()
        assert (content / "python" / "pymysql" / "__init__.py").is_file()
        assert not (content / "python" / "pydantic").exists()
        assert not (content / "python" / "aws_lambda_powertools").exists()
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_functions_use_the_pinned_powertools_layer_of_their_region(bundled: tuple[Synth, Path]) -> None:
    synth, _ = bundled
    for _, function in resources(synth, "AWS::Lambda::Function"):
        if function["Properties"].get("Handler") in HANDLERS:
            assert powertools_layer_arn("eu-west-3", 27) in function["Properties"]["Layers"]


def test_pip_targets_linux_arm64_wheels_only(tmp_path: Path) -> None:
    command = pip_install_command(tmp_path / "requirements.txt", tmp_path / "python")
    assert command[command.index("--platform") + 1] == PIP_PLATFORM == "manylinux2014_aarch64"
    assert "--only-binary=:all:" in command


@pytest.mark.parametrize("package", ["pydantic==2.0", "aws-lambda-powertools", "boto3>=1.0", "aws_xray_sdk"])
def test_the_layer_refuses_packages_that_powertools_or_the_runtime_provide(
    tmp_path: Path, package: str
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"PyMySQL==1.2.4\n{package}  # comment\n")
    with pytest.raises(BundlingError, match="provided by the Powertools layer or the Lambda runtime"):
        check_layer_requirements(requirements)


def test_the_powertools_arn_is_built_from_region_and_version() -> None:
    assert powertools_layer_arn("eu-central-1", 30) == (
        "arn:aws:lambda:eu-central-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:30"
    )

"""Lambda code and layers: bundled on this machine, without Docker.

* Function folders (``functions/<name>``) hold pure Python: they are shipped as they are.
* The project layer copies ``layers/patronus/python`` and pip-installs
  ``layers/patronus/requirements.txt`` into ``python/`` for Linux arm64
  (``--platform manylinux2014_aarch64 --only-binary=:all:``), so wheels match the Lambda
  architecture whatever machine runs the synth. Docker bundling is only the fallback when the
  local bundling cannot run (no pip).
* Powertools (with pydantic and the X-Ray SDK) comes from the AWS-managed layer, pinned by
  version; the project layer must not ship them again.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import BundlingOptions, FileSystem, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.packaging import PIP_PLATFORM, PYTHON_VERSION, pip_install_command

__all__ = ["PIP_PLATFORM", "PYTHON_VERSION", "pip_install_command"]

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYER_DIR = REPO_ROOT / "layers" / "patronus"
# Optional: the RDS certificate bundle, shipped with db_migrate to verify the writer's certificate.
RDS_CA_BUNDLE = FUNCTIONS_DIR / "db_migrate" / "certs" / "rds-global-bundle.pem"

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_ACCOUNT = "017000801446"

# Packages that the AWS-managed Powertools layer (or the runtime) already provides.
PROVIDED_BY_RUNTIME_OR_POWERTOOLS = frozenset(
    {"aws-lambda-powertools", "pydantic", "pydantic-core", "aws-xray-sdk", "boto3", "botocore"}
)

# What never belongs in a deployment package.
CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", ".gitkeep", "tests"]


class BundlingError(RuntimeError):
    """The project layer could not be built."""


def function_code(name: str) -> lambda_.Code:
    """The code of ``functions/<name>``, shipped as is (pure Python, no build step)."""
    folder = FUNCTIONS_DIR / name
    if not folder.is_dir():
        raise BundlingError(f"functions/{name} does not exist: every function needs its code folder")
    return lambda_.Code.from_asset(str(folder), exclude=CODE_EXCLUDES)


def powertools_layer_arn(region: str, version: int) -> str:
    """The AWS-managed Powertools for AWS Lambda (Python) v3 layer for arm64, pinned."""
    python_tag = "python" + PYTHON_VERSION.replace(".", "")
    return (
        f"arn:aws:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python_tag}-arm64:{version}"
    )


def powertools_layer(scope: Construct, version: int) -> lambda_.ILayerVersion:
    region = Stack.of(scope).region
    return lambda_.LayerVersion.from_layer_version_arn(
        scope, "PowertoolsLayer", powertools_layer_arn(region, version)
    )


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of ``path`` (comments and blanks dropped)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def check_layer_requirements(path: Path) -> None:
    """Refuse requirements that the managed layer or the runtime already provide."""
    for requirement in read_requirements(path):
        name = requirement.split("==")[0].split(">")[0].split("<")[0].split("[")[0].strip().lower()
        if name.replace("_", "-") in PROVIDED_BY_RUNTIME_OR_POWERTOOLS:
            raise BundlingError(
                f"{path.name}: {name} is provided by the Powertools layer or the Lambda runtime; "
                "shipping it again in the project layer would shadow that version"
            )


@jsii.implements(ILocalBundling)
class LocalLayerBundling:
    """Builds the project layer on the synth machine (jsii passes ``options`` positionally)."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        python_dir = Path(output_dir) / "python"
        requirements = self.source / "requirements.txt"
        check_layer_requirements(requirements)
        shutil.copytree(
            self.source / "python",
            python_dir,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"),
        )
        result = subprocess.run(
            pip_install_command(requirements, python_dir), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BundlingError(f"pip could not build the project layer:\n{result.stderr.strip()}")
        return True


def project_layer(scope: Construct, construct_id: str = "PatronusLayer") -> lambda_.LayerVersion:
    """The ``patronus`` package and its pinned dependencies, one layer version per stack.

    Each stack that needs the layer creates its own version from the same asset (uploaded once):
    sharing one LayerVersion across stacks would export its ARN, and CloudFormation refuses to
    replace an export that another stack imports.
    """
    check_layer_requirements(LAYER_DIR / "requirements.txt")
    code = lambda_.Code.from_asset(
        str(LAYER_DIR),
        exclude=CODE_EXCLUDES,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            platform="linux/arm64",
            local=cast(ILocalBundling, LocalLayerBundling(LAYER_DIR)),
            command=[
                "bash",
                "-c",
                "cp -R /asset-input/python /asset-output/python && "
                "pip install --no-compile -r /asset-input/requirements.txt -t /asset-output/python",
            ],
        ),
    )
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=code,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="Patronus domain package (patronus) and PyMySQL",
    )


@cache
def migration_fingerprint() -> str:
    """One hash of the schema migration set, so the migration custom resource reruns on change."""
    from patronus.schema import discover, fingerprint

    return str(fingerprint(discover()))


def folder_fingerprint(name: str) -> str:
    """The hash CDK gives the code asset of ``functions/<name>`` (same files, same excludes), for
    a custom resource that must run again when its function's code changes."""
    return FileSystem.fingerprint(str(FUNCTIONS_DIR / name), exclude=CODE_EXCLUDES)

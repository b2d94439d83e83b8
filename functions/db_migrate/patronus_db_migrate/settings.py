"""Settings of the schema-migration function, read once from the environment by the handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from patronus.flags import env_flag
from patronus.settings import SettingsError
from patronus.units import DEFAULT_UNIT, check_unit_name

IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"


class SchemaMigrationSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    secret_arn: Annotated[str, Field(min_length=1)]
    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 3306
    database: Annotated[str, Field(pattern=IDENTIFIER)] = "patronus"
    app_user: Annotated[str, Field(pattern=IDENTIFIER)] = "patronus_app"
    region: str = "eu-west-3"
    tls: bool = True
    tls_ca_file: str | None = None
    # Aurora only: create the application user for RDS IAM authentication. MariaDB (the local
    # and test server) has no AWSAuthenticationPlugin, so tests turn it off.
    iam_user: bool = True
    connect_timeout: Annotated[float, Field(gt=0, le=60)] = 10.0
    # The unit that dossiers created before units existed are given (PATRONUS_DEFAULT_UNIT).
    default_unit: str = DEFAULT_UNIT

    @field_validator("default_unit")
    @classmethod
    def _unit_name(cls, value: str) -> str:
        return check_unit_name(value, "")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SchemaMigrationSettings:
        try:
            return cls(
                secret_arn=env["PATRONUS_DB_SECRET_ARN"],
                host=env["PATRONUS_DB_HOST"],
                port=int(env.get("PATRONUS_DB_PORT", "3306")),
                database=env.get("PATRONUS_DB_NAME", "patronus"),
                app_user=env.get("PATRONUS_DB_APP_USER", "patronus_app"),
                region=env.get("PATRONUS_REGION", env.get("AWS_REGION", "eu-west-3")),
                tls=env_flag(env, "PATRONUS_DB_TLS", default=True),
                tls_ca_file=env.get("PATRONUS_DB_TLS_CA_FILE") or None,
                iam_user=env_flag(env, "PATRONUS_DB_IAM_USER", default=True),
                default_unit=env.get("PATRONUS_DEFAULT_UNIT", DEFAULT_UNIT),
            )
        except KeyError as exc:
            raise SettingsError(f"missing configuration variable {exc.args[0]}") from exc
        except (ValidationError, ValueError) as exc:
            raise SettingsError(f"invalid configuration: {exc}") from exc

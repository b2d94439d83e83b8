"""Settings of the migration function, read once from the environment by the handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"


class SettingsError(RuntimeError):
    """The environment does not describe a usable configuration."""


class MigrateSettings(BaseModel):
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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MigrateSettings:
        def flag(name: str, default: str) -> bool:
            return env.get(name, default).strip().lower() in {"1", "true", "yes"}

        try:
            return cls(
                secret_arn=env["PATRONUS_DB_SECRET_ARN"],
                host=env["PATRONUS_DB_HOST"],
                port=int(env.get("PATRONUS_DB_PORT", "3306")),
                database=env.get("PATRONUS_DB_NAME", "patronus"),
                app_user=env.get("PATRONUS_DB_APP_USER", "patronus_app"),
                region=env.get("PATRONUS_REGION", env.get("AWS_REGION", "eu-west-3")),
                tls=flag("PATRONUS_DB_TLS", "true"),
                tls_ca_file=env.get("PATRONUS_DB_TLS_CA_FILE") or None,
                iam_user=flag("PATRONUS_DB_IAM_USER", "true"),
            )
        except KeyError as exc:
            raise SettingsError(f"missing configuration variable {exc.args[0]}") from exc
        except (ValidationError, ValueError) as exc:
            raise SettingsError(f"invalid configuration: {exc}") from exc

"""Typed settings, read once from the environment by the Lambda handlers.

Nothing below the handlers reads ``os.environ``: they receive a :class:`Settings`.
No secret is ever read from the environment: in AWS the database is reached with an RDS IAM
auth token; locally a password may be given for a throwaway server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from patronus.flags import FlagError, env_flag
from patronus.units import DEFAULT_PREFIX, DEFAULT_UNIT, check_prefix, check_unit_name


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 3306
    user: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_]+$")]
    password: Annotated[str | None, Field(repr=False)] = None
    iam_auth: bool = False
    tls: bool = False
    tls_ca_file: str | None = None
    connect_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    # The Retry-After of a 503 when the database cannot be reached: longer where it may be
    # paused (Aurora Serverless v2 at 0 ACU resumes in about 15 s, 30 s after a long pause).
    retry_after: Annotated[int, Field(ge=1, le=300)] = 5
    # Read and write deadline of each statement's round trip.
    query_timeout: Annotated[float, Field(gt=0, le=300)] = 30.0

    @classmethod
    def from_url(cls, url: str, **overrides: object) -> DatabaseSettings:
        """Parse ``mysql://user[:password]@host[:port]/database``."""
        parts = urlsplit(url)
        if parts.scheme not in {"mysql", "mariadb"}:
            raise ValueError(f"database URL must start with mysql://, got {parts.scheme!r}")
        values: dict[str, object] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password) if parts.password else None,
            "name": parts.path.lstrip("/") or "patronus",
        }
        values.update(overrides)
        return cls.model_validate(values)


class StorageSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    region: str = "eu-west-3"
    endpoint_url: str | None = None
    upload_url_ttl: Annotated[int, Field(ge=30, le=3600)] = 300
    download_url_ttl: Annotated[int, Field(ge=30, le=3600)] = 300
    max_upload_bytes: Annotated[int, Field(gt=0)] = 5 * 1024**4
    multipart_threshold: Annotated[int, Field(ge=5 * 1024**2)] = 100 * 1024**2
    multipart_part_size: Annotated[int, Field(ge=5 * 1024**2, le=5 * 1024**3)] = 64 * 1024**2
    # A pending upload not finished (nor restarted) within this many hours is expired.
    pending_upload_max_age_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24


class UnitSettings(BaseModel):
    """Which Cognito groups are units (``prefix``), and the unit of dossiers that predate units."""

    model_config = ConfigDict(frozen=True)

    prefix: str = DEFAULT_PREFIX
    default: str = DEFAULT_UNIT

    @field_validator("prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        return check_prefix(value)

    @model_validator(mode="after")
    def _valid_default(self) -> UnitSettings:
        check_unit_name(self.default, self.prefix)
        return self


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    environment: str = "local"
    database: DatabaseSettings
    storage: StorageSettings
    units: UnitSettings = UnitSettings()
    # Malware scanning of uploads (GuardDuty Malware Protection for S3 in AWS, the EICAR-only
    # scanner of the local stack): a stored upload waits in ``scanning`` for the scan result.
    malware_scanning: bool = False

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if not value.replace("-", "").isalnum():
            raise ValueError("environment must be alphanumeric")
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build the settings from ``PATRONUS_*`` variables; a bad value names the variable."""
        try:
            return cls._from_env(environ)
        except (ValidationError, FlagError, ValueError) as exc:
            raise SettingsError(f"invalid configuration: {exc}") from exc
        except KeyError as exc:
            raise SettingsError(f"missing configuration variable {exc.args[0]}") from exc

    @classmethod
    def _from_env(cls, env: Mapping[str, str]) -> Settings:
        db_overrides: dict[str, object] = {
            "iam_auth": env_flag(env, "PATRONUS_DB_IAM_AUTH"),
            "tls": env_flag(env, "PATRONUS_DB_TLS"),
        }
        for key, name in (
            ("tls_ca_file", "PATRONUS_DB_TLS_CA_FILE"),
            ("connect_timeout", "PATRONUS_DB_CONNECT_TIMEOUT"),
            ("retry_after", "PATRONUS_DB_RETRY_AFTER"),
            ("query_timeout", "PATRONUS_DB_QUERY_TIMEOUT"),
        ):
            if name in env:
                db_overrides[key] = env[name]
        if "PATRONUS_DB_URL" in env:
            database = DatabaseSettings.from_url(env["PATRONUS_DB_URL"], **db_overrides)
        else:
            database = DatabaseSettings.model_validate(
                {
                    "host": env["PATRONUS_DB_HOST"],
                    "port": env.get("PATRONUS_DB_PORT", "3306"),
                    "user": env["PATRONUS_DB_USER"],
                    "name": env.get("PATRONUS_DB_NAME", "patronus"),
                    **db_overrides,
                }
            )
        storage_values: dict[str, object] = {
            "bucket": env["PATRONUS_BUCKET"],
            "region": env.get("PATRONUS_REGION", env.get("AWS_REGION", "eu-west-3")),
            "endpoint_url": env.get("PATRONUS_S3_ENDPOINT_URL") or None,
        }
        for key, name in (
            ("upload_url_ttl", "PATRONUS_UPLOAD_URL_TTL"),
            ("download_url_ttl", "PATRONUS_DOWNLOAD_URL_TTL"),
            ("max_upload_bytes", "PATRONUS_MAX_UPLOAD_BYTES"),
            ("multipart_threshold", "PATRONUS_MULTIPART_THRESHOLD"),
            ("multipart_part_size", "PATRONUS_MULTIPART_PART_SIZE"),
            ("pending_upload_max_age_hours", "PATRONUS_PENDING_UPLOAD_MAX_AGE_HOURS"),
        ):
            if name in env:
                storage_values[key] = env[name]
        return cls(
            environment=env.get("PATRONUS_ENVIRONMENT", "local"),
            database=database,
            storage=StorageSettings.model_validate(storage_values),
            units=UnitSettings(
                prefix=env.get("PATRONUS_UNIT_PREFIX", DEFAULT_PREFIX),
                default=env.get("PATRONUS_DEFAULT_UNIT", DEFAULT_UNIT),
            ),
            malware_scanning=env_flag(env, "PATRONUS_MALWARE_SCANNING"),
        )


class SettingsError(RuntimeError):
    """The environment does not describe a usable configuration."""

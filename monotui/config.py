"""Configuration: a TOML file, overridden by MONOTUI_* environment variables (pydantic-settings).

Where the file is: `--config PATH`, else `$MONOTUI_CONFIG`, else `config.toml` in the user's config directory.
Any problem becomes a `ConfigError` naming the file and the key; the CLI prints it on one line and exits 2
(`check_config` finds every problem at once, for `monotui config check`). Read-only is the one setting no layer
can take back: the file, a source, the environment or a flag may each turn it on, and none can turn it off.
Each source kind is the `SourceBase` subclass that declares its `kind`; monotui/providers/registry.py has its line.
"""

from __future__ import annotations

import functools
import getpass
import inspect
import os
import re
import socket
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from monotui.links import Links, LinkTemplates
from monotui.names import canonical
from monotui.syslog_trail import FACILITIES, TrailConfigError, parse_target

APP_NAME = "monotui"
_INLINE_SECRET_KEYS = ("token", "password", "bearer_token", "api_key")
ENV_PREFIX = "MONOTUI_"
CONFIG_ENV = "MONOTUI_CONFIG"  # the file's path, not a setting
DEFAULT_MAX_RESPONSE_MB = 64  # a 20,000-rollout production answers in about 8 MB


class ConfigError(Exception):
    """A configuration problem; `str()` is the one line shown to the user. `path` is the file, or the name of the
    environment variable (`MONOTUI_…`) the bad value came from."""

    def __init__(self, path: Path | str | None, key: str | None, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"config error in {path}" if path else "config error"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_audit_path() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME)) / "audit.log"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_SOURCE_MODELS: dict[str, type[SourceBase]] = {}  # kind → its config model, in the order declared


class SourceBase(_Strict):
    """What every source shares. A subclass that declares `kind: Literal["…"]` is a source kind: its config
    section, part of `SourceConfig` by that declaration alone (monotui/providers/registry.py says how it is built
    and what it can do)."""

    if TYPE_CHECKING:  # for the type checker only: each kind declares its own Literal
        kind: str

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                      description="shown in the header and in every confirmation; letters, digits, . _ -")
    poll_interval: float = Field(default=2.0, gt=0, le=3600, description="seconds between polls")
    timeout: float = Field(default=5.0, gt=0, le=300, description="seconds before a request counts as failed")
    action_deadline: float | None = Field(
        default=None, gt=0, le=600,
        description="seconds an action may take in all, answer included, before its outcome is unknown "
        "(default: timeout + 5)")
    read_only: bool = Field(default=False, description="true: never send a mutating request to this source")
    links: LinkTemplates | None = Field(default=None, description="URL templates for this source's services "
                                        "(dashboard_url, logs_url, traces_url, commit_url): see [links]")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "kind" not in inspect.get_annotations(cls):
            return  # a base such as HttpSourceBase, or a subclass of a kind (the same kind)
        kinds = get_args(cls.model_fields["kind"].annotation)
        if len(kinds) != 1 or not isinstance(kinds[0], str):
            raise TypeError(f"{cls.__name__}.kind must be one Literal string")
        if kinds[0] in _SOURCE_MODELS and _SOURCE_MODELS[kinds[0]].__qualname__ != cls.__qualname__:
            raise TypeError(f"source kind {kinds[0]!r} is declared twice: {_SOURCE_MODELS[kinds[0]].__name__} and "
                            f"{cls.__name__}")
        _SOURCE_MODELS[kinds[0]] = cls

    @property
    def action_deadline_s(self) -> float:
        return self.action_deadline if self.action_deadline is not None else self.timeout + 5.0

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in _INLINE_SECRET_KEYS:
                if key in data:
                    raise ValueError(
                        f"'{key}' must not be written in the config file: "
                        "use token_env (an environment variable) or token_file"
                    )
        return data


def check_url(url: str) -> str:
    """An http(s) URL with a host and a valid port, and no user name or password in it (secrets stay out of the
    config file: user-info would be sent as Basic auth)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port outside 0-65535
    except ValueError as e:
        raise ValueError(f"not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain a user name or password: use token_env (an environment variable) "
                         "or token_file")
    if not parts.hostname:
        raise ValueError("has no host")
    if port == 0:
        raise ValueError("port 0 is not a port one can connect to")
    return url


def check_token(token: str, origin: str) -> str:
    """Strip one trailing newline; refuse any other whitespace or control character (it would end up in a
    header, and the HTTP library quotes a rejected header's value in its error). Names `origin`, never the value."""
    if token.endswith("\r\n"):
        token = token[:-2]
    elif token.endswith("\n"):
        token = token[:-1]
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in token):
        raise ConfigError(None, None, f"{origin}: the token contains whitespace or control characters "
                                      "(only one trailing newline is allowed)")
    return token


MAX_TOKEN_FILE_BYTES = 64 * 1024  # a bearer token is a few KB at most (a JWT with many claims)


def read_token_file(path: Path) -> str | None:
    """The text of a token file: a regular file of at most MAX_TOKEN_FILE_BYTES, read with that bound. None when
    it does not exist (as a token_env that is unset); ConfigError naming the file for anything else that is not a
    readable token file — a FIFO (whose open or read would wait for a writer forever), a device such as /dev/zero
    (endless), a folder, a socket, no permission, a file too large or not UTF-8."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting; checked with fstat on what
        # was opened, so nothing can be swapped in between the check and the read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as e:  # a folder, a socket (ENXIO), no permission…
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        why = f"not a regular file ({_file_type(mode)})" if not stat.S_ISREG(mode) else f"cannot read: {e.strerror}"
        raise ConfigError(None, None, f"token_file {path}: {why}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigError(None, None, f"token_file {path}: not a regular file ({_file_type(mode)}); "
                                          "a token file must be a plain file")
        os.set_blocking(fd, True)
        data = b""
        while len(data) <= MAX_TOKEN_FILE_BYTES:
            chunk = os.read(fd, MAX_TOKEN_FILE_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as e:
        raise ConfigError(None, None, f"token_file {path}: cannot read: {e.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_TOKEN_FILE_BYTES:
        raise ConfigError(None, None, f"token_file {path}: larger than {MAX_TOKEN_FILE_BYTES // 1024} KB, "
                                      "not a token")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ConfigError(None, None, f"token_file {path}: not UTF-8 text") from None


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a plain file"


class HttpSourceBase(SourceBase):
    """The fields every HTTP-speaking source shares: where, credentials, TLS, and how big an answer may be."""

    url: str = Field(description="base URL")
    token_env: str | None = Field(default=None, description="environment variable holding the bearer token")
    token_file: Path | None = Field(default=None, description="file holding the bearer token")
    verify_tls: bool = Field(default=True, description="false turns TLS certificate verification off")
    ca_bundle: Path | None = Field(default=None, description="CA bundle for https URLs")
    max_response_mb: float = Field(default=DEFAULT_MAX_RESPONSE_MB, gt=0, le=4096,
                                   description="largest answer accepted (after decompression), in MB")

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        return check_url(url)

    @property
    def max_response_bytes(self) -> int:
        return int(self.max_response_mb * 1024 * 1024)

    def token(self) -> str | None:
        """The bearer token, read now from the environment or the file (never stored in config), so a rotated
        token file is picked up. Raises ConfigError (naming the variable or file) for a malformed token."""
        if self.token_env:
            value = os.environ.get(self.token_env)
            if value and value.strip():
                return check_token(value.strip(), f"environment variable {self.token_env}")
        if self.token_file:
            path = self.token_file.expanduser()
            text = read_token_file(path)
            if text is None:
                return None
            return check_token(text, f"token_file {path}") or None
        return None


class HttpSourceConfig(HttpSourceBase):
    """A deploy pipeline speaking the monotui deploy API (docs/deploy-api.md)."""

    kind: Literal["http"]


class OwnerKeys(_Strict):
    """Which Kubernetes annotation or label (annotations first) holds each part of a service's ownership."""

    team: str = Field(default="monotui.dev/team", min_length=1, description="the owning team")
    on_call: str = Field(default="monotui.dev/on-call", min_length=1, description="who is on call, or the rotation")
    runbook: str = Field(default="monotui.dev/runbook", min_length=1, description="the runbook's URL")
    dashboard: str = Field(default="monotui.dev/dashboard", min_length=1, description="the dashboard's URL")


class ArgoRolloutsSourceConfig(SourceBase):
    """Argo Rollouts in one Kubernetes context (or the in-cluster service account), all or some namespaces."""

    kind: Literal["argo-rollouts"]
    context: str | None = Field(default=None, description="kubeconfig context (default: the current one)")
    kubeconfig: Path | None = Field(default=None, description="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    in_cluster: bool = Field(default=False, description="use the pod's service account instead of a kubeconfig")
    namespaces: list[str] = Field(default_factory=list, description="namespaces to watch (empty: all)")
    max_response_mb: float = Field(default=DEFAULT_MAX_RESPONSE_MB, gt=0, le=4096,
                                   description="largest list answer accepted (after decompression), in MB")
    # After a watch that brought nothing (410 Expired again, or an empty stream) the next list waits: the first at
    # once, then relist_backoff_s doubling up to relist_backoff_max_s, each wait shortened by up to relist_jitter
    # of itself at random (so many clients do not relist in step).
    relist_backoff_s: float = Field(default=0.5, gt=0, le=60, description="first wait before a repeated relist")
    relist_backoff_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait between relists")
    relist_jitter: float = Field(default=0.5, ge=0, lt=1, description="fraction of each wait taken off at random")
    owner_keys: OwnerKeys = Field(default_factory=lambda: OwnerKeys(),
                                  description="the Rollout's annotation (else label) keys that say who owns it")

    @model_validator(mode="after")
    def _backoff_cap_above_base(self) -> ArgoRolloutsSourceConfig:
        if self.relist_backoff_max_s < self.relist_backoff_s:
            raise ValueError("relist_backoff_max_s must be at least relist_backoff_s")
        return self


class PrometheusQueries(_Strict):
    """PromQL for each figure, for every service at once (grouped by the service label). The defaults match the
    simulator's metrics; `{window}` is replaced by the source's `window`."""

    error_ratio: str = ('sum by (service) (rate(http_requests_total{{code=~"5.."}}[{window}])) / '
                        "sum by (service) (rate(http_requests_total[{window}]))")
    p99_ms: str = ("1000 * histogram_quantile(0.99, sum by (service, le) "
                   "(rate(http_request_duration_seconds_bucket[{window}])))")
    rps: str = "sum by (service) (rate(http_requests_total[{window}]))"


class PrometheusSourceConfig(HttpSourceBase):
    """Health of every service from Prometheus: error ratio, p99 latency and request rate."""

    kind: Literal["prometheus"]
    service_label: str = Field(default="service", min_length=1, description="the label naming the service")
    window: str = Field(default="1m", pattern=r"^[0-9]+[smhd]$", description="rate() window")
    queries: PrometheusQueries = Field(default_factory=PrometheusQueries)


class AlertmanagerSourceConfig(HttpSourceBase):
    """Firing alerts from Alertmanager (API v2), matched to services by a label."""

    kind: Literal["alertmanager"]
    service_label: str = Field(default="service", min_length=1, description="the label naming the service")


class UnleashSourceConfig(HttpSourceBase):
    """Feature flags from Unleash (Admin API): their state in the production environment, their changes, and
    turning one off or on. On the HTTP edge as the other HTTP sources (URL checks, size bound, deadline)."""

    kind: Literal["unleash"]
    url: str = Field(description="Unleash base URL (the Admin API is under /api/admin)")
    token_env: str | None = Field(default=None, description="environment variable holding an admin API token")
    token_file: Path | None = Field(default=None, description="file holding an admin API token")
    poll_interval: float = Field(default=5.0, gt=0, le=3600, description="seconds between polls")
    projects: list[str] = Field(default_factory=lambda: ["default"], min_length=1,
                                description="Unleash projects whose flags are shown")
    environment: str = Field(default="production", min_length=1, description="the Unleash environment that is "
                             "production: the one whose state is shown and toggled")
    service_from: Literal["tag", "prefix"] = Field(default="tag", description="how a flag maps to a service")
    service_tag_type: str = Field(default="service", min_length=1,
                                  description="service_from = tag: the tag type whose value names the service")
    service_prefix_separator: str = Field(default=".", min_length=1, description="service_from = prefix: the "
                                          "service is the flag name up to the first separator")
    history: int = Field(default=500, ge=0, le=10_000,
                         description="flag changes read on the first poll, to know who changed each flag last")
    owner_tag_types: list[str] = Field(default_factory=lambda: ["team", "owner"],
                                       description="tag types whose value names the team owning the flag's service "
                                       "(the first found wins)")


def source_models() -> dict[str, type[SourceBase]]:
    """Every source kind's config model, by kind, in the order declared."""
    return dict(_SOURCE_MODELS)


if TYPE_CHECKING:
    SourceConfig = SourceBase  # one of the kinds' models: narrow with isinstance
else:  # the kinds declared above, told apart by `kind`
    SourceConfig = Annotated[Union[tuple(_SOURCE_MODELS.values())], Field(discriminator="kind")]  # noqa: UP007
SOURCE_KINDS = tuple(_SOURCE_MODELS)


class Thresholds(_Strict):
    error_ratio: float = Field(default=0.05, ge=0, le=1, description="error ratio at which a service is unhealthy")
    p99_ms: float = Field(default=800.0, gt=0, description="p99 latency (ms) at which a service is unhealthy")
    services: dict[str, ServiceThresholds] = Field(default_factory=dict, description="per-service overrides")

    def for_service(self, service: str) -> Thresholds:
        override = self.services.get(service)
        if override is None:
            return self
        return Thresholds(error_ratio=override.error_ratio if override.error_ratio is not None else self.error_ratio,
                          p99_ms=override.p99_ms if override.p99_ms is not None else self.p99_ms)


class ServiceThresholds(_Strict):
    error_ratio: float | None = Field(default=None, ge=0, le=1)
    p99_ms: float | None = Field(default=None, gt=0)


Thresholds.model_rebuild()


class ServiceOwner(_Strict):
    """`[services."name"]`: who owns a service. Wins over what the deploy engine and the flag server say."""

    team: str | None = Field(default=None, min_length=1, max_length=200, description="the owning team")
    on_call: str | None = Field(default=None, min_length=1, max_length=200,
                                description="who is on call: a person or a rotation")
    runbook: str | None = Field(default=None, description="the runbook's URL (http or https)")
    dashboard: str | None = Field(default=None, description="the service dashboard's URL (http or https)")

    @field_validator("runbook", "dashboard")
    @classmethod
    def _valid_link(cls, url: str | None) -> str | None:
        return check_url(url) if url is not None else None


class Settings(BaseModel):
    """The configuration as validated. Built by `build_settings`, which reads MONOTUI_* variables over the file's
    values (through pydantic-settings) when the environment has a setting's."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    sources: list[SourceConfig] = Field(default_factory=list, description="where rollouts, health, alerts and "
                                        "flags come from, each told apart by its kind")
    read_only: bool = Field(default=False, description="offer no mutating action and send no mutating request, for "
                            "every source (no layer can turn it off once one turned it on)")
    protected_services: list[str] = Field(
        default_factory=list, description="services whose actions need their name typed in the confirmation")
    protected_flags: list[str] = Field(
        default_factory=list, description="flags that need their name typed to be turned on or off")
    actor: str = Field(default_factory=default_actor, min_length=1,
                       description="who you are in the audit log and every action (default: $USER@hostname)")
    audit_log: Path = Field(default_factory=default_audit_path, description="the audit log, one JSON line per "
                            "action attempt (default: in the user state dir)")
    audit_syslog: str | None = Field(
        default=None, description='also send every audit record to syslog: "tcp://HOST:PORT", "tls://HOST:PORT", '
                                  '"udp://HOST:PORT" or "unix:///dev/log"')
    audit_syslog_ca: Path | None = Field(default=None, description="CA bundle that signs a tls:// receiver")
    audit_syslog_facility: str = Field(default="local0", description="syslog facility of the audit records")
    audit_syslog_app_name: str = Field(default="monotui", min_length=1, max_length=48, pattern=r"^[!-~]+$",
                                       description="the APP-NAME of the audit records in syslog")
    theme: str = Field(default="textual-dark", description="Textual theme name")
    events_window: float = Field(
        default=4 * 3600.0, ge=60, le=7 * 86400,
        description="seconds of production-wide events kept in memory for the events panel and the timeline (T): "
                    "bounded by time, not by count")
    events_limit: int = Field(default=200_000, ge=10, le=1_000_000,
                              description="the most events kept in memory whatever their age: a guard for the "
                                          "memory in an event storm (events_window is the bound)")
    max_rows: int = Field(default=10_000, ge=100, le=1_000_000,
                          description="the table shows at most this many rollouts, what needs a human first")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    platform_moves_window: float = Field(
        default=1800.0, ge=0, le=7 * 86400,
        description="seconds an automatic rollback, abort or pause stays marked on its service's row (↩ auto 4m), "
                    "even after the next deploy (0: not kept)")
    auto_pause_suspects: list[str] = Field(
        default_factory=list, description="services whose suspect canaries monotui pauses by itself (audited)")
    keymap: dict[str, str] = Field(
        default_factory=dict, description='binding id → keys, comma-separated: "cursor.down" = "j,ctrl+n"')
    links: Links = Field(default_factory=Links, description="links out: URL templates (dashboard_url, logs_url, "
                         "traces_url, commit_url) with {service}, {namespace}, {revision}, {commit}, {from}, {to}…, "
                         "and per-service ones under [links.services.NAME]")
    services: dict[str, ServiceOwner] = Field(
        default_factory=dict, description='per service, [services."payments"]: who owns it (team, on_call, runbook, '
        "dashboard); wins over the deploy engine's and the flag server's")

    @field_validator("audit_syslog")
    @classmethod
    def _syslog_address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_target(value)
            except TrailConfigError as e:
                raise ValueError(str(e)) from None
        return value

    @field_validator("audit_syslog_facility")
    @classmethod
    def _syslog_facility(cls, value: str) -> str:
        if value not in FACILITIES:
            raise ValueError(f"{value!r} is not a syslog facility: one of {', '.join(FACILITIES)}")
        return value

    @model_validator(mode="after")
    def _unique_source_names(self) -> Settings:
        seen: set[str] = set()
        for i, source in enumerate(self.sources):
            if source.name in seen:
                raise ValueError(f"sources[{i}].name: duplicate source name {source.name!r}")
            seen.add(source.name)
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def is_read_only(self, source_name: str) -> bool:
        if self.read_only:
            return True
        try:
            return self.source(source_name).read_only
        except KeyError:
            return True

    def is_protected(self, service: str) -> bool:
        # Compared canonically: a look-alike with a zero-width space or full-width letters is protected too.
        name = canonical(service)
        return any(canonical(p) == name for p in self.protected_services)

    def is_protected_flag(self, flag: str) -> bool:
        name = canonical(flag)  # as for services: a look-alike is protected too
        return any(canonical(p) == name for p in self.protected_flags)


def _settings_class(data: dict[str, Any]) -> type[Settings]:
    """`Settings` when no MONOTUI_* variable names a setting (MONOTUI_CONFIG is the file's path, a token_env such
    as MONOTUI_PROD_EU_TOKEN a token: pydantic-settings reads neither) — the environment then has nothing to add,
    and pydantic-settings (slow to import) is not loaded; else the same model read through pydantic-settings,
    the environment winning over the file. Also `Settings` when the file has a key that is not a setting:
    pydantic-settings would read `READ_ONLY` as `read_only` and `_env_prefix` as its own option, where the plain
    model names such a key as unknown, as it does without the environment."""
    if any(key not in Settings.model_fields for key in data):
        return Settings
    settings = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    # as pydantic-settings matches them: in any case, the field's name or its name then "__" (a nested value)
    if any(name.upper().partition("__")[0] in settings for name in os.environ):
        return _environment_settings()
    return Settings


@functools.cache
def _environment_settings() -> type[Settings]:
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

    class EnvironmentSettings(BaseSettings, Settings):  # both set model_config
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
        )

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # The file's contents arrive as init kwargs; the environment must win over them.
            return (env_settings, init_settings)

    return EnvironmentSettings


def _key_of(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part in SOURCE_KINDS:  # discriminated-union tag, not a key the user wrote
            continue
        else:
            key += f".{part}" if key else str(part)
    return key or "(top level)"


def _describe(err: Any) -> tuple[str, str]:
    """(key, why) of one pydantic error, in the user's words."""
    msg = err["msg"].removeprefix("Value error, ")
    loc = tuple(err["loc"])
    if err["type"] == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        return _key_of((*loc, "kind")), f"unknown source kind {tag!r} (expected one of: {', '.join(SOURCE_KINDS)})"
    if err["type"] == "union_tag_not_found":
        return _key_of((*loc, "kind")), f"missing (one of: {', '.join(SOURCE_KINDS)})"
    if err["type"] == "extra_forbidden":
        return _key_of(loc), "unknown key"
    if not loc:  # a model's own check names the key in its message: "sources[1].name: duplicate source name 'a'"
        key, sep, why = msg.partition(": ")
        if sep and re.fullmatch(r"[A-Za-z_][\w.\[\]-]*", key):
            return key, why
    return _key_of(loc), msg


def _first_error(exc: ValidationError) -> tuple[str, str]:
    return _describe(exc.errors(include_url=False)[0])


def _problems_of(exc: ValidationError, from_environment: bool, path: Path | str | None) -> list[ConfigError]:
    """Every error of a validation, each naming the file and key, or the environment variable it came from."""
    out = []
    for err in exc.errors(include_url=False):
        key, msg = _describe(err)
        env_var = _env_var_of(tuple(err["loc"])) if from_environment else None
        out.append(ConfigError(f"environment variable {env_var}", None, msg) if env_var
                   else ConfigError(path, key, msg))
    return out


def _environment_json_problem(exc: ValueError, path: Path | str | None) -> ConfigError:
    """pydantic-settings' error for an environment variable that is not valid JSON, naming the variable."""
    first = str(exc).splitlines()[0]
    name = first.split('"')[1] if first.count('"') >= 2 else ""
    env_var = _env_var_of((name,)) if name else None
    if env_var:
        return ConfigError(f"environment variable {env_var}", None, "not valid JSON")
    return ConfigError(path, None, first)


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    """Where to read config from, and whether the user named it (a named file must exist)."""
    if explicit:
        return Path(explicit).expanduser(), True
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser(), True
    return default_config_path(), False


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, None, "is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(path, None, "permission denied") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, None, f"invalid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(path, None, f"cannot read: {e.strerror or e}") from None


def _env_var_of(loc: tuple[int | str, ...]) -> str | None:
    """The MONOTUI_* variable a value at `loc` came from, if one is set (the environment wins over the file)."""
    names = {k.upper(): k for k in os.environ}
    parts = [str(p).upper() for p in loc if not (isinstance(p, str) and p in SOURCE_KINDS)]
    for i in range(len(parts), 0, -1):
        found = names.get(ENV_PREFIX + "__".join(parts[:i]))
        if found:
            return found
    return None


def _token_problems(sources: Iterable[tuple[int, SourceBase]], path: Path | str | None) -> list[ConfigError]:
    """A malformed token (environment variable or file) of each source, naming the key."""
    out = []
    for i, source in sources:
        if isinstance(source, HttpSourceBase):
            try:
                source.token()
            except ConfigError as e:
                key = "token_env" if e.problem.startswith("environment") else "token_file"
                out.append(ConfigError(path, f"sources[{i}].{key}", e.problem))
    return out


def security_warnings(settings: Settings) -> list[str]:
    """What is allowed but unsafe: a token file others can read."""
    return _token_file_warnings(settings.sources)


def _token_file_warnings(sources: Iterable[SourceBase]) -> list[str]:
    out = []
    for source in sources:
        token_file = getattr(source, "token_file", None)
        if token_file is None:
            continue
        try:
            mode = token_file.expanduser().stat().st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and mode & (stat.S_IRWXG | stat.S_IRWXO):  # anything else is refused as a token
            out.append(f"source {source.name}: token_file {token_file.expanduser()} can be read by other users "
                       f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {token_file.expanduser()}")
    return out


def build_settings(data: dict[str, Any], path: Path | str | None = None, **overrides: Any) -> Settings:
    """Validate file data (plus CLI overrides, which win) into Settings, or raise ConfigError."""
    cls = _settings_class(data)
    try:
        settings = cls(**data)
    except ValidationError as e:
        raise _problems_of(e, cls is not Settings, path)[0] from None
    except ValueError as e:  # pydantic-settings: an environment variable that is not valid JSON
        raise _environment_json_problem(e, path) from None
    for problem in _token_problems(enumerate(settings.sources), path):
        raise problem
    settings = _read_only_kept(settings, data, path)
    # Command-line flags win over both the file and the environment, except that no layer turns read-only off.
    if "read_only" in overrides:
        overrides = {**overrides, "read_only": settings.read_only or bool(overrides["read_only"])}
    return settings.model_copy(update=overrides) if overrides else settings


def _read_only_kept(settings: Settings, data: dict[str, Any], path: Path | str | None) -> Settings:
    """Read-only may be added by any layer (the file, a source, the environment, a flag) and removed by none: the
    environment wins over the file for every other setting, but `MONOTUI_READ_ONLY=false` (or a MONOTUI_SOURCES
    that lists a source again without `read_only`) must not undo the file's `read_only = true`."""
    update: dict[str, Any] = {}
    if not settings.read_only and _file_read_only(data, path):
        update["read_only"] = True
    raw_sources = data.get("sources")
    # the file's sources by name; a value other than false counts (it was not validated if the environment
    # replaced the list, and a doubt is read-only)
    marked = {str(s.get("name")) for s in raw_sources if isinstance(s, dict) and s.get("read_only", False)
              is not False} if isinstance(raw_sources, list) else set()
    if any(s.name in marked and not s.read_only for s in settings.sources):
        update["sources"] = [s.model_copy(update={"read_only": True}) if s.name in marked else s
                             for s in settings.sources]
    return settings.model_copy(update=update) if update else settings


def load_settings(explicit: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    path, must_exist = resolve_config_path(explicit)
    if not path.exists() and not must_exist:
        data: dict[str, Any] = {}
    else:
        data = read_toml(path)
    return build_settings(data, path, **overrides)


def _file_read_only(data: dict[str, Any], path: Path | str | None) -> bool:
    """The file's own `read_only` (validated here too: the environment's value may have replaced it)."""
    if "read_only" not in data:
        return False
    try:
        return TypeAdapter(bool).validate_python(data["read_only"])
    except ValidationError as e:
        raise ConfigError(path, "read_only", _first_error(e)[1]) from None


def _duplicate_names(data: dict[str, Any], path: Path | str | None) -> list[ConfigError]:
    sources = data.get("sources")
    seen: dict[str, int] = {}
    out = []
    for i, source in enumerate(sources if isinstance(sources, list) else []):
        name = source.get("name") if isinstance(source, dict) else None
        if isinstance(name, str) and name in seen:
            out.append(ConfigError(path, f"sources[{i}].name", f"duplicate source name {name!r}"))
        elif isinstance(name, str):
            seen[name] = i
    return out


def _sources_alone(data: dict[str, Any]) -> list[tuple[int, SourceBase]]:
    """The file's sources that are valid each on its own (when the whole file is not)."""
    sources = data.get("sources")
    adapter: TypeAdapter[SourceBase] = TypeAdapter(SourceConfig)
    out = []
    for i, raw in enumerate(sources if isinstance(sources, list) else []):
        try:
            out.append((i, adapter.validate_python(raw)))
        except (ValidationError, ValueError):
            continue
    return out


@dataclass
class ConfigReport:
    """What `monotui config check` found in a file: every problem, and what is allowed but unsafe."""

    path: Path
    problems: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[tuple[int, SourceBase]] = field(default_factory=list)  # (index, source) of each valid source


def check_config(path: Path) -> ConfigReport:
    """Every problem of the configuration at `path` read with this environment — TOML syntax (the first: a TOML
    parser stops there), each key of the file or MONOTUI_* variable that does not validate, duplicate source
    names, no source at all, malformed token files and variables — each naming the file (or variable), the key
    and why. (A client library that is not installed is the backend registry's to tell: `monotui config check`.)"""
    report = ConfigReport(path)
    try:
        data = read_toml(path)
    except ConfigError as e:
        report.problems.append(e)
        return report
    cls = _settings_class(data)
    settings: Settings | None = None
    try:
        settings = cls(**data)
    except ValidationError as e:
        report.problems += _problems_of(e, cls is not Settings, path)
    except ValueError as e:
        report.problems.append(_environment_json_problem(e, path))
    seen = {str(p) for p in report.problems}
    report.problems += [p for p in _duplicate_names(data, path) if str(p) not in seen]
    try:
        _file_read_only(data, path)
    except ConfigError as e:
        if str(e) not in seen:
            report.problems.append(e)
    if not (settings.sources if settings is not None else data.get("sources")):
        report.problems.append(ConfigError(path, "sources", "no source configured"))  # the TUI's refusal too
    report.sources = list(enumerate(settings.sources)) if settings is not None else _sources_alone(data)
    report.problems += _token_problems(report.sources, path)
    report.warnings = _token_file_warnings(source for _, source in report.sources)
    return report


SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"  # what taplo (Even Better TOML) and most editors read


def json_schema() -> dict[str, Any]:
    """The configuration file's JSON Schema, for editors: every key with its type, bounds, default and meaning;
    unknown keys refused; each source told apart by its `kind`. Draft 7 (definitions under `definitions`), which
    editors' validators read; environment variables and token files are not the file's, so not in it."""
    schema = Settings.model_json_schema(ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", {})
    schema.pop("description", None)
    schema.pop("title", None)
    return {"$schema": SCHEMA_DIALECT, "title": "monotui configuration",
            "description": "monotui's config.toml (`monotui config init` writes an example, `monotui config check` "
                           "checks one)", **schema, "definitions": definitions}

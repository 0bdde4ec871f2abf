"""Links out: the operator's URL templates (`dashboard_url`, `logs_url`, `traces_url`, `commit_url`) at the top of
the config, per source (`[sources.links]`) or per service (`[links.services.NAME]`), filled in for one rollout.

Placeholders: `{service}`, `{namespace}`, `{revision}`, `{commit}`, `{environment}`, `{source}`, and the incident
window `{from}` / `{to}` (RFC 3339, UTC) or `{from_ms}` / `{to_ms}` (Unix milliseconds, as Grafana takes them).
A template is checked when the config is read (an http or https URL, only these placeholders); each value filled in
is percent-encoded, so a server's string can change a query value and never the URL around it. Only these URLs,
built from the operator's own templates, are ever made into terminal hyperlinks (render/links.py).

No rich, no textual: config.py imports the models, the UI and the CLI the resolution.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from monotui.models import Rollout


class LinkSettings(Protocol):
    """What links read of the configuration (monotui.config.Settings; config imports this module's models)."""

    links: Links

    def source(self, name: str) -> Any: ...

LINK_KINDS = ("dashboard_url", "logs_url", "traces_url", "commit_url")
LABELS = {"dashboard_url": "dashboard", "logs_url": "logs", "traces_url": "traces", "commit_url": "commit"}
PLACEHOLDERS = ("service", "namespace", "revision", "commit", "environment", "source", "from", "to", "from_ms",
                "to_ms")
WINDOW_BEFORE = timedelta(minutes=5)  # the incident window starts this long before the rollout (or its rollback)


def check_template(template: str) -> str:
    """An http(s) URL template whose placeholders are all known; ValueError naming what is wrong."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"not a URL template ({e}; write a literal brace as {{{{ or }}}})") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(f"unknown placeholder {{{name}}} (known: "
                             f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
    sample = template.format(**{p: "x" for p in PLACEHOLDERS})
    url = urlsplit(sample)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError("must be an http:// or https:// URL with a host")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in sample):
        raise ValueError("must not contain spaces or control characters (percent-encode them)")
    return template


class LinkTemplates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dashboard_url: str | None = Field(default=None, description="the service's dashboard, e.g. Grafana with "
                                      "?var-service={service}&from={from_ms}&to={to_ms}")
    logs_url: str | None = Field(default=None, description="the service's logs in your log search")
    traces_url: str | None = Field(default=None, description="the service's traces in your tracing UI")
    commit_url: str | None = Field(default=None, description="a commit in your code host: …/commit/{commit}")

    @field_validator(*LINK_KINDS)
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return check_template(value) if value is not None else None


class Links(LinkTemplates):
    """The templates for every service, and per-service overrides (`[links.services.checkout-api]`)."""

    services: dict[str, LinkTemplates] = Field(default_factory=dict, description="per-service templates; a key "
                                               "set here wins over the source's and the top-level one")


@dataclass(frozen=True)
class Link:
    kind: str  # one of LINK_KINDS
    url: str  # built from the operator's template: the only kind of URL monotui makes a hyperlink

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def templates_for(links: Links, source_links: LinkTemplates | None, service: str) -> dict[str, str]:
    """Each kind's template for this service: the service's, else the source's, else the top-level one."""
    out: dict[str, str] = {}
    for layer in (links, source_links, links.services.get(service)):
        if layer is None:
            continue
        for kind in LINK_KINDS:
            value = getattr(layer, kind)
            if value is not None:
                out[kind] = value
    return out


def window(rollout: Rollout, now: datetime) -> tuple[datetime, datetime]:
    """The incident window: from a little before the current rollout started (or was rolled back) to now, rounded
    up to the next whole minute (so a link shown stays the same for a minute)."""
    starts = [t for t in (rollout.started_at, rollout.rolled_back_at) if t is not None]
    end = now.replace(second=0, microsecond=0)
    if end < now:
        end += timedelta(minutes=1)
    return min(starts) - WINDOW_BEFORE, end


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def values_for(source: str, rollout: Rollout, now: datetime) -> dict[str, str]:
    start, end = window(rollout, now)
    namespace = rollout.id.rpartition("/")[0] if "/" in rollout.id else rollout.environment
    return {
        "service": rollout.service, "namespace": namespace, "revision": str(rollout.revision),
        "commit": rollout.commit, "environment": rollout.environment, "source": source,
        "from": _rfc3339(start), "to": _rfc3339(end),
        "from_ms": str(int(start.timestamp() * 1000)), "to_ms": str(int(end.timestamp() * 1000)),
    }


def expand(template: str, values: dict[str, str]) -> str | None:
    """The template filled in, every value percent-encoded; None when a placeholder it uses has no value (a commit
    URL for a rollout whose source gives no commit)."""
    used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if any(not values.get(name) for name in used):
        return None
    return template.format(**{k: quote(v, safe="") for k, v in values.items()})


def links_for(links: Links, source_links: LinkTemplates | None, source: str, rollout: Rollout,
              now: datetime) -> list[Link]:
    values = values_for(source, rollout, now)
    out = []
    for kind, template in templates_for(links, source_links, rollout.service).items():
        url = expand(template, values)
        if url is not None:
            out.append(Link(kind, url))
    return sorted(out, key=lambda link: LINK_KINDS.index(link.kind))


def _source_links(settings: LinkSettings, source: str) -> LinkTemplates | None:
    try:
        links = settings.source(source).links
    except KeyError:
        return None
    return links if isinstance(links, LinkTemplates) else None


def rollout_links(settings: LinkSettings, source: str, rollout: Rollout, now: datetime) -> list[Link]:
    """The links of one rollout, from the settings' templates (the source's and the service's included)."""
    return links_for(settings.links, _source_links(settings, source), source, rollout, now)


def has_links(settings: LinkSettings, source: str, service: str) -> bool:
    """Whether any template applies to this service (what the `u` key asks at every refresh: nothing is filled in).
    Settings without links (a test's stand-in) have none."""
    links = getattr(settings, "links", None)
    if not isinstance(links, Links):
        return False
    return bool(templates_for(links, _source_links(settings, source), service))

"""The backend registry: one line per source kind, saying everything monotui needs to know about it — its config
model, its provider (imported only when a source of that kind is built), what it can do, the words that name it,
and the optional extra that installs its client library.

Adding a kind is its config section (a `SourceBase` subclass declaring `kind` in monotui/config.py, which makes it
part of `SourceConfig`), its provider module, and one line in `BACKENDS`. The factory (`build_provider`), the
refusal words (`kinds_that_can`), `monotui config check` and the missing-extra message all read this table.

Light on purpose (the config models and the action table only): the UI and the CLI may ask it for words without
loading any provider or HTTP client. The rollout actions a kind can take come from the action table (each line's
`kinds`, monotui/action_kinds.py).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, get_args

from monotui.action_kinds import ActionKind, actions_for
from monotui.config import (
    AlertmanagerSourceConfig,
    ArgoRolloutsSourceConfig,
    ConfigError,
    HttpSourceConfig,
    PrometheusSourceConfig,
    Settings,
    SourceBase,
    UnleashSourceConfig,
    source_models,
)


class Feature(StrEnum):
    """What a kind of source gives, besides the rollout actions (`ActionKind`) it can take."""

    ROLLOUTS = "rollouts"  # lists rollouts
    WATCH = "watch"  # pushes changes as they happen (WatchingSource)
    HEALTH = "health"  # service health figures
    HEALTH_HISTORY = "health-history"  # ... with their history, for every source's services (HealthHistorySource)
    ALERTS = "alerts"  # firing alerts
    SILENCE = "silence"  # silences alerts and expires silences (AlertSilencer)
    FLAGS = "flags"  # feature flags, turned on and off (FlagSource)
    FREEZE = "freeze"  # the server holds a freeze itself: no new deploy, promotions refused (Freezer)


Capability = ActionKind | Feature


@dataclass(frozen=True)
class Backend:
    """One kind of source."""

    config: type[SourceBase]  # its config section; `kind` is the tag it declares there
    provider: str  # "module:Class", imported when a source of this kind is built; the class takes the config
    label: str  # how refusals name it: "Argo Rollouts" → "(Argo Rollouts sources only)"
    can: frozenset[Capability]  # its rollout actions and features
    extra: str | None = None  # the optional extra that installs what it needs: pip install 'monotui[EXTRA]'
    needs: tuple[str, ...] = ()  # the top-level modules that extra brings

    @property
    def kind(self) -> str:
        return str(get_args(self.config.model_fields["kind"].annotation)[0])

    @property
    def actions(self) -> frozenset[ActionKind]:
        return frozenset(c for c in self.can if isinstance(c, ActionKind))

    def install_hint(self) -> str:
        return f"pip install 'monotui[{self.extra}]'" if self.extra else "pip install --force-reinstall monotui"

    def missing(self) -> list[str]:
        """The modules this kind needs that are not installed (without importing them)."""
        return [name for name in self.needs if _find_spec(name) is None]

    def provider_class(self, source: str) -> Any:
        """The provider class, imported now; MissingExtra (exit 2, the pip command) when a module it needs is not
        installed."""
        module_name, _, attr = self.provider.partition(":")
        try:
            module = importlib.import_module(module_name)
            for needed in self.needs:  # the provider may load them late: a source that cannot work says so now
                importlib.import_module(needed)
        except ModuleNotFoundError as e:
            missing = (e.name or "").partition(".")[0]
            # what it needs, or a library of theirs (an extra installed in part): installing the extra again mends it
            if missing in self.needs or (self.extra and missing and missing != "monotui"):
                raise MissingExtra(source, self, missing) from None
            raise
        return getattr(module, attr)


BACKENDS: tuple[Backend, ...] = (
    Backend(HttpSourceConfig, "monotui.providers.http_deploy:HttpDeployProvider", "deploy API",
            frozenset({Feature.ROLLOUTS, Feature.HEALTH, Feature.FREEZE, *actions_for("http")})),
    Backend(ArgoRolloutsSourceConfig, "monotui.providers.argo_rollouts.provider:ArgoRolloutsProvider",
            "Argo Rollouts", frozenset({Feature.ROLLOUTS, Feature.WATCH, *actions_for("argo-rollouts")}),
            extra="k8s", needs=("kr8s",)),
    Backend(PrometheusSourceConfig, "monotui.providers.prometheus:PrometheusProvider", "Prometheus",
            frozenset({Feature.HEALTH, Feature.HEALTH_HISTORY})),
    Backend(AlertmanagerSourceConfig, "monotui.providers.alertmanager:AlertmanagerProvider", "Alertmanager",
            frozenset({Feature.ALERTS, Feature.SILENCE})),
    Backend(UnleashSourceConfig, "monotui.providers.unleash:UnleashProvider", "Unleash",
            frozenset({Feature.FLAGS})),
)

_BY_KIND = {b.kind: b for b in BACKENDS}

# Every kind the configuration accepts is built by one line here, and no line names a kind it does not accept.
if set(_BY_KIND) != set(source_models()) or len(_BY_KIND) != len(BACKENDS) or any(
        source_models()[b.kind] is not b.config for b in BACKENDS):
    raise RuntimeError(f"the backend registry ({', '.join(_BY_KIND)}) does not match the configuration's source "
                       f"kinds ({', '.join(source_models())}): one BACKENDS line per kind")


class MissingExtra(ConfigError):
    """A configured source whose client library is not installed: the pip command that installs it (exit 2)."""

    def __init__(self, source: str, backend: Backend, module: str) -> None:
        self.source, self.backend, self.module = source, backend, module
        problem = (f"source {source!r} (kind {backend.kind}) needs {module}, which is not installed: "
                   f"{backend.install_hint()}")
        super().__init__(None, None, problem)
        self.args = (problem,)

    def __str__(self) -> str:
        return str(self.problem)


def backend(kind: str) -> Backend:
    """The registry line of `kind` (KeyError for a kind no configuration can hold)."""
    return _BY_KIND[kind]


def kinds() -> tuple[str, ...]:
    return tuple(_BY_KIND)


def labels_that_can(capability: Capability) -> list[str]:
    """The labels of the kinds that can do `capability`, in the registry's order: ["Argo Rollouts"]."""
    return [b.label for b in BACKENDS if capability in b.can]


def kinds_that_can(capability: Capability) -> str:
    """The words for the kinds of source that can do `capability`, for refusals such as "(… only)":
    "Argo Rollouts sources", "deploy API and Argo Rollouts sources"; "no kind of source" when none can."""
    return _sources_phrase(labels_that_can(capability))


def _sources_phrase(labels: Iterable[str]) -> str:
    names = list(labels)
    if not names:
        return "no kind of source"
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{joined} sources"


def missing_extras(settings: Settings) -> list[MissingExtra]:
    """One MissingExtra per configured source whose kind needs a module that is not installed (nothing imported)."""
    out = []
    for source in settings.sources:
        line = backend(source.kind)
        out += [MissingExtra(source.name, line, module) for module in line.missing()]
    return out


def _find_spec(name: str) -> Any:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a module in sys.modules without a spec, or set to None
        return None

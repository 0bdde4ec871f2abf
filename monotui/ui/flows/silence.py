"""Silencing the selected service's alerts, and expiring its silences: the dialog (screens/silence.py), the
Alertmanager request, the notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monotui.models import Alert
from monotui.text import clean
from monotui.ui.flows.host import FlowHost

if TYPE_CHECKING:
    from monotui.ui.screens.silence import SilenceRequest

# The dialog is imported when a key opens one: not on the way to the first rows.


def start(host: FlowHost, service: str, expire: bool) -> None:
    """The dialog for the first alert source with alerts of `service`."""
    engine = host.engine
    for source in engine.alert_sources():
        alerts = [a for a in engine.state.sources[source].alerts if a.service == service]
        if not alerts:
            continue

        def chosen(request: SilenceRequest | None, source: str = source, alerts: list[Alert] = alerts) -> None:
            if request is None:
                host.say("Cancelled. Nothing was sent.")
                return
            host.run(send(host, source, service, alerts, request, expire))

        from monotui.ui.screens.silence import SilenceScreen

        host.ask(SilenceScreen(service, source, len(alerts), expire, owner=engine.owner(service)), chosen)
        return


async def send(host: FlowHost, source: str, service: str, alerts: list[Alert], request: SilenceRequest,
               expire: bool) -> None:
    engine = host.engine
    if expire:
        ids = sorted({i for a in alerts for i in a.silenced_by})
        results = [await engine.expire_silence(source, service, i) for i in ids]
        ok = all(r[0] for r in results)
        text = f"Expired {len(ids)} silence(s) of {service}" if ok else "; ".join(r[1] for r in results)
    else:
        ok, detail = await engine.silence(source, service, request.duration_s, request.comment)
        text = f"Silenced {service} (silence {detail})" if ok else f"Silence of {service}: {detail}"
    host.say(clean(text, 400), severity="information" if ok else "error")
    await engine.refresh_once()
    host.refresh_views(force=True)

"""Every private member of textual-serve (1.1.x) that `monotui serve` uses, with why no public API serves.
tests/test_compat_textual_serve.py fails loudly when textual-serve changes one of them: fix it here, once."""

from __future__ import annotations

from asyncio.subprocess import Process

from textual_serve.app_service import AppService

# The page textual-serve's JavaScript runs in (its `templates/` folder), rendered by `monotui serve` itself:
# textual-serve's own `Server.handle_index` builds the websocket's address from the `--host` it was started with
# (`public_url`), so a page opened as http://localhost:P (an SSH port-forward) would open its websocket on
# http://127.0.0.1:P — another origin, without the session's cookie. No public hook changes that address per request.
INDEX_TEMPLATE = "app_index.html"
# What that template reads (its context): the websocket's address, the static files' base, the title, the font size.
INDEX_CONTEXT_KEYS = ("app_websocket_url", "config", "application", "font_size")


def app_process(service: AppService) -> Process | None:
    """The tab's app process, or None before it started.

    `AppService._process`: textual-serve's public `stop()` only asks the app to quit (a meta packet on its stdin)
    and then waits for it with no bound; there is no public handle on the process (nor its pid) to terminate or
    kill an app that does not quit — and a tab's process must never outlive its tab."""
    process: Process | None = service._process
    return process

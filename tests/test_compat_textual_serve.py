"""The textual-serve internals `monotui serve` relies on (monotui/compat/textual_serve.py) are still there and still
mean what they meant: when textual-serve changes one, this fails here, naming it — not a browser tab that silently
outlives its tab, or a page whose websocket goes nowhere."""

from __future__ import annotations

import asyncio
import re
from asyncio.subprocess import Process
from importlib.metadata import version
from pathlib import Path

import jinja2
import jinja2.meta
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server

from monotui.compat.textual_serve import INDEX_CONTEXT_KEYS, INDEX_TEMPLATE, app_process


def test_textual_serve_is_the_version_these_internals_were_read_from() -> None:
    assert version("textual-serve").startswith("1.1."), (
        f"textual-serve {version('textual-serve')}: re-read monotui/compat/textual_serve.py against it")


def test_the_app_process_is_none_before_start_and_the_running_process_after() -> None:
    async def scenario() -> None:
        async def ignore(*args: object) -> None:
            return None

        service = AppService("exec sleep 30", write_bytes=ignore, write_str=ignore, close=ignore,
                             download_manager=DownloadManager())
        assert app_process(service) is None
        await service.start(80, 24)
        process = app_process(service)
        assert isinstance(process, Process), "AppService._process is no longer the app's process"
        assert process.returncode is None and Path(f"/proc/{process.pid}").exists()
        process.kill()
        await process.wait()
        await asyncio.wait_for(service.stop(), 10)

    asyncio.run(scenario())


def test_the_index_template_reads_what_monotui_gives_it() -> None:
    server = Server("true")
    source = (Path(server.templates_path) / INDEX_TEMPLATE).read_text()
    env = jinja2.Environment()
    used = jinja2.meta.find_undeclared_variables(env.parse(source))
    assert set(INDEX_CONTEXT_KEYS) <= used, f"{INDEX_TEMPLATE} reads {sorted(used)}"
    assert set(used) - set(INDEX_CONTEXT_KEYS) <= {"ping_url"}, f"{INDEX_TEMPLATE} reads more: {sorted(used)}"
    # the page's script opens the websocket named in this attribute, adding ?width=…&height=… to it
    assert 'data-session-websocket-url="{{ app_websocket_url }}"' in source
    script = (Path(server.statics_path) / "js" / "textual.js").read_text()
    assert re.search(r'new WebSocket\(this\.websocket_url\+"\?width="', script), "the page's websocket changed"

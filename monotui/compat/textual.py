"""Every private Textual name monotui uses, behind one door (Textual 8.2).

Each function says what it does with Textual's internals and why no public API serves. tests/test_compat_textual.py
checks every one against the installed Textual, so a release that renames or reshapes one fails there, loudly,
instead of the app silently degrading (a footer that stops dimming, a crash printed with every local variable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from textual.app import App
from textual.filter import LineFilter
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

# The footer's key widget. Textual exports `Footer` but not the class of its keys, which a footer that dims keys
# in place must find among its children (`Footer.compose` yields them).
from textual.widgets._footer import FooterKey

ReturnType = TypeVar("ReturnType")

__all__ = [
    "FooterKey",
    "QuietCrashApp",
    "after_screen_refresh",
    "footer_bindings_ready",
    "footer_key_enabled",
    "keymap_of",
    "line_filters",
    "mark_footer_bindings_ready",
    "on_painted_frame",
    "set_footer_key_enabled",
    "set_line_filters",
    "update_scrollbars",
    "wrap_screen_paints",
]


def footer_bindings_ready(footer: Footer) -> bool:
    """Whether the footer has had its first bindings (`Footer._bindings_ready`: `Footer.compose` yields nothing
    before that). No public attribute tells it; a footer that composes its keys itself must know."""
    return bool(footer._bindings_ready)


def mark_footer_bindings_ready(footer: Footer) -> None:
    """What `Footer.bindings_changed` does first; a footer that overrides `bindings_changed` must do it too."""
    footer._bindings_ready = True


def footer_key_enabled(key: FooterKey) -> bool:
    """Whether a footer key acts on a click (`FooterKey._disabled`, set only through its constructor)."""
    return not key._disabled


def set_footer_key_enabled(key: FooterKey, enabled: bool) -> None:
    """Dim or undim a mounted footer key in place, as a rebuilt footer would show it: `FooterKey._disabled` (the
    click then rings the bell instead of pressing the key) and its `-disabled` class (the look). Textual offers
    only a rebuild of every key (`Footer.recompose`), which relays the screen out."""
    key._disabled = not enabled
    key.set_class(not enabled, "-disabled")


def after_screen_refresh(screen: Screen[Any], callback: Callable[[], Awaitable[None]], sender: Widget) -> None:
    """Call `callback` after *this* screen's next refresh (`Screen._invoke_later`). The public
    `call_after_refresh` waits on the screen at the top of the stack when the message is handled: a dialog closed
    before it drew would then take the callback away."""
    screen._invoke_later(callback, sender)


def keymap_of(app: App[Any]) -> Mapping[str, str]:
    """The keymap `set_keymap` set, binding id → keys in Textual's long form ("question_mark", not "?")
    (`App._keymap`). Textual offers no getter, and its key normalisation is private too."""
    return app._keymap


def line_filters(app: App[Any]) -> list[LineFilter]:
    """Every line filter of the app, enabled or not (`App._filters`; the public `get_line_filters` leaves out
    disabled ones, and there is no setter)."""
    return list(app._filters)


def set_line_filters(app: App[Any], filters: list[LineFilter]) -> None:
    """Replace the app's line filters (`App._filters`): Textual chooses the NO_COLOR filter once, when the app is
    built, and offers no way to choose again."""
    app._filters = filters


def update_scrollbars(widget: Widget, virtual_size: Size) -> None:
    """Bring a widget's scrollbars to a virtual size set with `set_reactive` (`Widget._scroll_update`, what the
    `virtual_size` watcher calls): assigning `virtual_size` would also relay the whole screen out."""
    widget._scroll_update(virtual_size)


def on_painted_frame(app: App[Any], callback: Callable[[], None]) -> None:
    """Call `callback` at each frame the app paints, once the frame's terminal bytes are made (for the benches'
    key → frame figures on a headless app). Textual paints through `App._display(screen, renderable)`, skipping
    frames while updates are batched (`App._batch_count`); a headless app never turns a `CompositorUpdate`
    (`textual._compositor`) into bytes, so this does, so a frame costs what it costs on a terminal (minus the
    write). No public hook says "a frame was painted"."""
    from textual._compositor import CompositorUpdate

    original = app._display

    def display(screen: Screen[Any], renderable: Any) -> None:
        if renderable is not None and not app._batch_count:
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
            callback()
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]


def wrap_screen_paints(wrap: Callable[[Callable[..., Any], str], Callable[..., Any]]) -> None:
    """Replace every Screen's paint (`Screen._compositor_refresh`) and relayout (`Screen._refresh_layout`, its own
    paint included) with `wrap(original, "paint" | "relayout")`, for the benches that split idle CPU by where it
    goes. Neither is public; they are where Textual's time for a screen is spent."""
    for name, label in (("_compositor_refresh", "paint"), ("_refresh_layout", "relayout")):
        setattr(Screen, name, wrap(getattr(Screen, name), label))


class QuietCrashApp(App[ReturnType]):
    """An app whose unexpected exception goes to `crashed` instead of a traceback on the terminal.

    Textual prints the traceback of an unhandled exception, locals and all, from `App._fatal_error`, and offers no
    public hook to do otherwise (an exception with `__rich__` goes to `panic`, which prints it too). This overrides
    `_fatal_error`, reads the exception from `App._exception` and ends the app as Textual does
    (`_close_messages_no_wait`); the exit code stays 1 (`App._handle_exception` set it)."""

    def crashed(self, error: BaseException | None) -> None:
        """Called once with the unexpected exception (None if Textual did not keep it); the app then exits."""

    def _fatal_error(self) -> None:
        self.crashed(self._exception)
        self._close_messages_no_wait()

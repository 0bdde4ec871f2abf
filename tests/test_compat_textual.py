"""Every private Textual name monotui uses (monotui/compat/textual.py), checked against the installed Textual: a
release that renames or reshapes one fails here, loudly, instead of the app silently degrading. And no product
module but monotui/compat touches a private Textual name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import textual
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.filter import NoColor
from textual.geometry import Size
from textual.reactive import Reactive
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Static

from monotui.compat import textual as compat

PRODUCT = Path(__file__).resolve().parent.parent / "monotui"


class Keys(App[None]):
    BINDINGS = [Binding("x", "noop", "Do x", id="do.x")]

    def compose(self) -> ComposeResult:
        yield Footer()

    def action_noop(self) -> None:
        pass


async def test_footer_keys_are_the_class_the_footer_composes() -> None:
    app = Keys()
    async with app.run_test() as pilot:
        await pilot.pause()
        keys = list(app.query(compat.FooterKey))
        assert [k.key for k in keys][:1] == ["x"], "Footer no longer yields FooterKey widgets"


def test_footer_bindings_ready_is_footers_reactive_flag() -> None:
    assert isinstance(vars(Footer).get("_bindings_ready"), Reactive), "Footer._bindings_ready is gone or not reactive"


async def test_footer_composes_nothing_until_its_bindings_are_ready_and_the_flag_says_so() -> None:
    app = Keys()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        assert compat.footer_bindings_ready(footer)
        fresh = Footer()
        assert not compat.footer_bindings_ready(fresh)
        assert list(fresh.compose()) == [], "Footer.compose no longer waits for _bindings_ready"
        compat.mark_footer_bindings_ready(fresh)
        assert compat.footer_bindings_ready(fresh)


async def test_a_footer_key_dimmed_in_place_rings_the_bell_on_click_and_looks_dim() -> None:
    app = Keys()
    bells: list[bool] = []
    pressed: list[str] = []
    async with app.run_test() as pilot:
        await pilot.pause()
        key = app.query_one(compat.FooterKey)
        app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
        app.simulate_key = lambda k: pressed.append(k)  # type: ignore[method-assign]
        assert compat.footer_key_enabled(key)
        compat.set_footer_key_enabled(key, False)
        assert not compat.footer_key_enabled(key) and key.has_class("-disabled")
        key.on_mouse_down()
        assert bells == [True] and pressed == [], "FooterKey no longer reads _disabled on a click"
        compat.set_footer_key_enabled(key, True)
        assert compat.footer_key_enabled(key) and not key.has_class("-disabled")
        key.on_mouse_down()
        assert pressed == ["x"]
        # the constructor sets the same attribute the compat function reads
        assert not compat.footer_key_enabled(compat.FooterKey("y", "y", "Y", "noop", disabled=True))


class Dialog(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("dialog")


async def test_a_callback_after_a_screens_refresh_survives_a_dialog_closed_on_top() -> None:
    app = Keys()
    called: list[bool] = []

    async def callback() -> None:
        called.append(True)

    async with app.run_test() as pilot:
        await pilot.pause()
        base = app.screen
        footer = app.query_one(Footer)
        app.push_screen(Dialog())
        compat.after_screen_refresh(base, callback, footer)
        app.pop_screen()
        await pilot.pause()
        base.refresh()
        for _ in range(20):
            if called:
                break
            await pilot.pause()
        assert called == [True], "Screen._invoke_later no longer calls back after the screen's refresh"


async def test_keymap_of_is_what_set_keymap_set_in_long_form() -> None:
    app = Keys()
    async with app.run_test():
        app.set_keymap({"do.x": "?"})
        assert compat.keymap_of(app) == {"do.x": "question_mark"}


async def test_line_filters_can_be_read_and_replaced() -> None:
    app = Keys()
    async with app.run_test():
        before = compat.line_filters(app)
        assert isinstance(before, list)
        no_color = NoColor()
        compat.set_line_filters(app, [no_color])
        assert compat.line_filters(app) == [no_color]
        assert list(app.get_line_filters()) == [no_color], "App._filters is no longer the list the app filters with"


class Tall(ScrollView):
    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width)


class Scrolling(App[None]):
    def compose(self) -> ComposeResult:
        yield Tall()


async def test_scrollbars_follow_a_virtual_size_set_without_a_relayout() -> None:
    app = Scrolling()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        view = app.query_one(Tall)
        size = Size(0, 100)
        view.set_reactive(Widget.virtual_size, size)
        compat.update_scrollbars(view, size)
        await pilot.pause()
        assert view.show_vertical_scrollbar
        assert view.vertical_scrollbar.window_virtual_size == 100, "Widget._scroll_update no longer sizes scrollbars"


class Crashing(compat.QuietCrashApp[None]):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[BaseException | None] = []

    def on_mount(self) -> None:
        raise RuntimeError("a bug")

    def crashed(self, error: BaseException | None) -> None:
        self.seen.append(error)


async def test_an_unexpected_exception_goes_to_crashed_not_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    app = Crashing()
    await app.run_async(headless=True, size=(40, 10))
    assert len(app.seen) == 1 and isinstance(app.seen[0], RuntimeError), "App._fatal_error is no longer called"
    assert app.return_code == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "a bug" not in captured.out + captured.err


# ---- the door is the only one ----------------------------------------------------------------------------------

PRIVATE_NAMES = {
    "_bindings_ready", "_disabled", "_invoke_later", "_keymap", "_filters", "_fatal_error", "_exception",
    "_close_messages_no_wait", "_scroll_update", "_get_justify_method", "_compositor", "_notifications",
}


class Counter(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("0", id="n")


async def test_on_painted_frame_calls_back_at_each_frame_a_change_paints() -> None:
    app = Counter()
    painted: list[float] = []
    async with app.run_test() as pilot:
        compat.on_painted_frame(app, lambda: painted.append(1))
        await pilot.pause()
        before = len(painted)
        app.query_one("#n", Static).update("1")
        await pilot.pause()
        assert len(painted) > before  # the change was painted, and the callback saw it
        with app.batch_update():  # frames held back while updates are batched are not counted
            held = len(painted)
            app.query_one("#n", Static).update("2")
            await pilot.pause()
            assert len(painted) == held
        await pilot.pause()
        assert len(painted) > held


async def test_wrap_screen_paints_sees_each_paint_and_relayout(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.screen import Screen

    seen: list[str] = []
    for name in ("_compositor_refresh", "_refresh_layout"):
        monkeypatch.setattr(Screen, name, getattr(Screen, name))  # put back after the test

    def wrap(original: object, label: str) -> object:
        def wrapper(*args: object, **kwargs: object) -> object:
            seen.append(label)
            return original(*args, **kwargs)  # type: ignore[operator]
        return wrapper

    compat.wrap_screen_paints(wrap)  # type: ignore[arg-type]
    app = Counter()
    async with app.run_test() as pilot:
        await pilot.pause()
        seen.clear()
        app.query_one("#n", Static).update("a much longer text than before")  # a new size: a relayout
        await pilot.pause()
        assert "relayout" in seen
        seen.clear()
        app.query_one("#n", Static).update("a much longer text than befor!")  # same size: a paint
        await pilot.pause()
        assert "paint" in seen


def _private_names_defined(files: list[Path]) -> set[str]:
    """Every `_name` (not dunder) the files define: methods, attributes they store, module and class names."""
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = node.name
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                name = node.attr
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            else:
                continue
            if name.startswith("_") and not name.startswith("__"):
                names.add(name)
    return names


TEXTUAL_PRIVATE = _private_names_defined(sorted(Path(textual.__file__).parent.rglob("*.py")))
BENCH = PRODUCT.parent / "bench"
# the benches too: they ship in the repository and break as the product does when Textual renames a private name
OUTSIDE_COMPAT = [p for p in sorted(PRODUCT.rglob("*.py")) if "compat" not in p.relative_to(PRODUCT).parts] + \
    sorted(BENCH.rglob("*.py"))
# a name monotui defines itself (`self._rows`) is its own, even when a Textual module happens to use it too
MONOTUI_OWN = _private_names_defined(OUTSIDE_COMPAT)


def _of_the_stdlib(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in {"os", "sys", "signal", "asyncio"}  # os._exit


def _private_textual_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "textual":
            if any(part.startswith("_") for part in node.module.split(".")):
                found.append(f"{path.name}:{node.lineno} from {node.module}")
            found += [f"{path.name}:{node.lineno} import {a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [f"{path.name}:{node.lineno} import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "textual" and any(p.startswith("_") for p in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and (node.attr in PRIVATE_NAMES or (node.attr in TEXTUAL_PRIVATE
                                                  and node.attr not in MONOTUI_OWN and not _of_the_stdlib(node))):
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_")
              and node.value in TEXTUAL_PRIVATE and node.value not in MONOTUI_OWN):  # getattr(Screen, "_name")
            found.append(f"{path.name}:{node.lineno} {node.value!r}")
        elif isinstance(node, ast.FunctionDef) and node.name in PRIVATE_NAMES:
            found.append(f"{path.name}:{node.lineno} def {node.name}")
    return found


def test_no_product_or_bench_module_but_compat_touches_a_private_textual_name() -> None:
    """Every private name Textual defines (read from the installed Textual's own source, not a list kept by hand)."""
    assert {"_compositor", "_forward_event", "_check_bindings", "_on_key"} <= TEXTUAL_PRIVATE
    outside = [use for path in OUTSIDE_COMPAT for use in _private_textual_uses(path)]
    assert outside == []
    assert _private_textual_uses(PRODUCT / "compat" / "textual.py"), "the check must see the uses in compat"


def test_no_ui_class_overrides_a_private_textual_method() -> None:
    """Overriding a private Textual method (`_on_focus`) replaces what Textual does there, silently, and breaks when
    Textual renames it: the public handlers (`on_focus`) run beside Textual's own."""
    from textual.app import App
    from textual.screen import ModalScreen, Screen
    from textual.scroll_view import ScrollView
    from textual.widget import Widget
    from textual.widgets import Footer, Input, Static

    private = {name for cls in (Widget, App, Screen, ModalScreen, ScrollView, Static, Footer, Input)
               for name in dir(cls) if name.startswith("_") and not name.startswith("__")}
    overrides = [f"{path.name}:{item.lineno} {node.name}.{item.name}"
                 for path in sorted((PRODUCT / "ui").rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.ClassDef)
                 for item in node.body
                 if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name in private]
    assert overrides == []

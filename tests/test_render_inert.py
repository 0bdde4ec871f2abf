"""At the renderers: a flag's strategy names and change summary, a step's label, an analysis's or
metric's phase and an image's tags come from servers; each reaches the detail panel, the confirmation and the CLI's
words through the sanitiser — a strategy named `ESC ] 0 ; … BEL` retitled the operator's tmux pane."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from monotui.config import Thresholds
from monotui.engine.attention import Attention
from monotui.engine.state import RolloutView
from monotui.models import Analysis, FlagChangeKind, ImageTag, Metric, Step
from monotui.render.detail import detail
from monotui.render.flags import change_words, flag_line, plan_rows, state_text, state_words
from monotui.render.inert import inert, inert_json

from .conftest import make_world
from .test_flags_render import NOW, change, flag

HOSTILE = "x\x1b]0;PWN\x07\x1b]52;c;UFdO\x07\x9b6n\u202eNWP\x08\r"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_a_flags_strategy_names_and_change_summary_are_inert() -> None:
    hostile = flag(rollout=None, strategies=[HOSTILE], last_change=change(FlagChangeKind.STRATEGY_CHANGED,
                                                                         summary=HOSTILE, actor=HOSTILE))
    words = [state_words(hostile), state_text(hostile).plain, change_words(hostile.last_change),
             flag_line(hostile, NOW).plain, *(text.plain for _, text in plan_rows(hostile, False, "flags"))]
    for text in words:
        assert not CONTROL.search(text), repr(text)
    assert "x␛]0;PWN␇" in state_words(hostile)  # shown, visibly


def test_a_steps_label_analysis_phases_and_image_tags_are_inert() -> None:
    rollout = make_world().rollouts()[0]
    rollout = msgspec.structs.replace(
        rollout, steps=[Step(label=HOSTILE), *rollout.steps], current_step=0,
        analysis=[Analysis(name="a", phase=HOSTILE, metrics=[Metric(name="m", phase=HOSTILE)])],
        images=[ImageTag(image="img", tags=[HOSTILE])])
    view = RolloutView(source="prod", rollout=rollout, health=None, attention=Attention.WAITING_FOR_HUMAN,
                       stale=False, read_only=False)
    console = Console(width=400, record=True, color_system=None, force_terminal=False)
    console.print(detail(view, None, [], datetime.now(UTC), Thresholds()))
    text = console.export_text()
    assert not CONTROL.search(text.replace("\n", "")), repr(CONTROL.search(text.replace("\n", "")))
    assert text.count("x␛]0;PWN") >= 4  # the label, both phases, the tags


def test_json_for_the_cli_is_inert_but_whole() -> None:
    data = inert({HOSTILE: [HOSTILE, 1, None, {"k": HOSTILE * 100}]})
    flat = repr(data)
    assert not CONTROL.search(str(data))
    assert len(data["x␛]0;PWN␇␛]52;c;UFdO␇<U+009B>6n<U+202E>NWP␈␍"][3]["k"]) > 200 * 10, flat[:80]  # not cut


# ---- the JSON the CLI prints: inert_json is inert(…) as ASCII JSON, laid out as json.dumps lays it out -----------

# text as servers may send it: controls, DEL, C1, bidi overrides, zero-width characters, escapes' look-alikes
_HOSTILE = st.text(alphabet=st.one_of(
    st.characters(), st.sampled_from("\x1b\x07\x08\r\n\t\x0c\x7f\x85\x9b\u202e\u2066\u200b\u00ad\ufe0f\\\"/u"),
    st.sampled_from(["\U0001f600", "\U000e0041", "é", "ж", "\u3000"])), max_size=40)
_JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _HOSTILE,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_HOSTILE, inner, max_size=5), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_JSONABLE)
def test_the_cli_json_is_the_sanitised_data_for_any_data(data: object) -> None:
    text, line = inert_json(data), inert_json(data, indent=None)
    assert text.isascii() and line.isascii() and "\n" not in line
    assert json.loads(text) == json.loads(line) == inert(data)  # every string sanitised, every value kept
    assert msgspec.json.format(text, indent=2) == text
    # the strings written as json.dumps writes them (ASCII escapes); only a float may be spelt otherwise (1e-05 is
    # written 0.00001), so the text read back and written again is json.dumps' text
    assert json.dumps(json.loads(text), indent=2, ensure_ascii=True) == json.dumps(inert(data), indent=2,
                                                                                   ensure_ascii=True)


_NO_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers() | _HOSTILE,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_HOSTILE, inner, max_size=5), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_NO_FLOATS)
def test_the_cli_json_without_floats_is_json_dumps_text_of_the_sanitised_data(data: object) -> None:
    assert inert_json(data) == json.dumps(inert(data), indent=2, ensure_ascii=True)
    assert inert_json(data, indent=None) == json.dumps(inert(data), ensure_ascii=True, separators=(",", ":"))


def test_the_cli_json_of_a_lone_surrogate_and_a_literal_escape() -> None:
    data = {"k\\u001b": ["\udc80", "\\\\u202e", "a\\\u001bb"], "n": float("nan")}
    assert inert_json(data) == json.dumps(inert({**data, "n": None}), indent=2, ensure_ascii=True)
    assert "<U+DC80>" in inert_json(data) and "\\u001b" not in inert_json(data).replace("\\\\u001b", "")

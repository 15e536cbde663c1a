"""An annotator marks attribute spans on a product title in headless Chromium, with the keyboard and the mouse.

The page is the real annotate.html rendered with the spans partials and a fixed context after the kind's contract
(tokens with a line break, given spans, suggestions), so each case sets exactly what it needs; the browser receives
it at the live server's address under the live server's own Content-Security-Policy, and loads htmx, annotate.js,
span_editor.js and spans.css from its static files. tests/e2e/test_span_annotate.py goes through the real views."""

import json
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.browser

PAGE = "/__span-editor__/"
BRAND, MODEL, COLOR, TYPE = 11, 12, 13, 14
SPAN_TYPES = [
    {"id": BRAND, "name": "BRAND", "key": "1", "color": "#1f77b4"},
    {"id": MODEL, "name": "MODEL", "key": "2", "color": "#ff7f0e"},
    {"id": COLOR, "name": "COLOR", "key": "3", "color": "#2ca02c"},
    {"id": TYPE, "name": "TYPE", "key": "4", "color": "#9467bd"},
]
# "Sony WH-1000XM5 Wireless Noise Cancelling Headphones, Midnight Blue" + "\n" + "Over-ear"
WORDS = [
    ("Sony", True),
    ("WH-1000XM5", True),
    ("Wireless", True),
    ("Noise", True),
    ("Cancelling", True),
    ("Headphones", False),
    (",", True),
    ("Midnight", True),
    ("Blue", False),
    ("\n", False),
    ("Over-ear", False),
]
TOKENS = [{"i": i, "text": text, "ws": ws} for i, (text, ws) in enumerate(WORDS)]

# Records what the browser refused (an inline style or script), before any script of the page runs.
LISTEN = """
window.__blocked = [];
document.addEventListener("securitypolicyviolation", (e) => window.__blocked.push(e.violatedDirective));
"""


def kind() -> SimpleNamespace:
    templates = {part: f"labeling/kinds/spans/{part}.html" for part in ("item", "answer", "help")}
    return SimpleNamespace(
        name="spans",
        list_mode=False,
        task_noun_plural="products",
        page_scripts=("js/span_editor.js",),
        item_template=templates["item"],
        answer_template=templates["answer"],
        help_template=templates["help"],
    )


def render(template: str, *, task_id: int = 7, tokens=TOKENS, suggested=(), given=()) -> str:
    product = SimpleNamespace(
        title="Sony WH-1000XM5", brand="Sony", attributes={"color": "Midnight Blue"}, external_id=f"SKU-{task_id}"
    )
    context = {
        "kind": kind(),
        "dataset": SimpleNamespace(pk=3, name="Headphones"),
        "task": SimpleNamespace(pk=task_id),
        "progress": {"submitted": 0, "skipped": 0},
        "suggestions_shown": bool(suggested),
        "product": product,
        "tokens": tokens,
        "span_types": SPAN_TYPES,
        "suggested_spans": list(suggested),
        "given_spans": list(given),
    }
    return render_to_string(template, context)


def open_editor(page, live_server, **context) -> None:
    policy = page.request.get(f"{live_server.url}/login/").headers["content-security-policy"]
    html = render("labeling/annotate.html", **context)
    page.context.add_init_script(LISTEN)
    page.route(
        f"**{PAGE}",
        lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=html, headers={"Content-Security-Policy": policy}
        ),
    )
    page.goto(PAGE)
    page.add_style_tag(url="/static/css/spans.css")
    page.wait_for_selector("#task-panel[data-ready='true'] #span-tokens .token.cursor")


def answer(page) -> list[list[int]]:
    return json.loads(page.input_value("#answer-spans"))


def token(page, i: int):
    return page.locator(f"#span-tokens [data-i='{i}']")


def labels(page) -> dict[int, int]:
    """Each token in a solid span: its label id."""
    return {
        int(i): int(label)
        for i, label in page.eval_on_selector_all(
            "#span-tokens [data-span-label]", "els => els.map(e => [e.dataset.i, e.dataset.spanLabel])"
        )
    }


def indices(page, css_class: str) -> list[int]:
    return [int(i) for i in page.eval_on_selector_all(f"#span-tokens .{css_class}", "els => els.map(e => e.dataset.i)")]


def blocked(page) -> list[str]:
    return page.evaluate("window.__blocked")


def press(page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def test_a_digit_types_the_cursor_word_and_shift_arrows_select_several(page, live_server, transactional_db):
    open_editor(page, live_server)
    assert indices(page, "cursor") == [0] and token(page, 0).get_attribute("aria-current") == "true"
    assert answer(page) == []

    press(page, "1")
    assert answer(page) == [[0, 0, BRAND]]
    assert '"Sony" marked BRAND' in page.inner_text("#announcer")

    press(page, *["ArrowRight"] * 7, "Shift+ArrowRight")
    assert indices(page, "selected") == [7, 8] and indices(page, "cursor") == [8]
    press(page, "3")
    assert answer(page) == [[0, 0, BRAND], [7, 8, COLOR]]
    assert labels(page) == {0: BRAND, 7: COLOR, 8: COLOR}
    assert indices(page, "selected") == []
    assert "Midnight Blue" in page.inner_text("#span-list")
    assert blocked(page) == []


def test_an_overlap_is_refused_with_a_message_and_backspace_removes_a_given_span(page, live_server, transactional_db):
    open_editor(page, live_server, given=[{"start": 0, "end": 0, "label_id": BRAND}])
    assert answer(page) == [[0, 0, BRAND]] and labels(page) == {0: BRAND}

    press(page, "Shift+ArrowRight", "2")
    assert page.inner_text("#span-message") == '"Sony" is already BRAND: remove it first (Backspace)'
    assert page.get_attribute("#span-message", "role") == "alert"
    assert answer(page) == [[0, 0, BRAND]] and labels(page) == {0: BRAND}
    assert indices(page, "selected") == [0, 1]  # kept, to be typed again once the clash is gone

    press(page, "Escape", "ArrowLeft", "Backspace")
    assert answer(page) == [] and labels(page) == {}
    press(page, "Shift+ArrowRight", "2")
    assert answer(page) == [[0, 1, MODEL]] and page.inner_text("#span-message") == ""


SUGGESTED = [
    {"start": 0, "end": 0, "label_id": BRAND, "probability": 0.95},
    {"start": 1, "end": 1, "label_id": MODEL, "probability": None},
    {"start": 8, "end": 8, "label_id": COLOR, "probability": 0.6},
]


def test_a_accepts_every_suggestion_but_those_overlapping_a_span_and_says_how_many(page, live_server, transactional_db):
    open_editor(page, live_server, suggested=SUGGESTED, given=[{"start": 7, "end": 8, "label_id": COLOR}])
    assert indices(page, "suggested") == [0, 1, 8]
    assert answer(page) == [[7, 8, COLOR]]  # suggestions are no answer until accepted

    press(page, "a")
    assert answer(page) == [[0, 0, BRAND], [1, 1, MODEL], [7, 8, COLOR]]
    assert "Accepted 2 suggestions; 1 left out" in page.inner_text("#span-message")
    assert labels(page) == {0: BRAND, 1: MODEL, 7: COLOR, 8: COLOR}


def test_a_click_on_a_suggestion_accepts_it_alone(page, live_server, transactional_db):
    open_editor(page, live_server, suggested=SUGGESTED)
    token(page, 1).click()
    assert answer(page) == [[1, 1, MODEL]]
    assert indices(page, "suggested") == [0, 8]

    press(page, "Home", "Backspace")  # on a suggestion, Backspace dismisses it
    assert indices(page, "suggested") == [8] and answer(page) == [[1, 1, MODEL]]


def drag(page, first: int, last: int) -> None:
    start, end = token(page, first).bounding_box(), token(page, last).bounding_box()
    page.mouse.move(start["x"] + 3, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=5)
    page.mouse.up()


def test_a_mouse_drag_selects_and_a_digit_or_a_type_button_gives_the_type(page, live_server, transactional_db):
    open_editor(page, live_server)
    drag(page, 3, 5)
    assert indices(page, "selected") == [3, 4, 5]
    press(page, "4")
    assert answer(page) == [[3, 5, TYPE]]

    drag(page, 8, 7)
    assert indices(page, "selected") == [7, 8]
    page.click("#span-types [data-span-type='13']")
    assert answer(page) == [[3, 5, TYPE], [7, 8, COLOR]]
    assert page.evaluate("document.activeElement.id") == "task-panel"  # Enter submits, not the type button

    drag(page, 1, 2)
    press(page, "Escape", "2")  # the selection is gone: the cursor word alone gets the type
    assert answer(page) == [[2, 2, MODEL], [3, 5, TYPE], [7, 8, COLOR]]
    assert blocked(page) == []


def test_the_arrows_skip_the_line_break_between_title_and_description(page, live_server, transactional_db):
    open_editor(page, live_server)
    press(page, "End")
    assert indices(page, "cursor") == [10]
    press(page, "ArrowLeft")
    assert indices(page, "cursor") == [8]
    press(page, "ArrowRight", "Shift+ArrowLeft")
    assert indices(page, "selected") == [8, 10]  # the line break is in the range but never selected itself
    assert token(page, 9).get_attribute("aria-hidden") == "true"
    press(page, "ArrowRight", "ArrowRight")
    assert indices(page, "cursor") == [10]


def test_enter_sends_the_spans_and_the_next_task_is_edited_afresh(page, live_server, transactional_db):
    open_editor(page, live_server)
    posted = []
    second = render(
        "labeling/annotate.html#task",
        task_id=8,
        tokens=[{"i": 0, "text": "Adidas", "ws": True}, {"i": 1, "text": "Samba", "ws": False}],
    )

    def submit(route):
        posted.append(parse_qs(route.request.post_data))
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=second)

    page.route("**/tasks/7/submit/", submit)
    press(page, "Enter")  # nothing marked: "no attribute in this text" is an answer
    page.wait_for_selector("#task-panel[data-task-id='8'] #span-tokens .token.cursor[data-i='0']")
    assert posted[0]["spans"] == ["[]"] and posted[0]["flagged"] == ["false"]

    assert answer(page) == []
    press(page, "ArrowRight", "2")
    assert answer(page) == [[1, 1, MODEL]] and page.inner_text(".token[data-span-label]") == "Samba"
    assert blocked(page) == []

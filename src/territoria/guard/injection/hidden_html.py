"""Raw HTML, before boilerplate removal: text a reader cannot see is where injections hide.

The parser (standard library, tolerant of broken markup) sorts text into three bins: visible
text; text hidden the ordinary way (display:none, visibility:hidden, opacity 0, off-screen or
clipped boxes, `hidden`, aria-hidden, screen-reader classes, comments, templates), which also
holds menus, icons and folded FAQ answers; and text hidden by a trick that only makes sense to
fool a reader (font-size about 0, same colour as the background). Declarations of `<style>`
rules on simple `tag`, `.class` and `#id` selectors apply with the inline ones. Attribute
texts (alt, title, aria-label, meta content, input values) are screened too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from territoria.guard.injection.rules import R_HIDDEN
from territoria.guard.injection.screening import Screening, Signals, analyse

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_SKIP = frozenset({"script", "style"})
_BLOCK = frozenset(
    [
        "p",
        "div",
        "li",
        "tr",
        "td",
        "th",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "br",
    ]
)
_AUTO_CLOSE = frozenset(["p", "li", "tr", "td", "th", "dt", "dd", "option"])
_ATTRIBUTES = ("alt", "title", "aria-label", "content", "placeholder", "value")
_SR_ONLY = frozenset(
    ["sr-only", "visually-hidden", "screen-reader-text", "fr-sr-only", "hidden-text"]
)
_HIDING = re.compile(
    r"display:none|visibility:(?:hidden|collapse)|opacity:0(?:\.0+)?(?:;|$|!)|"
    r"color:transparent|color:rgba\([^)]*,0(?:\.0+)?\)|"
    r"(?:left|top|right|text-indent|margin-left|margin-top):-\d{3,}|clip:rect\(0|"
    r"clip-path:inset\((?:50|100)%|transform:scale\(0\)|"
    r"(?:^|;)(?:max-)?(?:height|width):0(?:px)?(?:;|$).*overflow:hidden|"
    r"overflow:hidden.*(?:^|;)(?:max-)?(?:height|width):0(?:px)?(?:;|$)"
)
_FONT_SIZE = re.compile(r"font-size:([0-9.]+)(px|pt|em|rem|%)?")
_COLOR = re.compile(r"(?:^|;)color:([^;]+)")
_BACKGROUND = re.compile(r"background(?:-color)?:([^;]+)")
_WHITE = frozenset(["#fff", "#ffffff", "white", "rgb(255,255,255)", "#fefefe", "#fffffe"])
_CSS_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
_SELECTOR = re.compile(r"([a-z][a-z0-9]*)?(?:([.#])([\w-]+))?")

# What hidden text says weighs more once one of its signals reaches the minimum: display:none
# also folds FAQ answers and menus (ordinary prose), a trick (size 0, same colour) does not.
_HIDDEN_BOOST, _HIDDEN_MIN = 0.25, 0.35
_TRICK_BOOST, _TRICK_MIN = 0.3, 0.25
_HIDDEN_WEIGHT = 0.5
_TRICK_PROSE_WORDS = 12


@dataclass(frozen=True)
class _Frame:
    tag: str
    hidden: bool = False  # display:none, hidden, aria-hidden, off-screen, transparent...
    tiny: bool = False  # font-size of about 0 (a child may set a size back)
    color: str = ""
    background: str = "#fff"

    @property
    def deceptive(self) -> bool:
        """Hidden by a trick that only makes sense to fool a reader: size 0, same colour."""
        return self.tiny or (bool(self.color) and self.color == self.background)


def _colour(value: str) -> str:
    value = value.replace("!important", "").strip()
    return "#fff" if value in _WHITE else value


class _HiddenTextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.hidden: list[str] = []
        self.deceptive: list[str] = []
        self.attributes: list[str] = []
        self.rules: dict[tuple[str, str], str] = {}  # (".", class) or ("#", id) -> declarations
        self.stack: list[_Frame] = [_Frame("#root")]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        self.attributes.extend(values[n] for n in _ATTRIBUTES if values.get(n, "").strip())
        if tag in _VOID:
            return
        if tag in _AUTO_CLOSE and self.stack[-1].tag == tag:
            self.stack.pop()
        self.stack.append(self._frame(tag, values))

    def _frame(self, tag: str, values: dict[str, str]) -> _Frame:
        parent = self.stack[-1]
        classes = values.get("class", "").lower().split()
        css = [self.rules.get(("", tag), "")]
        css.extend(self.rules.get((".", name), "") for name in classes)
        css.append(self.rules.get(("#", values.get("id", "").lower()), ""))
        style = ";".join([*css, re.sub(r"\s+", "", values.get("style", "").lower())])
        hidden = (
            parent.hidden
            or tag in _SKIP
            or tag == "template"
            or "hidden" in values
            or values.get("aria-hidden") == "true"
            or bool(_SR_ONLY.intersection(classes))
            or bool(_HIDING.search(style))
        )
        tiny = parent.tiny or (tag == "font" and values.get("size", "").strip() in {"0", "-7"})
        for size, unit in _FONT_SIZE.findall(style):
            absolute = unit in {"px", "pt", ""}
            tiny = float(size) <= 1.0 if absolute else (tiny or float(size) == 0)
        colour = _COLOR.search(style)
        font_colour = values.get("color", "").lower() if tag == "font" else ""
        background = _BACKGROUND.search(style)
        return _Frame(
            tag,
            hidden=hidden,
            tiny=tiny,
            color=_colour(colour.group(1)) if colour else _colour(font_colour) or parent.color,
            background=(
                _colour(background.group(1))
                if background
                else _colour(values.get("bgcolor", "").lower()) or parent.background
            ),
        )

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                break
        if tag in _BLOCK:
            self.visible.append("\n")

    def handle_data(self, data: str) -> None:
        frame = self.stack[-1]
        if frame.tag == "style":
            self._learn_css(data)
        elif frame.tag == "script" or not data.strip():
            return
        elif frame.hidden:
            self.hidden.append(data)
        elif frame.deceptive:
            self.deceptive.append(data)
        else:
            self.visible.append(data)

    def handle_comment(self, data: str) -> None:
        if data.strip():
            self.hidden.append(data)

    def _learn_css(self, css: str) -> None:
        for selectors, body in _CSS_RULE.findall(css):
            declarations = re.sub(r"\s+", "", body.lower())
            for selector in selectors.split(","):
                match = _SELECTOR.fullmatch(selector.strip().lower())
                if match and (match.group(1) or match.group(3)):
                    key = (
                        (match.group(2), match.group(3)) if match.group(2) else ("", match.group(1))
                    )
                    self.rules[key] = self.rules.get(key, "") + ";" + declarations


def screen_html(raw_html: str) -> Screening:
    """Screen raw HTML (before boilerplate removal): visible text, hidden text, attributes.

    What hidden text says weighs more (its rule weights are raised) and adds "texte caché";
    prose of 12 words or more hidden by a trick (not by display:none) is suspect by itself.
    """
    parser = _HiddenTextParser()
    parser.feed(raw_html)
    parser.close()
    signals = Signals.empty()
    signals.merge(analyse(" ".join(parser.visible), question=False), "visible:")
    signals.merge(analyse("\n".join(parser.attributes), question=False), "attributes:")
    bins = (
        ("hidden", parser.hidden, _HIDDEN_BOOST, _HIDDEN_MIN),
        ("trick", parser.deceptive, _TRICK_BOOST, _TRICK_MIN),
    )
    for name, parts, boost, minimum in bins:
        found = analyse("\n".join(parts), question=False)
        if found.strongest() >= minimum:
            signals.merge(found, name + ":", boost)
            signals.add(name, R_HIDDEN, _HIDDEN_WEIGHT)
        else:
            signals.merge(found, name + ":")
    if sum(len(part.split()) for part in parser.deceptive) >= _TRICK_PROSE_WORDS:
        signals.add("trick-prose", R_HIDDEN, _HIDDEN_WEIGHT)
    return signals.screening()

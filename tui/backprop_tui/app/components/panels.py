"""The text panels beside the diagram: equation, explanation, values, and the status line.

Each panel renders a view-model value and repaints only when that value changed, so a key
press costs no more than the panels it actually changes.

The three panels are Line-API views (``Panel``): they wrap their own text to their width,
take focus (Tab), scroll by keys while focused — ↑ ↓ PgUp PgDn; the step keys → ← Home End
stay the app's (priority bindings) — and say in their bottom border how many lines are out
of sight (``↑ 3 above · ↓ 5 more``). A step's new text never changes a panel's size, so it
never lays the screen out again (see textual_private).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Generic, TypeVar

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.markup import escape
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Static

from backprop_tui.app.components.regions import refresh_rows
from backprop_tui.app.textual_private import set_virtual_size_quietly
from backprop_tui.app.view_model import Equation, GradientView, Status, ValueRow
from backprop_tui.numbers import integer_width

Model = TypeVar("Model")
TIMES = "·"  # a line may break after it where no space does
Lines = Sequence[tuple[Content, int]]  # (a line of text, the indent of its continuations)


def breaks(text: str, width: int, hang: int = 0) -> list[tuple[int, int]]:
    """Where ``text`` is cut to fit ``width`` cells: each piece's (start, end), broken at a
    space where one fits (the spaces at a break dropped), else (or where the space would
    leave a bare "=") after a product's "·", which no number holds: ``= −(0.325459513·``
    then ``0.248798087)``; a word longer than a line is cut. Every piece after the first
    is indented by ``hanging(text, width, hang)`` cells."""
    width = max(1, width)
    hang = hanging(text, width, hang)
    lead = len(text) - len(text.lstrip(" "))  # a line's own indent is no place to break
    pieces: list[tuple[int, int]] = []
    start, room, count = 0, width, len(text)
    single = all(get_character_cell_size(char) == 1 for char in set(text))
    while True:
        if single:  # (nearly always: a cell a character, counted at once)
            end = min(count, start + room)
        else:
            end, used = start, 0
            while end < count and used + get_character_cell_size(text[end]) <= room:
                used += get_character_cell_size(text[end])
                end += 1
        if end >= count:
            pieces.append((start, count))
            return pieces
        space = text.rfind(" ", max(start, lead) + 1, end + 1)
        if space <= start or text[start:space].strip(" ") in ("", "="):  # nothing before
            times = text.rfind(TIMES, max(start, lead) + 1, end)
            space = times + 1 if times > space else space
        cut = space if space > start else max(end, start + 1)
        pieces.append((start, start + len(text[start:cut].rstrip(" "))))
        start = cut
        while start < count and text[start] == " ":
            start += 1
        if start >= count:
            return pieces
        room = width - hang


def hanging(text: str, width: int, hang: int) -> int:
    """The indent of ``text``'s continuations: ``hang``, unless that leaves less than half
    the width (then none), or too little for its longest word and an operator after it
    where at least half of ``hang`` leaves enough (then that: a term is kept whole where a
    little less indent does it; else it breaks after a "·")."""
    if hang * 2 > width:
        return 0
    room = width - max(map(cell_len, text.split()), default=0) - 2
    return room if hang // 2 <= room < hang else hang


def wrapped(line: Content, width: int, hang: int = 0) -> list[Content]:
    """``line`` in lines of at most ``width`` cells (see ``breaks``), styles kept."""
    if cell_len(line.plain) <= width:
        return [line]
    pieces = breaks(line.plain, width, hang)
    indent = Content(" " * hanging(line.plain, max(1, width), hang))
    return [line[start:end] if n == 0 else indent + line[start:end]
            for n, (start, end) in enumerate(pieces)]


class Panel(ScrollView, can_focus=True, inherit_bindings=False):
    """A panel that scrolls by keys once focused and tells, in its bottom border, how many
    of its lines are above and below what it shows.

    Only ↑ ↓ PgUp PgDn: a scrolling container's → ← Home End are the app's step keys (its
    priority bindings), and are left out here so that the footer keeps the table's order."""

    auto_links = Reactive(False)  # no links in their text: its lines are drawn as they are

    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._tell_hidden()

    def _sized(self, width: int, height: int, top: int,
               lines: Sequence[int] | None = None) -> None:
        """``height`` lines of ``width`` cells, scrolled to line ``top`` (or as near as the
        lines allow); ``lines``: only these lines changed (None: any may have), so only
        those in sight are drawn again if it stays scrolled where it was."""
        size = Size(width, height)
        if size != self.virtual_size:
            set_virtual_size_quietly(self, size)
        seen = self.scrollable_content_region.height
        scroll = round(self.scroll_y)
        self.set_scroll(0, max(0, min(top, height - seen)))
        tell_hidden(self, seen)
        if lines is None or round(self.scroll_y) != scroll:
            self.refresh()
            return
        refresh_rows(self, (line - scroll for line in lines if 0 <= line - scroll < seen),
                     width)

    def _tell_hidden(self) -> None:
        tell_hidden(self)


def tell_hidden(view: Widget, seen: int | None = None) -> None:
    """Say in ``view``'s bottom border how many of its lines are out of sight, above and
    below: '↑ 3 above · ↓ 5 more' (nothing when all are in sight). ``seen``: the lines it
    shows, where known."""
    height = view.virtual_size.height
    if seen is None:
        seen = view.scrollable_content_region.height
    above = min(round(view.scroll_y), height)
    below = max(0, height - above - seen) if seen else 0
    said = " · ".join([*([f"↑ {above} above"] if above else []),
                       *([f"↓ {below} more"] if below else [])])
    if said != view.border_subtitle:
        view.border_subtitle = said


class TextPanel(Panel, Generic[Model]):
    """A panel of text, drawn from a model: a new model starts at its top."""

    _model: object = object()
    _lines: Lines = ()
    _pieces: list[Content] = []  # the lines wrapped to the width
    _strips: list[Strip] | None = None  # the pieces styled: made when first drawn
    _blank: Strip | None = None  # a line under the text
    _width = 0  # the width wrapped to

    def show(self, model: Model) -> bool:
        if model == self._model:
            return False
        self._model = model
        self._lines = self.render_model(model)
        self._wrap(top=0)
        return True

    def render_model(self, model: Model) -> Lines:
        raise NotImplementedError

    @property
    def text(self) -> str:
        """The whole text, its lines as they are before wrapping."""
        return "\n".join(line.plain for line, _ in self._lines)

    def _wrap(self, top: int) -> None:
        """Wrap the lines to the width and style them; draw again only the lines that
        changed (a step keeps the equation's layout, often its first lines)."""
        width = self._width = self.scrollable_content_region.width
        if width <= 0:  # not laid out yet: the first frame wraps (render_line)
            return
        before = self._strips
        self._pieces = self._wrapped(width)
        self._strips = None
        after = self._styled(width)
        changed = None
        if before is not None and before and after and (
                before[0].cell_length == after[0].cell_length):
            changed = [y for y in range(max(len(before), len(after)))
                       if y >= len(before) or y >= len(after) or before[y] != after[y]]
        self._sized(width, len(self._pieces), top, changed)

    def _wrapped(self, width: int) -> list[Content]:
        return [piece for line, hang in self._lines for piece in wrapped(line, width, hang)]

    def on_resize(self) -> None:
        self._strips = None
        self._wrap(top=round(self.scroll_y))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = self._blank = None  # a new theme, or focus: styled again when drawn

    def _styled(self, width: int) -> list[Strip]:
        """The pieces styled, made when first needed after a change."""
        if self._strips is None:
            self._strips = Visual.to_strips(self, Content("\n").join(self._pieces), width,
                                            None, self.visual_style, pad=True)
        return self._strips

    def render_line(self, y: int) -> Strip:
        width = self._width or self.scrollable_content_region.width
        if not self._width and width > 0:  # laid out since its text came: the first frame
            self._width, self._pieces = width, self._wrapped(width)  # (on_resize sizes it)
            self._strips = None
        strips = self._styled(width)
        index = round(self.scroll_y) + y
        if 0 <= index < len(strips) and index < len(self._pieces):
            return strips[index]
        if self._blank is None or self._blank.cell_length != width:
            self._blank = Strip.blank(width, self.visual_style.rich_style)
        return self._blank



STACKED = 16  # cells: a longer symbol (δ_o₁ (chain rule)) leaves too little room beside it


class EquationPanel(TextPanel[Equation | None]):
    """Formula, numbers substituted and result on their own lines, '=' aligned (under a
    symbol longer than STACKED cells, which stands on a line of its own); then the
    factors with their values and the steps they came from. A line too long for the panel
    goes on under where it started (after its '=')."""

    def render_model(self, model: Equation | None) -> Lines:
        if model is None:
            return ((Content.from_markup(
                "[$text-muted]Nothing computed yet this epoch. Press → to take the first "
                "step."), 0),)
        symbol = f"[b]{escape(model.symbol)}[/b]"
        if cell_len(model.symbol) > STACKED:  # its own line, the '='s under its start
            pad = ""
            lines = [(symbol, 0), (f" = {escape(model.formula)}", 3)]
        else:
            pad = " " * cell_len(model.symbol)
            lines = [(f"{symbol} = {escape(model.formula)}", len(pad) + 3)]
        hang = len(pad) + 3
        lines.append((f"{pad} = {escape(model.substituted)}", hang))
        if model.result:
            lines.append((f"{pad} = [b reverse] {escape(model.result)} [/]", hang))
        if model.mark:
            symbol, reason = model.mark
            look = {"✓": "$text-success", "✎": "$text-muted", "○": "$text-muted"}.get(
                symbol, "b $text-warning")
            lines.append((f"[{look}]{symbol} {escape(reason)}[/]", 2))
        if model.gradient is not None:
            lines += [(line, 2) for line in _gradient_lines(model.gradient, pad)]
        if model.factors:
            lines.append(("", 0))
            width = max(cell_len(f.symbol) for f in model.factors)
            value_width = max(len(f.value) for f in model.factors)
            for factor in model.factors:
                lines.append((
                    f"  {escape(factor.symbol + ' ' * (width - cell_len(factor.symbol)))} = "
                    f"{escape(factor.value.rjust(value_width))}  [$text-muted]{factor.source}[/]",
                    width + 5))
        return tuple((Content.from_markup(text), hang) for text, hang in lines)


def _gradient_lines(check: GradientView, pad: str) -> list[str]:
    """The gradient check under the result: the finite difference's estimate, the relative
    difference with ✓ / ✗ / ≈, and why a difference is expected."""
    if not check.symbol:
        return [f"[$text-muted]{escape(check.note)}[/]"]
    look = {"✓": "$text-success", "✗": "b $text-error"}.get(check.symbol, "$text-warning")
    lines = [f"{pad} ≈  {escape(check.numeric)}  [$text-muted](numeric)[/]",
             f"[{look}]{check.symbol} relative difference {escape(check.relative)}[/]"
             f"[$text-muted] (h = {escape(check.h)})[/]"]
    if check.note:
        lines.append(f"[$text-muted]  {escape(check.note)}[/]")
    return lines


class ExplanationPanel(TextPanel[str]):
    def render_model(self, model: str) -> Lines:
        return ((Content(model), 0),)


class ValuesPanel(Panel):
    """Every value computed so far this epoch, grouped by phase (with several examples, by
    example first), the newest marked ▶ and kept in view.

    It renders only the rows in sight, so a step costs the same however many values the
    epoch has produced. A row too wide for the panel goes on, indented, on the next line:
    nothing is cut and nothing scrolls sideways.
    """

    COMPONENT_CLASSES = {"values--group", "values--phase", "values--newest", "values--muted"}
    DEFAULT_CSS = """
    ValuesPanel > .values--group { color: $accent; text-style: bold; }
    ValuesPanel > .values--phase { color: $primary; text-style: bold; }
    ValuesPanel > .values--newest { text-style: bold reverse; }
    ValuesPanel > .values--muted { color: $text-muted; }
    """
    _model: object = object()
    _rows: list[tuple[str, str]] = []  # (text, component class or "")
    _styles: dict[str, Style] | None = None
    _room = 0  # the width laid out for
    # The rows' strips (at a width) drawn since the last step, and in the step before: a
    # step moves the rows up one, so most were drawn before; older ones are let go (a strip
    # is a dozen objects for the garbage collector to visit).
    _drawn: dict[tuple[tuple[str, str], int], Strip] = {}
    _drawn_before: dict[tuple[tuple[str, str], int], Strip] = {}

    def show(self, model: tuple[tuple[ValueRow, ...], int]) -> bool:
        if model == self._model:
            return False
        self._model = model
        self._lay_out()
        return True

    def _lay_out(self) -> None:
        """The rows at the panel's width, scrolled to the newest."""
        room = self._room = self.scrollable_content_region.width
        if not isinstance(self._model, tuple) or room <= 0:  # not laid out: the first frame
            return  # lays them out (render_line)
        lines = self._rows_at(room)
        before, self._rows = self._rows, lines
        self._drawn_before, self._drawn = self._drawn, {}
        changed = [y for y in range(max(len(before), len(lines)))
                   if y >= len(before) or y >= len(lines) or before[y] != lines[y]]
        self._sized(room, len(lines), len(lines), changed)  # the newest in view

    def _rows_at(self, room: int) -> list[tuple[str, str]]:
        """The rows of the model at ``room`` cells: (text, component class or "")."""
        assert isinstance(self._model, tuple)
        rows, hidden = self._model
        lines: list[tuple[str, str]] = []
        if hidden:
            lines.append((f"… {hidden} earlier values", "values--muted"))
        width = max((cell_len(r.symbol) for r in rows), default=0)
        point = max((integer_width(r.value) for r in rows), default=0)
        right = max((len(r.value) - integer_width(r.value) for r in rows), default=0)
        phase, group = None, ""
        for row in rows:
            if row.group != group:  # several examples: a header per example, phases under it
                group, phase = row.group, None
                lines.append((f"▌{group}", "values--group"))
            if row.phase != phase:
                phase = row.phase
                lines.append((phase, "values--phase"))
            lead, look = ("▶ ", "values--newest") if row.newest else ("  ", "")
            value = " " * (point - integer_width(row.value)) + row.value
            text = f"{row.symbol}{' ' * (width - cell_len(row.symbol))}  {value}"
            if row.mark:  # the printed value too where it fits, else its mark, aligned
                # (by cells: m̂ is two characters, m and a combining circumflex, in one)
                column = text + " " * (width + 2 + point + right - cell_len(text))
                text = next((t for t in (f"{column}  {row.mark}", f"{column}  {row.mark[0]}",
                                         f"{text} {row.mark[0]}")
                             if cell_len(lead + t) + 2 <= room), text)
            if cell_len(lead + text) > room:  # unaligned, then the value on a line of its own
                text = " ".join(filter(None, (row.symbol, row.value, row.mark)))
            lines += [(piece, look) for piece in _pieces(lead + text, room, len(lead) + 2)]
        if not rows:
            lines += [(piece, "values--muted") for piece in
                      _pieces("Values appear here as they are computed.", room, 0)]
        return lines

    def on_resize(self) -> None:
        """Lay the rows out again: whether a row fits, and its printed value, changed."""
        self._rows = []  # every row drawn again
        self._lay_out()

    def render_line(self, y: int) -> Strip:
        if self._styles is None:
            base = self.rich_style
            self._styles = {"": base, **{name: base + self.get_component_rich_style(name)
                                         for name in self.COMPONENT_CLASSES}}
            self._drawn, self._drawn_before = {}, {}
        width = self._room or self.scrollable_content_region.width
        if not self._room and width > 0 and isinstance(self._model, tuple):
            self._room, self._rows = width, self._rows_at(width)  # the first frame
        if self.virtual_size.height:
            index = round(self.scroll_y) + y
        else:  # not sized yet (on_resize sizes it): the newest in view, as it will be
            index = max(0, len(self._rows) - self.scrollable_content_region.height) + y
        if index >= len(self._rows):
            return Strip.blank(width, self._styles[""])
        row = self._rows[index]
        strip = self._drawn.get((row, width)) or self._drawn_before.get((row, width))
        if strip is None:
            text, component = row
            strip = Strip([Segment(text, self._styles[component])]).crop(0, width)
            strip = strip.extend_cell_length(width, self._styles[""])
        self._drawn[row, width] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # a new theme


@lru_cache(maxsize=4096)
def _pieces(text: str, width: int, hang: int) -> tuple[str, ...]:
    """``text`` cut to ``width`` (see ``breaks``), its continuations indented by ``hang``.
    (Cached: every step lays out the epoch's rows so far again, nearly all as before.)"""
    pieces = breaks(text, width, hang)
    indent = " " * hanging(text, max(1, width), hang)
    return tuple(text[start:end] if n == 0 else indent + text[start:end]
                 for n, (start, end) in enumerate(pieces))


class ModelStatic(Static, Generic[Model]):
    """A Static that redraws from a model only when the model changes. Its size is fixed
    by the stylesheet, so a redraw never needs a new layout (one frame per key press)."""

    _model: object = object()

    def show(self, model: Model) -> bool:
        if model == self._model:
            return False
        self._model = model
        self.update(self.render_model(model), layout=False)
        return True

    def render_model(self, model: Model) -> Content:
        raise NotImplementedError


class StatusLine(ModelStatic[Status]):
    """Phases as breadcrumbs (the current one bracketed and reversed), step k of n, epoch,
    the total error once known (and, from the updates on, whether before or after them),
    hand rounding, and the digits shown — always, as the feedback of + and -. Where that
    is too wide, the other phases go first, then the words; what still does not fit ends
    in '…'."""

    def on_resize(self) -> None:
        if isinstance(self._model, Status):
            self.update(self.render_model(self._model))

    def render_model(self, model: Status) -> Content:
        width = self.size.width or 118
        # (the other phases: 0 full, 1 short, 2 none; current phase's label short;
        #  "step k/n" (and "ex. 3/4 · upd. 1/1", 2: "ex. 3/4"); the total error's "(before
        #  the updates)")
        for others, short, terse, when in ((0, False, 0, 2), (1, False, 0, 2),
                                           (1, False, 1, 2), (2, False, 0, 2),
                                           (2, False, 0, 1), (2, True, 0, 1),
                                           (2, True, 1, 1), (2, True, 1, 0), (2, True, 2, 0)):
            content = Content.from_markup(_status_text(model, others, short, terse, when))
            if content.cell_length <= width:
                break
        if model.diverged:
            content += Content.from_markup(f"  [b $warning]⚠ {escape(model.diverged)}[/]")
        return content.truncate(width, ellipsis=True)


def _status_text(model: Status, others: int, short: bool, terse: int, when: int) -> str:
    """The status line's text: the other phases in full (``others`` 0), short (1) or left
    out (2); the current one ``short``; ``terse``: step k/n, and the example's place in
    short (1) or without its update (2); ``when``: which total error it is, in words (2),
    in a word (1), or only by its symbol (0)."""
    scores = model.quiz or ("",) * len(model.phases)  # the quiz's, beside each phase
    crumbs = " › ".join(
        f"[b reverse]\\[{escape(_short(label) if short else label)}"
        f"{' ' + score if score else ''}][/]" if current
        else escape(_short(label) if others else label)
        + (f" [$text-success]{score}[/]" if score else "")
        for (label, current), score in zip(model.phases, scores, strict=True)
        if current or others < 2)
    parts = [*([crumbs] if crumbs else []), *_examples(model, terse),
             f"step {model.index}/{model.count}" if terse
             else f"step {model.index} of {model.count}",
             f"epoch {model.epoch:,}"]
    if model.quiz is not None:
        parts.append("[b]quiz[/b]")
    if model.total_error is not None:
        total = f"{model.total_symbol} {model.total_error}"
        if when and model.total_when:  # "before the updates": "(before …)", then "(before)"
            total += f" ({model.total_when if when > 1 else model.total_when.split()[0]})"
        parts.append(total)
    if model.rounding:  # always said: every number on screen depends on it
        parts.append(f"[b]rounding to {model.rounding}[/b]")
    parts.append(f"{model.digits} digits")
    return ("  ·  " if not others else " · ").join(parts)


def _examples(model: Status, terse: int) -> list[str]:
    """With several examples: 'example 3 of 4', 'examples 1–4' (a batch's combined step)
    or 'data set of 4', then 'update 1 of 1'; ``terse``: 'ex. 3/4', 'upd. 1/1' (2: the
    update left out)."""
    first, last, count = model.examples
    if not count:
        return []
    update, updates = model.update
    if not first:
        which = f"data set of {count}"
    elif first == last:
        which = f"ex. {first}/{count}" if terse else f"example {first} of {count}"
    else:
        which = f"ex. {first}–{last}" if terse else f"examples {first}–{last}"
    if terse > 1:
        return [which]
    return [which, f"upd. {update}/{updates}" if terse else f"update {update} of {updates}"]


def _short(label: str) -> str:
    return label.replace(" pass", "").replace(" layer", "")

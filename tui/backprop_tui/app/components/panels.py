"""The text panels beside the diagram: equation, explanation, values, and the status line.

Each panel renders a view-model value and repaints only when that value changed, so a key
press costs no more than the panels it actually changes.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Size
from textual.markup import escape
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from backprop_tui.app.textual_private import set_virtual_size_quietly
from backprop_tui.app.view_model import Equation, GradientView, Status, ValueRow
from backprop_tui.numbers import integer_width

Model = TypeVar("Model")


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


class EquationPanel(ModelStatic[Equation | None]):
    """Formula, numbers substituted and result on their own lines, '=' aligned; then the
    factors with their values and the steps they came from."""

    def render_model(self, model: Equation | None) -> Content:
        if model is None:
            return Content.from_markup(
                "[$text-muted]Nothing computed yet this epoch. Press → to take the first step.")
        pad = " " * len(model.symbol)
        lines = [f"[b]{escape(model.symbol)}[/b] = {escape(model.formula)}",
                 f"{pad} = {escape(model.substituted)}"]
        if model.result:
            lines.append(f"{pad} = [b reverse] {escape(model.result)} [/]")
        if model.mark:
            symbol, reason = model.mark
            look = "$text-success" if symbol == "✓" else "b $text-warning"
            lines.append(f"[{look}]{symbol} {escape(reason)}[/]")
        if model.gradient is not None:
            lines += _gradient_lines(model.gradient, pad)
        if model.factors:
            lines.append("")
            width = max(len(f.symbol) for f in model.factors)
            value_width = max(len(f.value) for f in model.factors)
            for factor in model.factors[:12]:
                lines.append(
                    f"  {escape(factor.symbol.ljust(width))} = "
                    f"{escape(factor.value.rjust(value_width))}  [$text-muted]{factor.source}[/]")
            if len(model.factors) > 12:
                lines.append(f"  [$text-muted]… and {len(model.factors) - 12} more[/]")
        return Content.from_markup("\n".join(lines))


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


class ExplanationPanel(ModelStatic[str]):
    def render_model(self, model: str) -> Content:
        return Content(model)


class ValuesPanel(ScrollView, can_focus=False):
    """Every value computed so far this epoch, grouped by phase, the newest marked ▶.

    A Line-API view: it renders only the rows in sight, so a step costs the same however
    many values the epoch has produced.
    """

    COMPONENT_CLASSES = {"values--phase", "values--newest", "values--muted"}
    DEFAULT_CSS = """
    ValuesPanel > .values--phase { color: $primary; text-style: bold; }
    ValuesPanel > .values--newest { text-style: bold reverse; }
    ValuesPanel > .values--muted { color: $text-muted; }
    """
    _model: object = object()
    _rows: list[tuple[str, str]] = []  # (text, component class or "")
    _styles: dict[str, Style] | None = None

    def show(self, model: tuple[tuple[ValueRow, ...], int]) -> bool:
        if model == self._model:
            return False
        self._model = model
        rows, hidden = model
        room = self.scrollable_content_region.width or 1_000  # not laid out yet: on_resize
        lines: list[tuple[str, str]] = []
        if hidden:
            lines.append((f"… {hidden} earlier values", "values--muted"))
        width = max((len(r.symbol) for r in rows), default=0)
        point = max((integer_width(r.value) for r in rows), default=0)
        right = max((len(r.value) - integer_width(r.value) for r in rows), default=0)
        phase = None
        for row in rows:
            if row.phase != phase:
                phase = row.phase
                lines.append((phase, "values--phase"))
            value = " " * (point - integer_width(row.value)) + row.value
            text = f"{row.symbol.ljust(width)}  {value}"
            if row.mark:
                text = text.ljust(width + 2 + point + right)
                marked = f"{text}  {row.mark}"  # the printed value too, where it fits
                text = marked if len(marked) + 2 <= room else f"{text}  {row.mark[0]}"
            lines.append((f"▶ {text}", "values--newest") if row.newest else (f"  {text}", ""))
        if not rows:
            lines.append(("Values appear here as they are computed.", "values--muted"))
        self._rows = lines
        self._styles = None  # looked up again on the next draw (cheap once, not per row)
        # A new row per step: without a layout of the whole screen (see textual_private).
        set_virtual_size_quietly(self, Size(max(len(t) for t, _ in lines), len(lines)))
        self.set_scroll(None, max(0, len(lines) - self.scrollable_content_region.height))
        self.refresh()
        return True

    def on_resize(self) -> None:
        """Lay the rows out again: whether a printed value fits beside its mark changed."""
        model, self._model = self._model, object()
        if isinstance(model, tuple):
            self.show(model)

    def render_line(self, y: int) -> Strip:
        if self._styles is None:
            base = self.rich_style
            self._styles = {"": base, **{name: base + self.get_component_rich_style(name)
                                         for name in self.COMPONENT_CLASSES}}
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self._rows):
            return Strip.blank(width, self._styles[""])
        text, component = self._rows[index]
        strip = Strip([Segment(text, self._styles[component])])
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self._styles[""])

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # a new theme


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
        #  "step k/n"; the total error's "(before the updates)")
        for others, short, terse, when in ((0, False, False, 2), (1, False, False, 2),
                                           (1, False, True, 2), (2, False, False, 2),
                                           (2, False, False, 1), (2, True, False, 1),
                                           (2, True, True, 1), (2, True, True, 0)):
            text = _status_text(model, others, short, terse, when)
            if Content.from_markup(text).cell_length <= width:
                break
        content = Content.from_markup(text)
        if model.diverged:
            content += Content.from_markup(f"  [b $warning]⚠ {escape(model.diverged)}[/]")
        return content.truncate(width, ellipsis=True)


def _status_text(model: Status, others: int, short: bool, terse: bool, when: int) -> str:
    """The status line's text: the other phases in full (``others`` 0), short (1) or left
    out (2); the current one ``short``; ``terse``: step k/n; ``when``: which total error it
    is, in words (2), in a word (1), or only by its symbol (0)."""
    scores = model.quiz or ("",) * len(model.phases)  # the quiz's, beside each phase
    crumbs = " › ".join(
        f"[b reverse]\\[{escape(_short(label) if short else label)}"
        f"{' ' + score if score else ''}][/]" if current
        else escape(_short(label) if others else label)
        + (f" [$text-success]{score}[/]" if score else "")
        for (label, current), score in zip(model.phases, scores, strict=True)
        if current or others < 2)
    parts = [*([crumbs] if crumbs else []),
             f"step {model.index}/{model.count}" if terse
             else f"step {model.index} of {model.count}",
             f"epoch {model.epoch}"]
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


def _short(label: str) -> str:
    return label.replace(" pass", "").replace(" layer", "")

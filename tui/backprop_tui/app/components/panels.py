"""The text panels beside the diagram: equation, explanation, values, and the status line.

Each panel renders a view-model value and repaints only when that value changed, so a key
press costs no more than the panels it actually changes.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.containers import VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from backprop_tui.app.view_model import Equation, Status, ValueRow

Model = TypeVar("Model")


class ModelStatic(Static, Generic[Model]):
    """A Static that redraws from a model only when the model changes."""

    _model: object = object()

    def show(self, model: Model) -> bool:
        if model == self._model:
            return False
        self._model = model
        self.update(self.render_model(model))
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


class ExplanationPanel(ModelStatic[str]):
    def render_model(self, model: str) -> Content:
        return Content(model)


class ValuesPanel(VerticalScroll, can_focus=False):
    """Every value computed so far this epoch, grouped by phase, the newest marked ▶."""

    _model: object = object()

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="values-text")

    def show(self, model: tuple[tuple[ValueRow, ...], int]) -> bool:
        if model == self._model:
            return False
        self._model = model
        rows, hidden = model
        lines: list[str] = []
        if hidden:
            lines.append(f"[$text-muted]… {hidden} earlier values[/]")
        width = max((len(r.symbol) for r in rows), default=0)
        point = max((_integer_width(r.value) for r in rows), default=0)
        phase = None
        for row in rows:
            if row.phase != phase:
                phase = row.phase
                lines.append(f"[b $primary]{escape(phase)}[/]")
            value = " " * (point - _integer_width(row.value)) + row.value
            text = f"{escape(row.symbol.ljust(width))}  {escape(value)}"
            lines.append(f"[b reverse]▶ {text}[/]" if row.newest else f"  {text}")
        if not rows:
            lines.append("[$text-muted]Values appear here as they are computed.[/]")
        self.query_one("#values-text", Static).update(Content.from_markup("\n".join(lines)))
        self.call_after_refresh(self.scroll_end, animate=False)
        return True


def _integer_width(value: str) -> int:
    """Characters before the decimal point (or the whole number), to align on the point."""
    mantissa = value.split("e")[0]
    return len(mantissa.split(".")[0])


class StatusLine(ModelStatic[Status]):
    """Phases as breadcrumbs (the current one bracketed and reversed), step k of n, epoch,
    the total error once known."""

    def on_resize(self) -> None:
        if isinstance(self._model, Status):
            self.update(self.render_model(self._model))

    def render_model(self, model: Status) -> Content:
        width = self.size.width or 120
        for short in (0, 1, 2):  # full labels; short ones; the current phase only
            crumbs = " › ".join(
                f"[b reverse]\\[{escape(label)}][/]" if current else escape(
                    label.replace(" pass", "").replace(" layer", "") if short else label)
                for label, current in model.phases if current or short < 2)
            parts = [*([crumbs] if crumbs else []), f"step {model.index} of {model.count}",
                     f"epoch {model.epoch}"]
            if model.total_error is not None:
                parts.append(f"E_total {model.total_error}")
            if not short:
                parts.append(f"{model.digits} digits")
            text = ("  ·  " if not short else " · ").join(parts)
            if len(Content.from_markup(text).plain) <= width:
                break
        if model.diverged:
            text += f"  [b $warning]⚠ {escape(model.diverged)}[/]"
        return Content.from_markup(text)

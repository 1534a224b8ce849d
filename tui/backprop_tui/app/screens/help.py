"""The help screen: every key, every mark and score, and what each panel shows, each as a
two-column table (keys | meaning): a meaning too long for its line goes on in its own
column, never under the keys. It scrolls; its bottom border says how much follows."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from backprop_tui.app.actions import help_rows
from backprop_tui.app.components.panels import tell_hidden

# (keys, what), from the app's one table of actions: for a network of one training example
# trained by plain sgd (others: see HelpScreen).
KEYS = help_rows(several=False, optimized=False)

INTRO = ("Every action is also in the command palette (ctrl+p, or F2), by name. ↑ ↓ PgUp PgDn "
         "scroll this help.")

# (mark, what it means): what a learner sees beside the numbers, and is not told elsewhere.
MARKS = (
    ("✓  beside a value",
     "a printed value (the tutorial's, or a network file's [printed]) agrees with the "
     "computed one to its last written digit. It checks the document, not you."),
    ("⚠ 1.10  beside a value",
     "the printed value (here 1.10) differs from the computed one; the equation panel says "
     "whether it is a slip at this step or follows from an earlier one"),
    ("✎  beside a value",
     "the printed value describes the network before your edit (or an earlier epoch's "
     "update), so it is shown, not judged"),
    ("○  beside a value",
     "a printed value of a step whose computed value is not representable: shown, not "
     "compared"),
    ("d: ✓  ✗  ≈",
     "gradient check: the finite-difference estimate agrees with ∂E/∂w (✓), differs: a "
     "wrong gradient (✗), or differs as expected, the reason given beside it (≈)"),
    ("quiz 3/4",
     "in the status line, beside each phase: the values answered right at the first try / "
     "the values asked in that phase this epoch (a retry or Escape's reveal counts as "
     "not right)"),
    ("▶  bold",
     "what the current step involves (the diagram); the newest value (the values panel)"),
    ("reversed", "the value the current step computes"),
    ("·", "not computed yet this epoch"),
    ("not representable",
     "a chain-rule value that floats cannot hold (cross-entropy's −t/out where an output "
     "underflowed to 0, or a sigmoid output rounded to 1): shown for teaching; δ = out − t, "
     "which the weights use, still is"),
    ("old → new", "a weight or bias and the value its update gives it"),
    ("E_total  E_total⁺",
     "in the status line: the total error before the updates, then after them (the epoch's "
     "last step)"),
    ("↑ 3 above · ↓ 5 more",
     "in a panel's bottom border: lines out of sight; Tab to the panel, then ↑ ↓ scroll it"),
    ("double border", "the panel with the focus (Tab), which ↑ ↓ scroll and m maximises"),
)

# With several training examples, what differs from one.
SEVERAL_MARKS = (
    ("example 3 of 4",
     "in the status line: the example the step belongs to (examples 1–4: a batch's "
     "combined values); then its batch's update among the epoch's (update 1 of 1)"),
    ("E  E⁺",
     "in the status line: the data set's error at the epoch's start (the curve's), then "
     "after its last update (the last step)"),
    ("net_h₁[2]  ∂E/∂w₅[1–4]",
     "a value of example 2; a batch's, combining examples 1 to 4. A plain name (at :, or "
     "clicked) means the current example's"),
    ("Network · example 2",
     "the diagram shows that example's inputs, target and values, and its batch's "
     "old → new and gradients"),
)

# Under an optimiser other than sgd, what it adds.
OPTIMIZER_MARKS = (
    ("m  s  (or v)",
     "the network table's last columns: each parameter's optimiser state as the epoch "
     "starts (m and s under Adam, the velocity v under momentum), then its new value, "
     "marked ⁺, once the update phase computes it (dropped where the table has no room)"),
)

PANELS = (
    ("Network",
     "the network: units with their values, connections with their weights (old → new "
     "once updated), biases."),
    ("Equation",
     "the formula, the same with the numbers plugged in, and the result; then each value "
     "it uses, and the step that computed it."),
    ("Explanation", "what the step computes and why."),
    ("Values", "every quantity computed so far this epoch, by phase; the newest last."),
    ("Error curve (c)",
     "the total error of every epoch run so far against the epoch; the current epoch is "
     "marked by a vertical line, and ● once its error is known."),
    ("Status line",
     "the phases (the current one in brackets), step k of n, the epoch, the total error "
     "once known, hand rounding if on, the number of digits shown."),
)


class HelpScroll(VerticalScroll):
    """The help's frame: says in its bottom border how many lines are out of sight."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        tell_hidden(self)

    def on_resize(self) -> None:
        self.call_after_refresh(tell_hidden, self)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", show=True),
    ]

    def __init__(self, several: bool = False, optimized: bool = False) -> None:
        """``several``: the network has several training examples; ``optimized``: some
        epoch uses an optimiser other than sgd (their keys and marks are listed too)."""
        super().__init__()
        self._several = several
        self._optimized = optimized

    def compose(self) -> ComposeResult:
        keys = help_rows(self._several, self._optimized)
        marks = (*MARKS, *(SEVERAL_MARKS if self._several else ()),
                 *(OPTIMIZER_MARKS if self._optimized else ()))
        with HelpScroll(id="help"):
            yield Static("[b]backprop-tui — help[/b]", classes="help-title")
            yield Static(INTRO, classes="help-intro", markup=False)
            width = max(len(shown) for shown, _ in (*keys, *marks, *PANELS)) + 2
            yield from _table("Keys", keys, width)
            yield from _table("Marks and scores", marks, width)
            yield from _table("Panels", PANELS, width)
            yield Static("Escape closes this help.", classes="help-intro")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(HelpScroll).border_title = "Help"

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss()


def _table(title: str, rows: Sequence[tuple[str, str]], width: int) -> ComposeResult:
    """A heading, then a row per (keys, meaning): the keys in a column ``width`` wide, the
    meaning wrapped in the rest."""
    yield Static(f"[b]{title}[/b]", classes="help-heading")
    for keys, what in rows:
        key = Label(keys, classes="help-keys", markup=False)
        key.styles.width = width
        yield Horizontal(key, Label(what, classes="help-what", markup=False),
                         classes="help-row")

"""The session log's formats, each a stream of text pieces written as they are made."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import import_module

from backprop_tui.export.log import EpochEnd, EventItem, RunItem, StepItem, UpdateItem, log_items
from backprop_tui.session.persist import dump_session, header
from backprop_tui.session.session import Session

Writer = Callable[[Session, datetime], Iterator[str]]


def jsonl(session: Session, now: datetime) -> Iterator[str]:
    """A header record, then the engine's step and epoch records (with several examples, each
    batch's update record after its steps), with event records where actions happened and
    one record per fast-forward."""
    yield json.dumps({"type": "header", **header(session, now)}, ensure_ascii=False) + "\n"
    digits = session.digits
    for item in log_items(session):
        match item:
            case StepItem():
                record: dict[str, object] = item.record(digits)
            case EpochEnd():
                record = item.record
            case UpdateItem():
                record = item.record
            case EventItem(event):
                record = {"type": "event", **event}
            case RunItem(first, last, before, after):
                record = {"type": "fast_forward", "from": first, "to": last,
                          "loss_before": before, "loss_after": after}
            case _:
                continue
        yield json.dumps(record, ensure_ascii=False) + "\n"


def session_json(session: Session, now: datetime) -> Iterator[str]:
    """The session document (also the save file): header, then the steps (with several
    examples, each batch's update record after its steps) and the epochs. The two lists come
    from two passes over the log, so neither sits in memory."""
    digits = session.digits
    steps = (i.record(digits) if isinstance(i, StepItem) else i.record
             for i in log_items(session) if isinstance(i, StepItem | UpdateItem))
    epochs = (i.record for i in log_items(session) if isinstance(i, EpochEnd))
    yield from dump_session(session, steps, epochs, now)


def _lazy(name: str, **options: str) -> Writer:
    def write(session: Session, now: datetime) -> Iterator[str]:
        return import_module(f"backprop_tui.export.{name}").render(session, now, **options)

    return write


def markdown(flavor: str) -> Writer:
    """The Markdown log with its math in ``flavor`` (``export.markdown.FLAVORS``: jupyter,
    the default of ``FORMATS``, or github)."""
    return _lazy("markdown", flavor=flavor)


FORMATS: dict[str, Writer] = {
    "md": markdown("jupyter"),
    "txt": _lazy("text"),
    "json": session_json,
    "jsonl": jsonl,
    "worksheet": _lazy("worksheet"),  # not a log: a teacher's worksheet and its answer key
}

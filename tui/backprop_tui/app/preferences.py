"""The app's preferences: what a person set last time, kept between starts.

A small TOML file in the user's config folder (platformdirs, as harlequin keeps its own):
the theme, the digits shown, the quiz's tolerance, the error curve's scale and the network
opened last. The app writes it when one of them changes and reads it at start; flags given
on the command line win over it for that run, and ``--no-config`` leaves it unread and
unwritten. The headless commands never read it: what they print depends on their flags
alone.

A file that cannot be read as preferences is never fatal: it is moved aside to
``preferences.broken.toml`` (so the next start does not complain again) and the app says so
once. Nothing here imports Textual: the command line reads the file before the app starts.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from backprop_tui.numbers import MAX_DIGITS, MIN_DIGITS
from backprop_tui.output import OutputError, open_output, reason

FOLDER = "backprop-tui"
NAME = "preferences.toml"
BROKEN = "preferences.broken.toml"
SCALES = ("linear", "log")
NETWORK_KINDS = ("preset", "file")


def config_path() -> Path:
    """preferences.toml in the user's config folder ($XDG_CONFIG_HOME/backprop-tui on Linux,
    ~/.config/backprop-tui without it)."""
    from platformdirs import user_config_path

    return user_config_path(FOLDER) / NAME


@dataclass(frozen=True)
class Preferences:
    """What the app remembers; None (or linear) where nothing was set."""

    theme: str | None = None
    digits: int | None = None  # significant digits shown
    tolerance: float | None = None  # the quiz's relative tolerance
    curve_scale: str = "linear"  # the error curve's error axis: linear or log
    network_kind: str | None = None  # the network opened last: a preset, or a file
    network: str | None = None  # its name, or the file's absolute path

    def document(self) -> str:
        """The TOML file: only what was set, each key on its own line."""
        lines = ["# backprop-tui's preferences: written by the app when you change them.\n"]
        for field in fields(self):
            value = getattr(self, field.name)
            if value != field.default:
                lines.append(f"{field.name} = {_toml(value)}\n")
        return "".join(lines)


def _toml(value: object) -> str:
    """A TOML value: a JSON string is a TOML basic string, a float is written in full."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


class Broken(Exception):
    """A preferences file that cannot be used; str() says why in one line."""


def parse(text: str, themes: Collection[str]) -> Preferences:
    """Preferences from the file's text; Broken if it is not TOML, holds a key the app does
    not know, or a value outside what the app accepts (``themes``: the theme names)."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Broken(f"not TOML ({error})") from None
    known = {field.name for field in fields(Preferences)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise Broken(f"unknown key {unknown[0]!r}; the keys are {', '.join(sorted(known))}")
    preferences = Preferences(**raw)
    _check(preferences, themes)
    return preferences


def _check(p: Preferences, themes: Collection[str]) -> None:
    if p.theme is not None and (not isinstance(p.theme, str) or p.theme not in themes):
        raise Broken(f"theme {p.theme!r} is not a theme of this Textual")
    if p.digits is not None and (type(p.digits) is not int
                                 or not MIN_DIGITS <= p.digits <= MAX_DIGITS):
        raise Broken(f"digits must be a whole number from {MIN_DIGITS} to {MAX_DIGITS}, "
                     f"not {p.digits!r}")
    if p.tolerance is not None:
        from backprop_tui.session.tolerance import check_tolerance

        if type(p.tolerance) not in (int, float):  # a string the rule would read: not here
            raise Broken(f"tolerance must be a number such as 0.001, not {p.tolerance!r}")
        try:
            check_tolerance(p.tolerance)
        except ValueError as problem:
            raise Broken(f"tolerance: {problem}") from None
    if p.curve_scale not in SCALES:
        raise Broken(f"curve_scale must be {' or '.join(map(repr, SCALES))}, "
                     f"not {p.curve_scale!r}")
    if (p.network_kind is None) != (p.network is None):
        raise Broken("network_kind and network go together")
    if p.network_kind is not None and (p.network_kind not in NETWORK_KINDS
                                       or not isinstance(p.network, str) or not p.network):
        raise Broken(f"network_kind must be {' or '.join(map(repr, NETWORK_KINDS))}, with "
                     "network the preset's name or the file's path")


class PreferencesFile:
    """The file at ``path``: read once at start, written whenever a preference changes.
    Neither ever raises: ``problem`` says, in one line, what went wrong (to be said once)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = config_path() if path is None else path
        self.problem: str | None = None

    def read(self, themes: Collection[str]) -> Preferences:
        """The preferences in the file (none set if there is no file). A broken file is
        moved aside to preferences.broken.toml and reported in ``problem``."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Preferences()
        except (OSError, UnicodeDecodeError) as error:
            self.problem = f"{self.path}: cannot read your preferences: {reason(error)}"
            return Preferences()
        try:
            return parse(text, themes)
        except Broken as why:
            aside = self.path.with_name(BROKEN)
            try:
                os.replace(self.path, aside)
                kept = f"set aside as {aside.name}"
            except OSError as error:
                kept = f"left in place ({reason(error)})"
            self.problem = (f"{self.path}: your preferences were not used: {why}; {kept}, "
                            "the defaults apply")
            return Preferences()

    def write(self, preferences: Preferences) -> bool:
        """Write ``preferences`` atomically (the folder made if need be); whether it was."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open_output(str(self.path)) as stream:
                stream.write(preferences.document())
        except (OSError, OutputError) as error:
            self.problem = f"{self.path}: cannot save your preferences: {reason(error)}"
            return False
        return True




class Remembered:
    """The preferences in force and their file (None: ``--no-config``, nothing kept), with
    what the app is to say once about them (a broken file, a network gone)."""

    def __init__(self, file: PreferencesFile | None, themes: Collection[str] = ()) -> None:
        self.file = file
        self.preferences = Preferences() if file is None else file.read(themes)
        self.notices: list[str] = [] if file is None or file.problem is None else [file.problem]

    def change(self, **changes: Any) -> None:
        """Set preferences and write the file if that changed anything; a failure to write
        is said once (the app carries on)."""
        changed = replace(self.preferences, **changes)
        if changed == self.preferences:
            return
        self.preferences = changed
        if self.file is not None and not self.file.write(changed) and self.file.problem:
            self.notices.append(self.file.problem)
            self.file = None  # not tried again: said once

    def opened(self, kind: str, name: str) -> None:
        """The network opened: a preset's name, or a file (kept by its absolute path, so
        that a start from another folder finds it)."""
        self.change(network_kind=kind, network=os.path.abspath(name) if kind == "file" else name)

    def forget_network(self, notice: str) -> None:
        self.notices.append(notice)
        self.change(network_kind=None, network=None)

    def said(self) -> list[str]:
        """The notices not yet said, now counted as said."""
        notices, self.notices = self.notices, []
        return notices

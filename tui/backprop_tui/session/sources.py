"""Where a new session's network comes from: a bundled preset or a network file, read and
checked once, for the command line (``--preset``/``--config``) and the app's open dialog
(ctrl+o) alike. No Textual here.
"""

from __future__ import annotations

from backprop_tui.netfile import Source, parse_given, read_file
from backprop_tui.network import Given
from backprop_tui.presets import DEFAULT, preset_given, preset_text


def sourced(preset: str | None = None, path: str | None = None,
            tie_presets: bool = True) -> tuple[Given, Source]:
    """The network of ``path`` (a network file), else of ``preset`` (else the default
    preset), checked but not yet in numpy, and where it came from (for the log's header and
    the session file). The ``[printed]`` values are tied to their steps here: a file's
    always (a name that names no step is refused now), a preset's unless ``tie_presets`` is
    false (the app: its tests keep them right, and a session ties them again as it is built,
    after the first frame, which is spared compiling every key's pattern). Raises
    NetworkFileError, one line, for a missing, unreadable or invalid file or preset."""
    if path is not None:
        data = read_file(path)
        given = parse_given(data, path)
        source = Source("file", path, data.decode("utf-8", errors="replace"))
    else:
        name = DEFAULT if preset is None else preset
        given, source = preset_given(name), Source("preset", name, preset_text(name))
    if given.printed and (tie_presets or path is not None):  # (`train` needs no plan)
        from backprop_tui.steps.names import resolve_printed

        given = resolve_printed(given, path if path is not None else f"preset {source.name!r}")
    return given, source

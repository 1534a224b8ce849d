"""The Markdown log's two flavours of math, through cmark-gfm (the parser GitHub uses).

github (`export --format md --flavor github`) writes $`…`$ and ```math fences: cmark-gfm
hands each span's text on as written, so GitHub's math renderer gets the TeX. jupyter (the
default) writes $…$ and $$ blocks, which cmark-gfm parses as Markdown first: a pair of `_`
becomes emphasis and a row-ending `\\` is halved, so GitHub shows broken math. The second
is shown here too, so that the first is a check that could fail.
"""

from __future__ import annotations

import html
import re

import cmarkgfm
import pytest
from backprop_tui.cli import main
from backprop_tui.export.markdown import FLAVORS
from test_cli import bad, run

PRESETS = ("mazur", "xor", "softmax-ce")  # softmax-ce: a thin space \, in its math


def exported(capsys: pytest.CaptureFixture[str], preset: str, *flavor: str) -> str:
    status, out, err = run(capsys, "export", "--format", "md", "--preset", preset, *flavor)
    assert (status, err) == (0, "")
    return out


def spans(text: str, flavor: str) -> tuple[list[str], list[str]]:
    """(inline, display) math of a log in ``flavor``, as written."""
    inline, display = (tuple(map(re.escape, pair)) for pair in
                       (FLAVORS[flavor].inline, FLAVORS[flavor].display))
    block = re.compile(f"^{display[0]}\n(.*?)\n{display[1]}$", re.MULTILINE | re.DOTALL)
    rest = block.sub("", text)
    return re.findall(f"{inline[0]}([^\n]+?){inline[1]}", rest), block.findall(text)


def github_html_spans(page: str) -> tuple[list[str], list[str]]:
    """(inline, display) math of cmark-gfm's HTML of a github-flavoured log: the text of
    each $<code>…</code>$ and <pre lang="math"> block."""
    inline = re.findall(r"\$<code>(.*?)</code>\$", page)
    display = re.findall(r'<pre lang="math"><code>(.*?)\n</code></pre>', page, re.DOTALL)
    return [html.unescape(tex) for tex in inline], [html.unescape(tex) for tex in display]


@pytest.mark.parametrize("preset", PRESETS)
def test_github_flavour_math_reaches_cmark_gfm_html_as_written(capsys, preset: str) -> None:
    text = exported(capsys, preset, "--flavor", "github")
    inline, display = spans(text, "github")
    assert len(inline) > 50 and len(display) > 30
    assert any(r"\\" in tex for tex in display) and any("_{" in tex for tex in inline)
    assert preset != "softmax-ce" or any(r"\," in tex for tex in display)
    assert github_html_spans(cmarkgfm.github_flavored_markdown_to_html(text)) == (
        inline, display)
    # The same spans as the jupyter flavour, only marked otherwise.
    assert (inline, display) == spans(exported(capsys, preset), "jupyter")


@pytest.mark.parametrize("preset", PRESETS)
def test_jupyter_flavour_math_does_not_survive_cmark_gfm(capsys, preset: str) -> None:
    text = exported(capsys, preset)
    page = cmarkgfm.github_flavored_markdown_to_html(text)
    inline, display = spans(text, "jupyter")
    intact = [tex for tex in inline + display if html.escape(tex, quote=False) in page]
    assert len(intact) < (len(inline) + len(display)) / 2
    assert r"\mathrm{net}<em>{h</em>{1}}" in page  # \mathrm{net}_{h_{1}}: _…_ emphasis
    # Every aligned block's row-ending \\ is halved to \, the rows run into one.
    assert not any(html.escape(tex, quote=False) in page for tex in display if r"\\" in tex)


def test_jupyter_is_the_default_flavour(capsys) -> None:
    def dated(text: str) -> str:  # the export time aside
        return re.sub(r"\*\*Exported:\*\* \S+", "", text)

    assert dated(exported(capsys, "xor", "--flavor", "jupyter")) == dated(exported(capsys, "xor"))


def test_a_bad_flavor_is_one_line_and_status_2(capsys) -> None:
    message = bad(capsys, "export", "--format", "md", "--flavor", "gitlab")
    assert "--flavor" in message and "gitlab" in message


@pytest.mark.parametrize("argv", [["--format", "txt"], ["--format", "json"], [], ["--quiz"]])
def test_flavor_is_refused_but_with_the_markdown_log(capsys, argv: list[str]) -> None:
    assert "--flavor goes with --format md" in bad(capsys, "export", *argv, "--flavor", "github")


def test_the_flavor_choices_are_the_flavours_the_log_knows(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert f"--flavor {{{','.join(FLAVORS)}}}" in out

"""The Markdown log renders: every math span of the logs of `softmax-ce`, `iris-mini`,
`mazur`, `mazur-momentum` and `mazur-adam`, in both flavours (jupyter: $…$ and $$ blocks;
github: $`…`$ and ```math fences), and of a net whose teaching values are not representable
and a worksheet, compiles in KaTeX from npm, strict mode ("error", throwOnError).

KaTeX is pinned in tests/katex/package-lock.json and installed beside its checker by
    npm ci --prefix tests/katex
which `.ci/run` does wherever node is. Without node or that install the test skips, saying
why, except under CI=true, where it fails: a green CI must not hide an unchecked log.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
from typing import Any

import pytest
from backprop_tui import cli
from networks import PM800

KATEX = pathlib.Path(__file__).parent / "katex"
CHECK = KATEX / "check.js"
INSTALL = "npm ci --prefix tests/katex"
# (preset, epochs) whose Markdown logs are checked.
LOGS = (("softmax-ce", 2), ("iris-mini", 2), ("mazur", 1), ("mazur-momentum", 2),
        ("mazur-adam", 2))
# Spans the checker must refuse: an unknown command, and Unicode text in math (strict);
# in GitHub's flavour, an unknown command inline and in a fence.
BAD = "fine $x_{1}$, unknown $\\nosuchcommand$, Unicode $é$\n\n$$\n\\frac{1}{2}\n$$\n"
BAD_GITHUB = "fine $`x_{1}`$, unknown $`\\nosuch`$\n\n```math\n\\nosuchfence\n```\n"


def pinned() -> str:
    lock = json.loads((KATEX / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/katex"]["version"])


def katex_node() -> str:
    """node, with the pinned KaTeX installed beside the checker; else a skip saying why (a
    failure under CI=true)."""
    node = shutil.which("node")
    installed = KATEX / "node_modules" / "katex" / "package.json"
    if node is None:
        missing = "node is not installed: the KaTeX check needs node and " + INSTALL
    elif not installed.is_file():
        missing = f"KaTeX is not installed: run {INSTALL}"
    elif (version := json.loads(installed.read_text())["version"]) != pinned():
        missing = f"KaTeX {version} is installed, the lock pins {pinned()}: run {INSTALL}"
    else:
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (under CI=true the KaTeX check must run)")
    pytest.skip(missing)


def check(node: str, files: list[pathlib.Path]) -> dict[str, object]:
    done = subprocess.run([node, str(CHECK), *map(str, files)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    assert report["katex"] == pinned()
    return report


def export(tmp_path: pathlib.Path, name: str, *argv: str) -> pathlib.Path:
    out = tmp_path / f"{name}.md"
    assert cli.main(["export", "--format", "md", *argv, "-o", str(out)]) == 0
    return out


def test_every_math_span_of_the_markdown_logs_compiles_in_katex(
        tmp_path: pathlib.Path) -> None:
    node = katex_node()
    files = [export(tmp_path, preset, "--preset", preset, "--epochs", str(epochs))
             for preset, epochs in LOGS]
    github = [export(tmp_path, f"{preset}-github", "--preset", preset, "--epochs", str(epochs),
                     "--flavor", "github") for preset, epochs in LOGS]
    config = tmp_path / "pm800.toml"
    config.write_text(PM800)
    files.append(export(tmp_path, "pm800", "--config", str(config)))
    files.append(export(tmp_path, "worksheet", "--preset", "softmax-ce", "--quiz"))
    report = check(node, [*files, *github])
    found = report["files"]
    assert isinstance(found, list) and len(found) == len(files) + len(github)
    failures = [f"{pathlib.Path(f['file']).name}:{x['line']}: {x['error']}\n  {x['tex']}"
                for f in found for x in f["failures"]]
    assert not failures, "\n".join(failures)
    spans = {pathlib.Path(f["file"]).stem: (f["display"], f["inline"]) for f in found}
    # Every step is a display block; symbols in tables and headers are inline.
    assert all(display > 20 and inline > 20 for display, inline in spans.values()), spans
    # The github flavour has every span the jupyter one has, each in GitHub's form.
    assert all(spans[f"{preset}-github"] == spans[preset] for preset, _ in LOGS), spans
    assert "```math" in github[0].read_text() and "$$" not in github[0].read_text()
    assert "\\text{not representable}" in files[len(LOGS)].read_text()  # pm800


def checked(tmp_path: pathlib.Path, text: str) -> dict[str, Any]:
    """The checker's report of a Markdown file holding ``text``, which must fail it."""
    bad = tmp_path / "bad.md"
    bad.write_text(text)
    done = subprocess.run([katex_node(), str(CHECK), str(bad)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)["files"][0]
    return found


def test_the_checker_refuses_what_katex_does_not_compile(tmp_path: pathlib.Path) -> None:
    found = checked(tmp_path, "```\n$\\nosuchcommand$ in code\n```\n" + BAD)
    assert (found["spans"], found["display"]) == (4, 1)
    assert [(x["line"], x["tex"]) for x in found["failures"]] == [
        (4, "\\nosuchcommand"), (4, "é")]
    assert "strict" in found["failures"][1]["error"].lower() or \
        "unicode" in found["failures"][1]["error"].lower()


def test_the_checker_reads_and_refuses_the_github_flavour(tmp_path: pathlib.Path) -> None:
    found = checked(tmp_path, "```toml\n$`\\nosuchcommand`$ in code\n```\n" + BAD_GITHUB)
    assert (found["spans"], found["display"]) == (3, 1)
    assert [(x["line"], x["display"], x["tex"]) for x in found["failures"]] == [
        (4, False, "\\nosuch"), (6, True, "\\nosuchfence")]

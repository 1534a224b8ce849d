"""`backprop-tui serve` in a real browser (headless Chromium, see browser.py): a tab's keys
reach its own app, which saves its own session, F2 opens the palette there, and an export
is downloaded; a second tab starts a session of its own; ctrl+c leaves no app process
behind; the page asks nothing of any other server.

SERVE_SCREENSHOT=screenshots/browser.png writes the README's picture of the app in the
browser, taken after the three steps.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import browser
import pytest
from backprop_tui import cli
from backprop_tui.serve import (
    address_to_give,
    app_command,
    exposure_warning,
    is_loopback,
    network_address,
)

STEP_3 = {"epoch": 1, "index": 3}


def saved_cursor(folder: Path, expected: dict[str, int], timeout: float = 10.0) -> dict[str, int]:
    """The cursor of the session saved in a tab's folder, once it is ``expected`` or the
    time is up (the app saves at most once a second, the first change at once)."""
    path = folder / "last-session.json"
    deadline = time.monotonic() + timeout
    while True:
        cursor = dict(json.loads(path.read_text())["cursor"]) if path.is_file() else {}
        if cursor == expected or time.monotonic() > deadline:
            return cursor
        time.sleep(0.1)


def tabs(state: Path) -> list[Path]:
    """The tabs' folders, oldest first (each made by its app as it starts)."""
    return sorted((state / "backprop-tui" / "served").glob("*/tab-*"),
                  key=lambda folder: folder.stat().st_mtime_ns)


def test_each_tab_runs_its_own_app_and_session(tmp_path: Path) -> None:
    browser.chromium()  # the reason, before a server is started for nothing
    with browser.served(tmp_path) as (url, server), browser.browser() as chromium:
        context = chromium.new_context(viewport=browser.VIEWPORT)
        asked: list[str] = []
        context.on("request", lambda request: asked.append(request.url))
        first = context.new_page()
        browser.open_tab(first, url)
        browser.first_frame(first)
        assert first.title() == "backprop-tui"
        first.wait_for_timeout(1000)  # for anything more the app's start would send
        assert browser.received(first).count("Network") == 1  # the screen sent once, whole
        drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", browser.received(first))
        assert "F2 palette" in drawn and "^p palette" not in drawn  # the browser keeps ctrl+p
        # The page, its script and its font all come from this server, none from another
        assert {address.split("/")[2] for address in asked} == {url.split("/")[2]}, asked
        assert any(address.endswith(".ttf") for address in asked), asked
        first.focus(".xterm-helper-textarea")
        for _ in range(3):
            first.keyboard.press("ArrowRight")
        browser.wait_for_text(first, "step 3 of 55")
        [folder] = tabs(tmp_path)
        assert saved_cursor(folder, STEP_3) == STEP_3
        if target := os.environ.get("SERVE_SCREENSHOT"):
            first.screenshot(path=target)
        before = len(browser.received(first))
        first.keyboard.press("x")  # an export: written in the tab's folder, downloaded
        browser.wait_for_text(first, "Export the session log", after=before)
        with first.expect_download(timeout=30_000) as downloaded:  # not in a pop-up
            first.keyboard.press("Enter")
        download = downloaded.value
        name = download.suggested_filename
        assert name.startswith("backprop-session-") and name.endswith(".md"), name
        assert Path(download.path()).read_bytes() == (folder / name).read_bytes()
        first.keyboard.press("F2")  # the palette, where the browser keeps ctrl+p
        browser.wait_for_text(first, "a step (w5, step 16)")
        first.keyboard.press("Escape")

        second = context.new_page()
        browser.open_tab(second, url)
        browser.wait_for_text(second, "step 0 of 55")
        assert "step 3 of 55" not in browser.received(second)
        first_folder, second_folder = tabs(tmp_path)
        assert first_folder == folder
        assert not (second_folder / "last-session.json").exists()  # nothing taken yet
        assert len(browser.app_processes(server.pid)) == 2

        browser.ctrl_c(server)
        server.wait(timeout=20)
        assert server.returncode == 0
        assert browser.app_processes(server.pid) == []
        said = (tmp_path / "server.log").read_text()
        assert "Traceback" not in said and "WARNING" not in said, said
        # What the teacher needs, not textual-serve's logo, command line and request log.
        assert f"Serving backprop-tui at {url}: open it in a browser." in said, said
        for line in ("Tab 1 opened (1 open)", "Tab 2 opened (2 open)",
                     "Stopping: the 2 open tabs' apps save their sessions and quit"):
            assert line in said, said
        assert sorted(re.findall(r"Tab (\d) closed \((\d) open\)", said)) in (
            [("1", "0"), ("2", "1")], [("1", "1"), ("2", "0")]), said  # in either order
        assert "GET /" not in said and "exec " not in said, said
    assert saved_cursor(folder, STEP_3, timeout=0) == STEP_3  # kept after the server stops


def test_served_on_every_address_the_page_connects_where_it_came_from(tmp_path: Path) -> None:
    """--host 0.0.0.0 without --public-url: textual-serve would have the page connect to
    0.0.0.0, which names no machine; the page uses the address it was loaded from."""
    browser.chromium()
    with browser.served(tmp_path, host="0.0.0.0") as (url, server), \
            browser.browser() as chromium:
        with pytest.raises(urllib.error.HTTPError) as stray:  # not a tab: refused, not counted
            urllib.request.urlopen(f"{url}/ws", timeout=10)
        assert stray.value.code == 400
        page = chromium.new_context(viewport=browser.VIEWPORT).new_page()
        browser.open_tab(page, url)  # http://127.0.0.1:PORT
        browser.first_frame(page)
        [websocket] = page.evaluate("window.sockets")
        assert websocket.startswith(url.replace("http:", "ws:") + "/ws?"), websocket
        said = (tmp_path / "server.log").read_text()
        assert "anyone who can reach that address can open the app" in said, said
        port = url.rsplit(":", 1)[1]  # the address to give the class names this machine
        assert f"Serving backprop-tui at http://{socket.gethostname()}:{port}" in said, said
        assert "Tab 1 opened (1 open)" in said and "Tab 2" not in said, said
        assert "Traceback" not in said and "Error" not in said, said


def test_the_address_to_give_the_class() -> None:
    assert address_to_give("127.0.0.1", 8000, None) == "http://127.0.0.1:8000"
    assert address_to_give("::1", 8000, None) == "http://[::1]:8000"
    assert address_to_give("0.0.0.0", 8000, "https://class.example.org") == (
        "https://class.example.org")
    number = network_address()
    for host in ("0.0.0.0", "::"):
        assert address_to_give(host, 8000, None) == (
            f"http://{socket.gethostname()}:8000"
            + ("" if number is None else f" (or http://{number}:8000)"))
    if number is not None:  # this machine's, where a server can listen
        with socket.socket() as listener:
            listener.bind((number, 0))
        assert not ipaddress.ip_address(number).is_loopback


def test_the_command_each_tab_runs_is_quoted() -> None:
    folder = Path("/tmp/a folder; rm -rf ~")
    command = app_command(folder, ["--config", "/home/t/my net's.toml"])
    assert command.startswith("exec ")
    words = subprocess.run(["sh", "-c", f"printf '%s\\n' {command[5:]}"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    assert words == [sys.executable, "-m", "backprop_tui", "--no-config",
                     "--state-folder-in", str(folder), "--config", "/home/t/my net's.toml"]


def test_only_loopback_is_served_without_a_warning() -> None:
    assert [is_loopback(host) for host in ("127.0.0.1", "::1", "localhost", "127.1.2.3")] \
        == [True] * 4
    assert exposure_warning("127.0.0.1", 8000) is None
    warning = exposure_warning("0.0.0.0", 8000)
    assert warning is not None
    assert "0.0.0.0:8000: anyone who can reach that address can open the app" in warning
    assert "no shell is ever exposed" in warning


def test_bad_serve_options_are_one_line(capsys) -> None:
    cases = {
        ("serve", "--port", "70000"): "argument --port: expected 1 to 65535, got '70000'",
        ("serve", "--public-url", "teacher-pc:8000"):
            "argument --public-url: expected http://HOST[:PORT] or https://HOST[:PORT]",
        ("serve", "--preset", "nope"): "nope",
        ("serve", "--theme", "nope"): "no theme named 'nope'",
        ("--no-config", "serve"): "--no-config goes with the app, not serve",
        ("--state-folder-in", "/tmp", "presets"): "--state-folder-in goes with the app",
    }
    for argv, said in cases.items():
        assert cli.main(list(argv)) == 2, argv
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1, (argv, err)


def test_a_missing_browser_skips_saying_why_but_fails_under_ci(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "chromium"))  # not there
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed: apt-get"):
        browser.chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI=true the browser test must run"):
        browser.chromium()

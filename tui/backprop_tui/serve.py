"""`backprop-tui serve`: the app in a browser, one app process per tab, through textual-serve.

textual-serve runs one command per browser tab (its websocket). The command is this
program's own app with ``--state-folder-in``: each app makes a folder of its own there for
its session, so no student sees another's, and no session is lost when the server stops.
textual-serve is imported when the command runs, by backprop_tui.server alone.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
# The hosts that mean every address of this machine: none of them is one to browse to.
EVERY_ADDRESS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """What the teacher is told before serving on an address others can reach."""
    if is_loopback(host):
        return None
    return (f"Serving on {host}:{port}: anyone who can reach that address can open the app "
            "in a browser (only the app: no shell is ever exposed). Each browser tab runs "
            "an app of its own on this machine.")


def network_address() -> str | None:
    """This machine's address on its network, the one its traffic leaves from (a UDP socket
    connected sends nothing), or None without a network."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): no machine has it
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def address_to_give(host: str, port: int, public_url: str | None) -> str:
    """The address the teacher gives the class: --public-url, or the host served on; on every
    address, this machine's name (and its network address, for a network whose names are
    not known to every machine)."""
    if public_url:
        return public_url
    if host not in EVERY_ADDRESS:
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    named = f"http://{socket.gethostname()}:{port}"
    number = network_address()
    return named if number is None else f"{named} (or http://{number}:{port})"


def sessions_folder(root: Path) -> Path:
    """A new folder for this server's tabs' sessions, named by the time it started."""
    folder = root / "served" / time.strftime("%Y-%m-%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def app_command(folder: Path, app_options: Sequence[str]) -> str:
    """The shell command textual-serve runs for each tab: this Python, this program, each
    tab's session in a folder of its own inside ``folder``, the teacher's preferences
    neither read nor written (one tab's choices are not another's). ``exec``: the app
    replaces the shell, so that stopping it stops the app."""
    return "exec " + shlex.join([sys.executable, "-m", "backprop_tui", "--no-config",
                       "--state-folder-in", str(folder), *app_options])


def serve(host: str, port: int, public_url: str | None, folder: Path,
          app_options: Sequence[str]) -> None:
    """Serve until ctrl+c (or TERM); every app process is gone when this returns. The
    page's title is the program's name alone (an option such as --config's path is the
    server's business)."""
    from backprop_tui.server import TabServer, end_children

    server = TabServer(app_command(folder, app_options), host=host, port=port,
                       title="backprop-tui", public_url=public_url,
                       address=address_to_give(host, port, public_url))
    try:
        server.serve()
    finally:
        end_children()

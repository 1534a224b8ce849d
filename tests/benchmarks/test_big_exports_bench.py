"""Benchmark: the peak memory of the two exports that once held a whole long log.

`export --quiz --epochs 10000` (the worksheet: its answer key goes to a temporary file as
each epoch is written; target < 100 MB), and `export --resume FILE --format md` of a
10,000-epoch JSON export (about 420 MB: its steps and epochs are read one record at a time
and dropped; target < 200 MB). Each command runs in a child process of its own, so that its
peak is the command's and nothing else's.

Run with ``python -m pytest tests/benchmarks -k big_exports -s -n0``.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap
import time
from typing import Any

from peak import PEAK_KIB  # pytest puts tests/benchmarks/ on sys.path
from test_logs_bench import _env, _mb

EPOCHS = 10_000
WORKSHEET_LIMIT_MB = 100.0
RESUME_LIMIT_MB = 200.0

# One child: the command line's main() on the arguments given as JSON; the peak is the whole
# process's (ru_maxrss, and VmHWM where /proc has it).
CHILD = PEAK_KIB + textwrap.dedent("""
    import json, pathlib, resource, sys, time
    from backprop_tui.cli import main
    start = time.perf_counter()
    status = main(json.loads(sys.argv[1]))
    elapsed = time.perf_counter() - start
    rss_peak, hwm = peak_kib()
    print(json.dumps({
        "status": status,
        "seconds": elapsed,
        "rss_peak_kib": rss_peak,
        "vm_hwm_kib": hwm,
    }))
""")


def _run(argv: list[str]) -> dict[str, Any]:
    """Run CHILD in a grandchild, as test_logs_bench does (a small shell in between keeps
    pytest's own peak out of the child's ru_maxrss)."""
    command = [sys.executable, "-c", CHILD, json.dumps(argv)]
    start = time.perf_counter()
    done = subprocess.run(["/bin/sh", "-c", '"$@"; exit $?', "sh", *command],
                          capture_output=True, text=True, env=_env(), timeout=900)
    assert done.returncode == 0, f"{argv}: exited {done.returncode}: {done.stderr[-2000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0, f"{argv}: exited {result['status']}: {done.stderr}"
    result["wall"] = time.perf_counter() - start
    return result


def _tail(path: pathlib.Path) -> str:
    """The file's last 64 KiB: where its last epoch is (the file is hundreds of MB)."""
    with path.open("rb") as stream:
        stream.seek(-(1 << 16), 2)
        return stream.read().decode("utf-8", "replace")


def _peak_mb(result: dict[str, Any]) -> float:
    return _mb(max(result["rss_peak_kib"], result["vm_hwm_kib"] or 0))


def _report(what: str, result: dict[str, Any], output: pathlib.Path, limit: float) -> float:
    peak, hwm = _peak_mb(result), result["vm_hwm_kib"]
    print(f"\n{what}: peak {peak:.1f} MB (ru_maxrss {_mb(result['rss_peak_kib']):.1f} MB"
          f"{f', VmHWM {_mb(hwm):.1f} MB' if hwm else ''}), "
          f"{result['seconds']:.1f} s, {output.stat().st_size / 1e6:.0f} MB written; "
          f"target < {limit:.0f} MB")
    return peak


def test_worksheet_of_10000_epochs_streams_in_under_100_mb(tmp_path: pathlib.Path) -> None:
    output = tmp_path / "sheet.md"
    result = _run(["export", "--quiz", "--epochs", str(EPOCHS), "-o", str(output)])
    with output.open("rb") as stream:
        assert stream.read(25) == b"# backprop-tui worksheet\n"
    assert f"\n## Epoch {EPOCHS}\n\n| Step | Symbol | Value |\n" in _tail(output)  # the key's
    assert _report(f"export --quiz --epochs {EPOCHS}", result, output,
                   WORKSHEET_LIMIT_MB) < WORKSHEET_LIMIT_MB


def test_resume_of_a_10000_epoch_json_export_to_md_in_under_200_mb(
        tmp_path: pathlib.Path) -> None:
    saved = tmp_path / "session.json"
    _run(["export", "--format", "json", "--epochs", str(EPOCHS), "-o", str(saved)])
    assert saved.stat().st_size > 300e6  # the log is far bigger than what a resume keeps
    output = tmp_path / "log.md"
    result = _run(["export", "--resume", str(saved), "--format", "md", "-o", str(output)])
    assert f"\n## Epoch {EPOCHS}\n" in _tail(output)
    assert _report(f"export --resume ({saved.stat().st_size / 1e6:.0f} MB of JSON) "
                   "--format md", result, output, RESUME_LIMIT_MB) < RESUME_LIMIT_MB

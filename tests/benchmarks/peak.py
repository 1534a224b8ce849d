"""What a benchmark's child process reports of its own peak memory: one function, put at the
top of each child's source."""

from __future__ import annotations

import textwrap

PEAK_KIB = textwrap.dedent('''
    def peak_kib():
        """This process's peak resident memory in KiB: (ru_maxrss, VmHWM where /proc has it,
        the process image's own peak)."""
        import pathlib, resource
        status = pathlib.Path("/proc/self/status")
        hwm = [line.split()[1] for line in status.read_text().splitlines()
               if line.startswith("VmHWM:")] if status.exists() else []
        return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                int(hwm[0]) if hwm else None)
''')

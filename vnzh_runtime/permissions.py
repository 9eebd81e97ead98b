"""The mode a new file or directory gets from the process umask, for files written through a
temporary name (mkstemp gives 0600, mkdtemp 0700):

    >>> oct(umask_mode(0o666))   # under umask 022
    '0o644'

The umask is read from /proc, not set and set back: setting it to read it would, for that
moment, give files other threads create (MLflow's) the wrong mode.
"""

from __future__ import annotations

import os
from pathlib import Path


def umask_mode(mode: int) -> int:
    """`mode` less the process umask, as a plain open or mkdir would create it."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
        umask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError):  # no /proc (macOS): the only portable way
        umask = os.umask(0)
        os.umask(umask)
    return mode & ~umask

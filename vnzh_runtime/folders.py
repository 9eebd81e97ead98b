"""What a folder holds besides what its writer wrote: before `--overwrite` replaces a model
directory (`train`) or an output folder (`serve spark`), anything else in it is a user's, which
replacing the folder would delete. A file browser's own files are no one's work. And what every
writer of a new file needs of its folder: the longest name it takes (`name_max`, with room for a
scratch file beside the target) and a rename that never replaces a file (`rename_no_clobber`).

    >>> foreign(["spec.json", "NOTES.md", ".DS_Store", "model"], {"spec.json", "model"}.__contains__)
    ['NOTES.md']
    >>> few(["a", "b", "c", "d", "e"])
    'a, b, c and 2 more'
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

# A file written beside its target, then renamed: ".<name>.<8 random characters>.partial" must fit too
SCRATCH_NAME_EXTRA = len("..12345678.partial")
OS_CLUTTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # left when a file browser opens the folder


def foreign(names: Iterable[str], written: Callable[[str], bool]) -> list[str]:
    """The names, sorted, that the writer did not write (`written`), a file browser's aside."""
    return sorted(name for name in names if not written(name) and name not in OS_CLUTTER)


def few(names: list[str]) -> str:
    """The first three names, and how many more: an error line names what it is about, not all of it."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def name_max(folder) -> int:
    """The longest file name, in bytes, the folder's file system takes (255 where it cannot say)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def rename_no_clobber(source: str, target: str) -> bool:
    """Rename `source` to `target` unless `target` exists, in one step (a hard link, which fails on an
    existing name, then the old name's removal); False where `target` exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(target):
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True

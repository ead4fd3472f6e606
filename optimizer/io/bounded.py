"""Reading an input file without trusting it: plain files only, never more than a limit.

``Path.read_bytes`` blocks forever on a FIFO and reads a link to ``/dev/zero`` until memory
runs out: the size that ``stat`` reports is not a bound (it is 0 for both). So special
files are refused before they are opened (opening a FIFO or a tape device is itself an
action), the file is opened without blocking and checked again on the open descriptor
(it may have been swapped in between), and at most ``limit + 1`` bytes are ever read,
whatever the size said.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


class FileRefused(Exception):
    """Why a file was not read, in words for the person who gave it."""


def _kind(mode: int) -> str | None:
    """None for a regular file, else what it is."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_at_most(path: Path, limit: int, too_large: Callable[[int], str]) -> bytes:
    """The bytes of the regular file ``path``, or :class:`FileRefused`.

    ``too_large(size)`` is the message when the file holds more than ``limit`` bytes.
    """
    try:
        kind = _kind(os.stat(path).st_mode)  # follows links: a link to /dev/zero is a device
        if kind is not None:
            raise FileRefused(f"is {kind}, not a regular file: refused without reading it")
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise FileRefused(f"cannot read the file: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb") as handle:
        opened = os.fstat(descriptor)  # the file itself, even if the path was swapped since
        kind = _kind(opened.st_mode)
        if kind is not None:
            raise FileRefused(f"is {kind}, not a regular file: refused without reading it")
        if opened.st_size > limit:
            raise FileRefused(too_large(opened.st_size))
        try:
            data = handle.read(limit + 1)
        except OSError as error:
            raise FileRefused(f"cannot read the file: {error.strerror or error}") from None
    if len(data) > limit:  # it grew after its size was read
        raise FileRefused(too_large(len(data)))
    return data

"""User text made visible: invisible and control characters written as escapes.

Names, ids, descriptions and paths come from files and folders anyone may have made. Shown
raw, an ESC starts a terminal control sequence (clear the screen, recolour, a hidden
hyperlink), a right-to-left override (U+202E) reorders what follows it, a NUL or a C1
control such as U+009B confuses the program reading a CSV. :func:`visible` is applied where
text leaves the tool (the terminal, error messages, CSV, the workbook, the HTML page, chart
labels), so such text reads the same everywhere and acts on nothing.
"""

from __future__ import annotations


def visible(text: str, keep: str = "") -> str:
    """``text`` with every character that ``str.isprintable`` refuses written as its ``repr``
    escape (``\\x1b``, ``\\x9b``, ``\\u202e``, ``\\n``): C0 and C1 controls, DEL, format
    characters (bidi overrides and isolates, zero-width spaces), line and paragraph
    separators, unassigned code points and spaces other than " ". Characters in ``keep``
    (a message's own line breaks) stay as they are. Printable text is returned unchanged.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)

"""Reading YAML safely: plain data only, duplicate keys refused, line of every key kept.

PyYAML's ``safe_load`` silently keeps the last of two duplicate keys; a policy with
``max_share`` written twice must fail instead. Tags that would construct objects
(``!!python/object``...) are refused, as is any tag outside YAML's plain types. Aliases
(``*name``) are refused too: a few lines of them expand to billions of values ("billion
laughs"), and the policy, scenario and sweep files are small enough to write out.
Files above :data:`MAX_YAML_BYTES` are refused before parsing: PyYAML reads about
0.1 MB a second, so a large file would look like a hang.
"""

from __future__ import annotations

import codecs
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from optimizer.io.bounded import FileRefused, read_at_most

MAX_YAML_BYTES = 256 * 1024

_PLAIN_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML this tool does not read (an alias)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads 4.0e9 and 1e9 as numbers (YAML 1.1 wants 4.0e+9), and
    refuses aliases when composing, before anything can expand."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            message = f"YAML aliases (*{event.anchor}) are not allowed: write the value out"
            raise _Refused(problem=message, problem_mark=event.start_mark)
        return super().compose_node(parent, index)


EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
"""Numbers such as 1e9 that this reader, unlike YAML 1.1, takes as floats: a writer of
YAML for it must quote text so spelled."""

_Loader.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789"))


class YamlProblem(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


Path_ = tuple[Any, ...]


def read_yaml(path: Path) -> tuple[Any, dict[Path_, int], list[YamlProblem]]:
    """Parse ``path`` into plain Python data.

    Returns the data, the 1-based line of every mapping key and list item by its path
    of keys/indexes, and the problems found (too large, not UTF-8, duplicate keys,
    forbidden tags or aliases, syntax).
    """
    try:
        data = read_at_most(path, MAX_YAML_BYTES, _yaml_too_large)
    except FileRefused as refused:
        return None, {}, [YamlProblem(str(refused), None)]
    text, problem = decode_utf8(data)
    if problem is not None:
        return None, {}, [problem]
    return parse_yaml(text)


def _yaml_too_large(size: int) -> str:
    limit = MAX_YAML_BYTES // 1024
    size_kib = math.ceil(size / 1024)
    return f"file is {size_kib:,} KiB, above the {limit} KiB limit for YAML files: is this the right file?"


def decode_utf8(data: bytes) -> tuple[str, YamlProblem | None]:
    """The text of UTF-8 bytes (a leading BOM dropped), or the line of the first bad byte.

    Shared with the CSV reader: both name the line, and a UTF-16 file, for the person fixing it.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        utf16 = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        hint = " (it looks UTF-16: save it as UTF-8)" if utf16 else ""
        byte = data[error.start]
        message = f"not valid UTF-8 text: byte 0x{byte:02x} cannot be decoded{hint}"
        return "", YamlProblem(message, line)


def parse_yaml(text: str) -> tuple[Any, dict[Path_, int], list[YamlProblem]]:
    lines: dict[Path_, int] = {}
    problems: list[YamlProblem] = []
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        message = f"{character_name(chr(error.character))} is not allowed in YAML"
        return None, lines, [YamlProblem(message, line)]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        prefix = "" if isinstance(error, _Refused) else "YAML syntax error: "
        return None, lines, [YamlProblem(prefix + problem, mark.line + 1 if mark is not None else None)]
    except RecursionError:
        return None, lines, [YamlProblem("YAML nested too deeply", None)]
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return None, lines, problems

    def walk(current: yaml.Node, path: Path_) -> Any:
        if current.tag not in _PLAIN_TAGS:
            problems.append(_tag_problem(current))
            return None
        if isinstance(current, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in current.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    message = "a YAML key must be a plain name, not a list or mapping"
                    problems.append(YamlProblem(message, key_line))
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    problems.append(YamlProblem("YAML merge keys (<<) are not allowed", key_line))
                    continue
                if key_node.tag not in _PLAIN_TAGS:
                    problems.append(_tag_problem(key_node))
                    continue
                key = key_node.value  # keys are names: an id 1e5, no or 0x1f is text, as written
                if key in result:
                    problems.append(YamlProblem(f"duplicate key {key!r}", key_line))
                    continue
                lines[path + (key,)] = key_line
                result[key] = walk(value_node, path + (key,))
            return result
        if isinstance(current, yaml.SequenceNode):
            items = []
            for index, item in enumerate(current.value):
                lines[path + (index,)] = item.start_mark.line + 1
                items.append(walk(item, path + (index,)))
            return items
        value, problem = _scalar(loader, current)
        if problem is not None:
            problems.append(problem)
        return value

    try:
        return walk(node, ()), lines, problems
    except RecursionError:
        return None, lines, [YamlProblem("YAML nested too deeply", None)]


def _scalar(loader: _Loader, node: yaml.Node) -> tuple[Any, YamlProblem | None]:
    """A scalar's value (``node`` is neither a mapping nor a sequence). Text an explicit tag
    cannot read (``!!int x``) is a problem, as is a whole number too long to be meant:
    Python refuses to even print one of 5,000 digits."""
    line = node.start_mark.line + 1
    if node.tag == "tag:yaml.org,2002:int" and len(node.value) > 40:
        return None, YamlProblem(f"a whole number of {len(node.value):,} characters is too large", line)
    try:
        return loader.construct_object(node, deep=True), None
    except (ValueError, KeyError, OverflowError):
        kind = node.tag.rsplit(":", 1)[-1]
        return None, YamlProblem(f"{node.value[:40]!r} is not a valid {kind}", line)


def _tag_problem(node: yaml.Node) -> YamlProblem:
    message = f"YAML tag {node.tag!r} is not allowed (plain data only)"
    return YamlProblem(message, node.start_mark.line + 1)


def character_name(character: str) -> str:
    """A character as a reader can identify it, even when it is invisible or a control code."""
    control = unicodedata.category(character) == "Cc"
    name = unicodedata.name(character, "control character" if control else "")
    return f"{character!r} (U+{ord(character):04X}{' ' + name if name else ''})"

"""Reading YAML safely: plain data only, duplicate keys refused, line of every key kept.

PyYAML's ``safe_load`` silently keeps the last of two duplicate keys; a policy with
``max_share`` written twice must fail instead. Tags that would construct objects
(``!!python/object``...) are refused, as is any tag outside YAML's plain types.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_PLAIN_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads 4.0e9 and 1e9 as numbers (YAML 1.1 wants 4.0e+9)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class YamlProblem(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


Path_ = tuple[Any, ...]


def read_yaml(path: Path) -> tuple[Any, dict[Path_, int], list[YamlProblem]]:
    """Parse ``path`` into plain Python data.

    Returns the data, the 1-based line of every mapping key and list item by its path
    of keys/indexes, and the problems found (duplicate keys, forbidden tags, syntax).
    """
    text = path.read_text(encoding="utf-8-sig")
    return parse_yaml(text)


def parse_yaml(text: str) -> tuple[Any, dict[Path_, int], list[YamlProblem]]:
    loader = _Loader(text)
    lines: dict[Path_, int] = {}
    problems: list[YamlProblem] = []
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        return None, lines, [YamlProblem(f"YAML syntax error: {problem}", line)]
    finally:
        loader.dispose()
    if node is None:
        return None, lines, problems

    def walk(current: yaml.Node, path: Path_) -> Any:
        line = current.start_mark.line + 1
        if current.tag not in _PLAIN_TAGS:
            problems.append(
                YamlProblem(f"YAML tag {current.tag!r} is not allowed (plain data only)", line)
            )
            return None
        if isinstance(current, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in current.value:
                key = walk(key_node, path)
                key_line = key_node.start_mark.line + 1
                if key == "<<":
                    problems.append(YamlProblem("YAML merge keys (<<) are not allowed", key_line))
                    continue
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
        return loader.construct_object(current, deep=True)

    return walk(node, ()), lines, problems

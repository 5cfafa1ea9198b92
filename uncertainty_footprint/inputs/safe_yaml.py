"""Reading YAML safely: hostile or broken files are refused in milliseconds with one line.

Every YAML file the package reads (experiments and the data catalog) goes through :func:`load_file`. On top of
``yaml.SafeLoader`` (the libyaml ``CSafeLoader`` when available) it refuses

- files larger than :data:`MAX_BYTES` (1 MiB), before parsing: at most ``MAX_BYTES + 1`` bytes are read;
- nesting deeper than :data:`MAX_DEPTH` levels, aliases included (libyaml would crash on deep nesting);
- documents of more than :data:`MAX_NODES` nodes once aliases are expanded (a "billion laughs" alias bomb is
  a few hundred bytes that expand to 10^9 nodes), and recursive aliases;
- duplicate keys in any mapping, naming both lines (``yaml.safe_load`` silently keeps the last one);
- tags other than the standard ones (``!!python/...``), integers too long to convert, malformed YAML.

The limits are checked on the event stream, before any node or Python object is built, so the cost of a
refusal does not depend on what the file would expand to. Every problem is a
:class:`~uncertainty_footprint.errors.ConfigError` naming the file, the key path where known and the line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, shorten

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_file", "load_text"]

#: Largest file read [bytes]; an experiment is a few kB, the largest data file 21 kB.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and sequences [levels]; the shipped files need at most 6.
MAX_DEPTH = 20
#: Most nodes of a document with aliases expanded [nodes]; the largest data file has about 900.
MAX_NODES = 100_000

_BASE = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _cut(text: str, limit: int = 120) -> str:
    """A message of the YAML library (which may quote the input), cut to ``limit`` characters on one line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _line(mark) -> str:
    return f"line {mark.line + 1}" if mark is not None else "an unknown line"


def _join(path: list[str]) -> str:
    out = ""
    for part in path:
        out += part if part.startswith("[") or not out else "." + part
    return out


class _Frame:
    """An open mapping or sequence while scanning events."""

    __slots__ = ("is_map", "anchor", "path", "size", "height", "expect_key", "key", "index")

    def __init__(self, is_map: bool, anchor: str | None, path: list[str]):
        self.is_map, self.anchor, self.path = is_map, anchor, path
        self.size, self.height, self.expect_key, self.key, self.index = 1, 0, True, "?", 0

    def place(self, event) -> None:
        """Advance past a child node (a key or a value of a mapping, an item of a sequence)."""
        if self.is_map:
            if self.expect_key:
                self.key = event.value if event.__class__ is yaml.ScalarEvent else "?"
            self.expect_key = not self.expect_key
        else:
            self.index += 1

    def child_path(self) -> list[str]:
        """The key path of the child placed last."""
        return self.path + ([self.key] if self.is_map else [f"[{self.index - 1}]"])


def _scan(text: str, source: str) -> dict[tuple[int, int], str]:
    """Check depth, expanded size and aliases on the event stream; return the key path of every mapping by
    its (line, column), for messages about duplicate keys. The cost is linear in the events read and stops at
    the first problem."""
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    starts = {yaml.SequenceStartEvent: False, yaml.MappingStartEvent: True}
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    parser = _BASE(text)
    get_event = parser.get_event
    stack: list[_Frame] = []
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (expanded size, height) of its node
    open_anchors: set[str] = set()
    paths: dict[tuple[int, int], str] = {}
    total = 0

    def where() -> str:
        return _join(stack[-1].child_path()) if stack else ""

    try:
        while True:
            event = get_event()
            cls = event.__class__
            if cls is scalar_event:
                total += 1
                if stack:
                    parent = stack[-1]
                    parent.place(event)
                    parent.size += 1
                if event.anchor is not None:
                    anchors[event.anchor] = (1, 0)
                if total > MAX_NODES:
                    raise _too_many(source, where(), event.start_mark)
            elif cls in ends:
                frame = stack.pop()
                if frame.anchor is not None:
                    anchors[frame.anchor] = (frame.size, frame.height + 1)
                    open_anchors.discard(frame.anchor)
                if stack:
                    stack[-1].size += frame.size
                    stack[-1].height = max(stack[-1].height, frame.height + 1)
            elif cls in starts:
                total += 1
                path: list[str] = []
                if stack:
                    stack[-1].place(event)
                    path = stack[-1].child_path()
                if len(stack) + 1 > MAX_DEPTH:
                    raise _too_deep(source, _join(path), event.start_mark)
                if total > MAX_NODES:
                    raise _too_many(source, _join(path), event.start_mark)
                frame = _Frame(starts[cls], event.anchor, path)
                if frame.is_map:
                    paths[(event.start_mark.line, event.start_mark.column)] = _join(path)
                if event.anchor is not None:
                    open_anchors.add(event.anchor)
                stack.append(frame)
            elif cls is alias_event:
                if stack:
                    stack[-1].place(event)
                mark, name = event.start_mark, event.anchor
                if name in open_anchors:
                    raise ConfigError(source, where(), f"recursive alias *{_cut(name, 40)} at {_line(mark)}; "
                                      "aliases must not refer to a node that contains them")
                if name not in anchors:
                    raise ConfigError(source, where(), f"alias *{_cut(name, 40)} at {_line(mark)} refers to no "
                                      "anchor defined before it")
                size, height = anchors[name]
                if len(stack) + height > MAX_DEPTH:
                    raise _too_deep(source, where(), mark)
                total += size
                if total > MAX_NODES:
                    raise _too_many(source, where(), mark)
                if stack:
                    stack[-1].size += size
                    stack[-1].height = max(stack[-1].height, height)
            elif event is None or cls is yaml.StreamEndEvent:
                return paths
    finally:
        parser.dispose()


def _too_deep(source: str, path: str, mark) -> ConfigError:
    return ConfigError(source, path, f"nesting deeper than {MAX_DEPTH} levels at {_line(mark)}; an experiment "
                       "needs at most 6")


def _too_many(source: str, path: str, mark) -> ConfigError:
    return ConfigError(source, path, f"more than {MAX_NODES} values at {_line(mark)} once aliases are expanded "
                       "(an alias bomb?); an experiment has a few hundred")


class _Loader(_BASE):
    """The safe loader that refuses duplicate keys and integers too long to convert."""

    def __init__(self, text: str, source: str, paths: dict[tuple[int, int], str]):
        super().__init__(text)
        self._source = source
        self._paths = paths

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue  # merged keys may be overridden: YAML's merge semantics, not a duplicate
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                            "found a key that is not a scalar",
                                                            key_node.start_mark) from None
                if first is not None:
                    parent = self._paths.get((node.start_mark.line, node.start_mark.column), "")
                    path = f"{parent}.{key}" if parent else str(key)
                    at, before = _line(key_node.start_mark), _line(first)
                    if at == before:
                        at += f", column {key_node.start_mark.column + 1}"
                        before += f", column {first.column + 1}"
                    raise ConfigError(self._source, path, f"duplicate key {shorten(key, 60)} at {at} (first at "
                                      f"{before}); a key may appear only once in a mapping")
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(None, None, f"integer of {len(node.value)} digits is too "
                                                    "long", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def load_text(text: str, source: str) -> Any:
    """Parse YAML text with the limits of this module.

    Parameters
    ----------
    text : str
        The document (at most :data:`MAX_BYTES` when encoded; :func:`load_file` checks the size).
    source : str
        The file name for messages.

    Returns
    -------
    object
        Plain mappings, lists, numbers and text (``None`` for an empty document).

    Raises
    ------
    ConfigError
        One line naming ``source``, the key path where known and the line.
    """
    try:
        paths = _scan(text, source)
        loader = _Loader(text, source, paths)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = exc.problem or ""
        if "could not determine a constructor" in problem:
            tag = _cut(problem.split()[-1], 80)
            raise ConfigError(source, "", f"YAML tags such as {tag} are not allowed{line}; use plain mappings, "
                              "lists, numbers and text") from None
        raise ConfigError(source, "", f"malformed YAML{line}: {_cut(problem)}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [""])[0]
        context = getattr(exc, "context", None)
        problem = f"{context}, {problem}" if context and "single document" in context else problem
        raise ConfigError(source, "", f"malformed YAML{line}: {_cut(problem)}") from None
    except RecursionError:
        raise ConfigError(source, "", f"nesting too deep; at most {MAX_DEPTH} levels") from None


def load_file(path: str | os.PathLike) -> tuple[Any, bytes]:
    """Read and parse a YAML file with the limits of this module.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    data : object
        The parsed document.
    raw : bytes
        The file's bytes as read (for a checksum of exactly what was parsed).

    Raises
    ------
    ConfigError
        Missing, unreadable, larger than :data:`MAX_BYTES`, not UTF-8, or any problem of :func:`load_text`.
    """
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if path.is_file() and size > MAX_BYTES:
            raise ConfigError(source, "", f"the file is {size / (1 << 20):.1f} MiB, refused before parsing (line "
                              f"1); a YAML file may be at most {MAX_BYTES // (1 << 20)} MiB")
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(source, "", f"cannot be read ({exc.__class__.__name__}: "
                          f"{_cut(exc.strerror or str(exc), 80)})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(source, "", f"more than {MAX_BYTES // (1 << 20)} MiB, refused before parsing (line 1); a "
                          f"YAML file may be at most {MAX_BYTES // (1 << 20)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(source, "", f"cannot be read (UnicodeDecodeError: not UTF-8 at line {line}, byte "
                          f"{exc.start})") from None
    return load_text(text, source), raw

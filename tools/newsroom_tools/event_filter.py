"""Lambda event filtering: whether a record matches an event source mapping's `FilterCriteria`.

Standard library only. The pattern language is the one Lambda documents (EventBridge's, less a
few operators): a pattern mirrors the record's shape; every leaf is a list of allowed values or
operators, any of which may match; fields of one pattern must all match; `Filters` are OR-ed.

What it mirrors from Lambda, on purpose:

- an exact value matches only a value of the same JSON type (``"5"`` is not ``5``);
- ``exists`` looks at leaves only: an object is not a value that "exists";
- ``anything-but`` and every other operator but ``exists: false`` need the field present;
- ``numeric`` compares JSON numbers only (a DynamoDB ``{"N": "5"}`` is a string);
- when the record's value is a list, the rule matches if any element matches.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

_MISSING = object()
_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case")

Pattern = dict[str, Any]


class FilterPatternError(ValueError):
    """A filter pattern Lambda would refuse when the event source mapping is created."""


def parse_filter_criteria(criteria: Mapping[str, Any] | None) -> tuple[Pattern, ...]:
    """The patterns of a `FilterCriteria` property (``{"Filters": [{"Pattern": ...}]}``).

    Raises
    ------
    FilterPatternError
        When a pattern is not JSON or uses an operator Lambda does not know.
    """
    if not criteria:
        return ()
    filters = criteria.get("Filters", [])
    if not isinstance(filters, list):
        raise FilterPatternError("FilterCriteria.Filters must be a list")
    return tuple(parse_pattern(item.get("Pattern", "")) for item in filters)


def parse_pattern(pattern: str | Mapping[str, Any]) -> Pattern:
    """One filter pattern, from its JSON text (as in the template) or already parsed.

    Raises
    ------
    FilterPatternError
        When the pattern is not a JSON object of valid rules.
    """
    if isinstance(pattern, str):
        try:
            parsed = json.loads(pattern)
        except json.JSONDecodeError as exc:
            raise FilterPatternError(f"filter pattern is not JSON: {exc}") from exc
    else:
        parsed = pattern
    if not isinstance(parsed, Mapping):
        raise FilterPatternError("a filter pattern must be a JSON object")
    _check_object(parsed, path="")
    return dict(parsed)


def matches_any(patterns: Sequence[Pattern], record: Mapping[str, Any]) -> bool:
    """Whether `record` passes the filters: no filters, or any one pattern matches."""
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], record: Any) -> bool:
    """Whether `record` (parsed JSON) matches one pattern."""
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(alternative, record) for alternative in rule):
                return False
            continue
        value = record.get(key, _MISSING) if isinstance(record, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            if not _matches_nested(rule, value):
                return False
        elif not _matches_leaf(rule, value):
            return False
    return True


def _matches_nested(rule: Mapping[str, Any], value: Any) -> bool:
    if isinstance(value, list):
        objects = [item for item in value if isinstance(item, Mapping)]
        if objects:
            return any(matches(rule, item) for item in objects)
    # A missing object still lets `exists: false` rules beneath it match.
    return matches(rule, value if isinstance(value, Mapping) else {})


def _matches_leaf(rules: Iterable[Any], value: Any) -> bool:
    exists = value is not _MISSING and not isinstance(value, Mapping)
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, Mapping) and "exists" in rule:
            if rule["exists"] is exists:
                return True
        elif exists and any(_matches_value(rule, item) for item in values):
            return True
    return False


def _matches_value(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return _same(rule, value)
    name, argument = next(iter(rule.items()))
    if name == "anything-but":
        return not _matches_excluded(argument, value)
    if name == "numeric":
        return _matches_numeric(argument, value)
    return _matches_string(name, argument, value)


def _matches_excluded(argument: Any, value: Any) -> bool:
    if isinstance(argument, Mapping):
        name, operand = next(iter(argument.items()))
        operands = operand if isinstance(operand, list) else [operand]
        return any(_matches_string(name, item, value) for item in operands)
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_same(item, value) for item in excluded)


def _matches_string(name: str, argument: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return value.startswith(argument)
    if name == "suffix":
        return value.endswith(argument)
    return value.casefold() == argument.casefold()  # equals-ignore-case


def _matches_numeric(argument: Sequence[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(_NUMERIC_OPERATORS[op](float(value), float(bound)) for op, bound in pairs)


def _same(rule: Any, value: Any) -> bool:
    if isinstance(rule, bool) or isinstance(value, bool):
        return isinstance(rule, bool) and isinstance(value, bool) and rule is value
    if isinstance(rule, (int, float)) and isinstance(value, (int, float)):
        return float(rule) == float(value)
    return type(rule) is type(value) and bool(rule == value)


# Validation, so a mistake in the template fails at start and not silently per record.


def _check_object(pattern: Mapping[str, Any], path: str) -> None:
    for key, rule in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(rule, list) or len(rule) < 2:
                raise FilterPatternError(f"{where}: $or needs a list of at least two patterns")
            for alternative in rule:
                if not isinstance(alternative, Mapping):
                    raise FilterPatternError(f"{where}: each $or alternative is an object")
                _check_object(alternative, path)
        elif isinstance(rule, Mapping):
            _check_object(rule, where)
        elif isinstance(rule, list):
            if not rule:
                raise FilterPatternError(f"{where}: an empty list matches nothing")
            for item in rule:
                _check_rule(item, where)
        else:
            raise FilterPatternError(f"{where}: a leaf must be a list of values, not {rule!r}")


def _check_rule(rule: Any, where: str) -> None:
    if rule is None or isinstance(rule, (str, int, float, bool)):
        return
    if not isinstance(rule, Mapping) or len(rule) != 1:
        raise FilterPatternError(f"{where}: {rule!r} is neither a value nor one operator")
    name, argument = next(iter(rule.items()))
    if name == "exists":
        if not isinstance(argument, bool):
            raise FilterPatternError(f"{where}: exists takes true or false")
    elif name in _STRING_OPERATORS:
        if not isinstance(argument, str):
            raise FilterPatternError(f"{where}: {name} takes a string")
    elif name == "numeric":
        _check_numeric(argument, where)
    elif name == "anything-but":
        _check_anything_but(argument, where)
    else:
        raise FilterPatternError(f"{where}: unknown operator {name!r}")


def _check_numeric(argument: Any, where: str) -> None:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise FilterPatternError(f"{where}: numeric takes [op, n] or [op, n, op, n]")
    for op, bound in zip(argument[::2], argument[1::2], strict=True):
        if op not in _NUMERIC_OPERATORS:
            raise FilterPatternError(f"{where}: unknown numeric operator {op!r}")
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise FilterPatternError(f"{where}: numeric bounds are numbers, not {bound!r}")


def _check_anything_but(argument: Any, where: str) -> None:
    if isinstance(argument, Mapping):
        if len(argument) != 1 or next(iter(argument)) not in _STRING_OPERATORS:
            raise FilterPatternError(f"{where}: anything-but takes values, prefix or suffix")
        operand = next(iter(argument.values()))
        operands = operand if isinstance(operand, list) else [operand]
        if not all(isinstance(item, str) for item in operands):
            raise FilterPatternError(f"{where}: anything-but's operator takes strings")
        return
    values = argument if isinstance(argument, list) else [argument]
    if not values or not all(isinstance(item, (str, int, float)) for item in values):
        raise FilterPatternError(f"{where}: anything-but takes strings or numbers")

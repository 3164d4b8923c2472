"""How a setting is written as text, by its type: lists and mappings the way people write environment
variables (a comma list, `key=value` pairs) or as JSON; and, for a mistake, the format a setting
expects and an example of it, in the syntax of the place it was written (a variable or a TOML key).

Everything here follows from the field's annotation, so a new setting is covered without a list.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

Shape = Literal["list", "models", "mapping", "groups", "scalar"]
_WORDS: dict[Any, str] = {bool: "true or false", int: "a whole number", float: "a number", Path: "a path"}


def _bare(annotation: Any) -> Any:
    """`X | None` → X: an optional setting is written like its value."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [a for a in get_args(annotation) if a is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def item_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model of a structured setting's items (AccessRule, AlertRoute, …), or None."""
    args = get_args(_bare(field.annotation))
    return args[0] if shape(field) == "models" else None


def shape(field: FieldInfo) -> Shape:
    annotation = _bare(field.annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (list, set, tuple, frozenset):
        is_model = args and isinstance(args[0], type) and issubclass(args[0], BaseModel)
        return "models" if is_model else "list"
    if origin is dict:
        return "groups" if args and get_origin(args[1]) is list else "mapping"
    return "scalar"


def decode(field: FieldInfo, text: str) -> Any:
    """The value of a list or mapping setting written as text; ValueError says what is wrong.
    JSON is recognised by its first character, so a comma list never has to be quoted."""
    kind, stripped = shape(field), text.strip()
    if kind == "scalar":
        return text
    if stripped[:1] in ("[", "{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            # The position, never the text: the value may hold a secret.
            raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
        return [value] if kind == "models" and isinstance(value, dict) else value
    if kind == "models":
        raise ValueError("expected JSON (an array of objects)")
    items = [item.strip() for item in stripped.split(",") if item.strip()]
    if kind == "list":
        return items
    if kind == "mapping":
        if bad := [item for item in items if "=" not in item]:
            raise ValueError(f"`{bad[0][:40]}` is not a key=value pair")
        return dict(item.split("=", 1) for item in items)
    groups: dict[str, list[str]] = {}  # `S0PAY=U1,U2,S0OPS=U3`: a value without `=` joins the key before it
    for item in items:
        key, sep, value = item.partition("=")
        if sep:
            groups[key.strip()] = [value.strip()] if value.strip() else []
        elif groups:
            groups[next(reversed(groups))].append(item)
        else:
            raise ValueError(f"`{item[:40]}` comes before any key=value pair")
    return groups


def expected(field: FieldInfo, *, in_toml: bool = False) -> str:
    """The format, in words, for an error message; a TOML file has arrays and tables of its own."""
    kind = shape(field)
    if (model := item_model(field)) is not None:
        keys = ", ".join(model.model_fields)
        return f"an array of tables with the keys {keys}" if in_toml else f"a JSON array of objects ({keys})"
    words = {
        "list": "an array of strings" if in_toml else "a comma-separated list or a JSON array",
        "mapping": "a table of strings"
        if in_toml
        else "key=value pairs separated by commas, or a JSON object",
        "groups": "a table of string arrays"
        if in_toml
        else "key=value pairs separated by commas, further values after their key (K=A,B), or JSON",
    }
    if kind in words:
        return words[kind]
    annotation = _bare(field.annotation)
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    said = _WORDS.get(annotation, "text")
    for limit in field.metadata:
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            if isinstance(limit, annotated_types.BaseMetadata) and hasattr(limit, attr):
                said += f" {sign} {getattr(limit, attr)}"
    if field.metadata and any(getattr(m, "pattern", None) for m in field.metadata):
        said += " in the form of the example"
    return said


def example_value(field: FieldInfo) -> Any:
    """The field's declared example, else its default, else a value of its type."""
    if field.examples:
        return field.examples[0]
    default = field.get_default(call_default_factory=True)
    if default not in (None, [], {}) and not isinstance(default, SecretStr):
        return default.model_dump() if isinstance(default, BaseModel) else default
    annotation = _bare(field.annotation)
    return {bool: True, int: 1, float: 1.0, Path: "/path/to/it"}.get(annotation, "value")


def as_variable(name: str, field: FieldInfo) -> str:
    """The example as an environment variable or `.env` line."""
    value = example_value(field)
    kind = shape(field)
    if kind == "list":
        text = ",".join(str(v) for v in value)
    elif kind == "mapping":
        text = ",".join(f"{k}={v}" for k, v in value.items())
    elif kind == "groups":
        text = ",".join(f"{k}={','.join(v)}" for k, v in value.items())
    elif kind == "models":
        text = "'" + json.dumps([_plain(v) for v in value], separators=(",", ":")) + "'"
    else:
        text = _scalar(value)
    return f"{name}={text}"


def as_toml(key: str, field: FieldInfo) -> str:
    """The example as it is written in the TOML file."""
    value = example_value(field)
    if shape(field) == "models":
        value = [_plain(v) for v in value]  # an array of inline tables: `[[key]]` blocks need lines
    return f"{key} = {_toml(value)}"


def _plain(value: Any) -> Any:
    return value.model_dump(exclude_defaults=True) if isinstance(value, BaseModel) else value


def _scalar(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _toml(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return _scalar(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is written like a JSON string

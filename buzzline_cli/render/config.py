"""``buzzline config``: the effective configuration as TOML (with origins) or JSON."""

from __future__ import annotations

import json
from typing import Any

from buzzline_cli.settings import DEFAULT_ORIGIN, LoadedSettings


def _toml_key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def toml_value(value: Any) -> str:
    """A TOML literal for the value types settings hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _sections(loaded: LoadedSettings) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = loaded.settings.model_dump(mode="json")
    return data


def config_toml(loaded: LoadedSettings) -> str:
    """Every key of every section, each with a comment naming where its value came from."""
    out: list[str] = []
    if loaded.config_file is not None:
        out.append(f"# config file: {loaded.config_file}")
    for section, values in _sections(loaded).items():
        tables = {
            k: v
            for k, v in values.items()
            if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)
        }
        out.append(f"\n[{section}]")
        for key, value in values.items():
            if key in tables:
                continue
            origin = loaded.origins.get(f"{section}.{key}", DEFAULT_ORIGIN)
            if value is None:
                out.append(f"# {key} is unset  # {origin}")
            else:
                out.append(f"{_toml_key(key)} = {toml_value(value)}  # {origin}")
        for key, items in tables.items():
            origin = loaded.origins.get(f"{section}.{key}", DEFAULT_ORIGIN)
            for item in items:
                out.append(f"\n[[{section}.{key}]]  # {origin}")
                out.extend(
                    f"{_toml_key(k)} = {toml_value(v)}" for k, v in item.items() if v is not None
                )
    return "\n".join(out).lstrip("\n") + "\n"


def config_json(loaded: LoadedSettings) -> str:
    """``{"config_file": ..., "settings": {...}, "origins": {"section.key": origin}}``."""
    data = _sections(loaded)
    origins = {
        f"{section}.{key}": loaded.origins.get(f"{section}.{key}", DEFAULT_ORIGIN)
        for section, values in data.items()
        for key in values
    }
    document = {
        "config_file": None if loaded.config_file is None else str(loaded.config_file),
        "settings": data,
        "origins": origins,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

"""The configuration shared by every command, with where each value came from.

Precedence, highest first: flags the user actually gave > ``BUZZLINE_<SECTION>__<KEY>``
environment variables > a ``.env`` file in the working directory > a TOML config file >
built-in defaults. The layers are pydantic-settings sources; each is also read on its own so
``buzzline config`` can say which one a value came from, and a bad value's error can too.
"""

from __future__ import annotations

import json
import os
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from buzzline_cli import vocabulary as vocab
from buzzline_cli.errors import ConfigError
from buzzline_cli.message import Vocabulary
from buzzline_cli.rules import Matcher, RuleSpec
from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES

ENV_PREFIX = "BUZZLINE_"
DEFAULT_ORIGIN = "default"
FLAG_ORIGIN = "flag"
# The course's own environment names, accepted as aliases (lower precedence than ours).
ENV_ALIASES = {"KAFKA_BROKER_ADDRESS": ("kafka", "bootstrap"), "KAFKA_TOPIC": ("kafka", "topic")}


def _split_list(value: Any) -> Any:
    """Lists from the environment: JSON (``["a", "b"]``) or comma-separated (``a,b``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


StrList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


def _nonempty_words(values: list[str]) -> list[str]:
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise ValueError("entries must not be empty")
    if any(not v.isprintable() for v in cleaned):
        raise ValueError("entries must not contain control characters (a newline, say)")
    return cleaned


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ProduceSettings(Section):
    to: str = Field("-", description="sink: - for stdout, a file path, or kafka://HOST:PORT/TOPIC")
    interval: float = Field(1.0, ge=0, allow_inf_nan=False, description="seconds between messages")
    count: int | None = Field(None, ge=0, description="stop after this many messages")
    duration: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="stop after seconds"
    )
    seed: int | None = Field(None, description="random seed: same seed, same messages")
    format: Literal["text", "json", "log"] = "text"
    template: str = vocab.TEMPLATE

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            parsed = list(string.Formatter().parse(value))
        except ValueError as error:
            raise ValueError(f"not a valid template ({error})") from None
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if name not in vocab.FIELDS:
                known = ", ".join("{" + f + "}" for f in vocab.FIELDS)
                raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")
            if spec or conversion:
                raise ValueError(f"placeholder {{{name}}} takes no format spec or conversion")
        if "\n" in value or "\r" in value:
            raise ValueError("a template is one line: no newlines")
        return value


class Rule(Section):
    name: str = Field(min_length=1)
    any: StrList = Field(default_factory=list)
    all: StrList = Field(default_factory=list)
    style: str | None = None

    @field_validator("any", "all")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        return _nonempty_words(values)

    @field_validator("style")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from rich.errors import StyleSyntaxError
        from rich.style import Style

        try:
            Style.parse(value)
        except StyleSyntaxError as error:
            raise ValueError(f"not a Rich style: {error}") from None
        return value

    def spec(self) -> RuleSpec:
        return RuleSpec(self.name, tuple(self.any), tuple(self.all), self.style)

    @model_validator(mode="after")
    def _has_words(self) -> Rule:
        if not self.any and not self.all:
            raise ValueError(f"rule {self.name!r} needs `any` or `all` words")
        return self


class ConsumeSettings(Section):
    keywords: StrList = Field(default_factory=list)
    mode: Literal["any", "all"] = "any"
    rules: list[Rule] = Field(default_factory=list)
    format: Literal["auto", "panel", "plain", "json"] = "auto"
    show_all: bool = False
    summary: bool = True
    max_line_bytes: int = Field(DEFAULT_MAX_LINE_BYTES, ge=1)

    @field_validator("keywords")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        return _nonempty_words(values)

    def matcher(self) -> Matcher:
        """The alert rules: the keywords (any, or all) and the named rules."""
        return Matcher(tuple(self.keywords), self.mode == "all", [r.spec() for r in self.rules])


class StatsSettings(Section):
    by: StrList = Field(default_factory=lambda: list(vocab.FIELDS))
    top: int = Field(10, ge=1)
    window: str | None = None
    format: Literal["table", "json", "csv"] = "table"

    @field_validator("by")
    @classmethod
    def _dimensions(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in vocab.FIELDS:
                raise ValueError(f"unknown dimension {value!r} (known: {', '.join(vocab.FIELDS)})")
        return values


ClientValue = str | int | float | bool


class KafkaSettings(Section):
    bootstrap: str = "localhost:9092"
    topic: str = "buzzline"
    group: str = "buzzline"
    client: dict[str, ClientValue] = Field(default_factory=dict)


class VocabularySettings(Section):
    states: StrList = Field(default_factory=lambda: list(vocab.STATES), min_length=1)
    actions: StrList = Field(default_factory=lambda: list(vocab.ACTIONS), min_length=1)
    topics: StrList = Field(default_factory=lambda: list(vocab.TOPICS), min_length=1)
    adjectives: StrList = Field(default_factory=lambda: list(vocab.ADJECTIVES), min_length=1)
    positive: StrList = Field(default_factory=lambda: list(vocab.POSITIVE))
    negative: StrList = Field(default_factory=lambda: list(vocab.NEGATIVE))
    neutral: StrList = Field(default_factory=lambda: list(vocab.NEUTRAL))

    @field_validator("states", "actions", "topics", "adjectives")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        return _nonempty_words(values)

    def as_vocabulary(self, template: str) -> Vocabulary:
        return Vocabulary(
            tuple(self.states),
            tuple(self.actions),
            tuple(self.topics),
            tuple(self.adjectives),
            template,
        )


class Settings(BaseSettings):
    """Everything buzzline can be told. Flags arrive as init arguments."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
        validate_default=True,
    )

    produce: ProduceSettings = ProduceSettings()
    consume: ConsumeSettings = ConsumeSettings()
    stats: StatsSettings = StatsSettings()
    kafka: KafkaSettings = KafkaSettings()
    vocabulary: VocabularySettings = VocabularySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() reads every layer itself (to know each value's origin) and hands
        # the merged result in as init arguments.
        return (init_settings,)


SECTIONS = tuple(Settings.model_fields)


@dataclass
class Layer:
    """One source of configuration: its values and how to name where a key came from."""

    label: str
    values: dict[str, Any]
    env_names: bool = False  # name a key by its environment variable
    names: dict[str, str] = field(default_factory=dict)  # "section.key" -> a name of its own

    def origin_of(self, section: str, key: str) -> str:
        if f"{section}.{key}" in self.names:
            return self.label + self.names[f"{section}.{key}"]
        if self.env_names:
            return f"{self.label}{ENV_PREFIX}{section.upper()}__{key.upper()}"
        return self.label


@dataclass
class LoadedSettings:
    settings: Settings
    origins: dict[str, str] = field(default_factory=dict)  # "section.key" -> origin
    config_file: Path | None = None


def find_config_file(
    explicit: Path | None, environ: Mapping[str, str], cwd: Path
) -> tuple[Path | None, str]:
    """The TOML file to read and why: --config, BUZZLINE_CONFIG, ./buzzline.toml, XDG."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit} (from --config)")
        return explicit, "--config"
    from_env = environ.get("BUZZLINE_CONFIG")
    if from_env:
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from BUZZLINE_CONFIG)")
        return path, "BUZZLINE_CONFIG"
    local = cwd / "buzzline.toml"
    if local.is_file():
        return local, "working directory"
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    user = Path(xdg).expanduser() / "buzzline" / "config.toml"
    if user.is_file():
        return user, "XDG_CONFIG_HOME"
    return None, ""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"malformed TOML in {path}: {error}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    unknown = [key for key in data if key not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"unknown section [{unknown[0]}] in {path} (known: {', '.join(SECTIONS)})"
        )
    for section, body in data.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{section} must be a table ([{section}]) in {path}")
    return data


def _aliases(label: str, environ: Mapping[str, str]) -> Layer:
    layer = Layer(label, {})
    for name, (section, key) in ENV_ALIASES.items():
        if environ.get(name):
            layer.values.setdefault(section, {})[key] = environ[name]
            layer.names[f"{section}.{key}"] = name
    return layer


def _only_sections(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in SECTIONS}


def _env_layers(environ: Mapping[str, str], cwd: Path) -> list[Layer]:
    """The .env file and the environment, each with the course's aliases beneath them."""
    layers: list[Layer] = []
    dotenv = cwd / ".env"
    if dotenv.is_file():
        source = DotEnvSettingsSource(
            Settings,
            env_file=dotenv,
            env_prefix=ENV_PREFIX,
            env_nested_delimiter="__",
            case_sensitive=False,
        )
        # Only BUZZLINE_* names (and the aliases) concern us; other lines belong to others.
        from dotenv import dotenv_values

        raw = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
        layers.append(_aliases(".env: ", raw))
        layers.append(Layer(".env: ", _only_sections(source()), env_names=True))
    layers.append(_aliases("", environ))
    env_source = EnvSettingsSource(
        Settings, env_prefix=ENV_PREFIX, env_nested_delimiter="__", case_sensitive=False
    )
    env_source.env_vars = {k.lower(): v for k, v in environ.items()}
    layers.append(Layer("", _only_sections(env_source()), env_names=True))
    return layers


def _merge(layers: list[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        for section, body in layer.values.items():
            if not isinstance(body, dict):
                merged[section] = body
                continue
            target = merged.setdefault(section, {})
            for key, value in body.items():
                if isinstance(value, dict) and isinstance(target.get(key), dict):
                    target[key] = {**target[key], **value}
                else:
                    target[key] = value
                origins[f"{section}.{key}"] = layer.origin_of(section, key)
    return merged, origins


def _describe(error: ValidationError, merged: dict[str, Any], origins: dict[str, str]) -> str:
    problems = error.errors()
    first = problems[0]
    loc = [str(part) for part in first["loc"]]
    key = ".".join(loc)
    origin = origins.get(".".join(loc[:2]), DEFAULT_ORIGIN)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    value = first.get("input")
    shown = "" if first["type"] == "extra_forbidden" or isinstance(value, dict) else f" = {value!r}"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"bad config value {key}{shown} (from {origin}): {message}{more}"


def load_settings(
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> LoadedSettings:
    """Read every layer, merge them by precedence, validate once, remember origins."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    path, _why = find_config_file(config_path, environ, cwd)
    layers: list[Layer] = []
    if path is not None:
        layers.append(Layer(str(path), _read_toml(path)))
    layers.extend(_env_layers(environ, cwd))
    given = {section: dict(body) for section, body in (flags or {}).items() if body}
    layers.append(Layer(FLAG_ORIGIN, given))
    merged, origins = _merge(layers)
    try:
        settings = Settings(**merged)
    except ValidationError as error:
        raise ConfigError(_describe(error, merged, origins)) from None
    except ValueError as error:  # e.g. JSON in an environment variable that doesn't parse
        raise ConfigError(f"bad config value: {error}") from None
    return LoadedSettings(settings=settings, origins=origins, config_file=path)

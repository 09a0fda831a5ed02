"""The config layer: each precedence layer, origins, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from buzzline_cli.cli import app
from buzzline_cli.errors import ConfigError
from buzzline_cli.settings import load_settings

runner = CliRunner()


def config_json(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = runner.invoke(app, [*args, "config", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def value(doc: dict[str, object], key: str) -> object:
    section, name = key.split(".")
    settings = doc["settings"]
    assert isinstance(settings, dict)
    return settings[section][name]


def origin(doc: dict[str, object], key: str) -> object:
    origins = doc["origins"]
    assert isinstance(origins, dict)
    return origins[key]


def test_defaults() -> None:
    doc = config_json()
    assert value(doc, "produce.interval") == 1.0
    assert value(doc, "produce.format") == "text"
    assert origin(doc, "produce.interval") == "default"
    assert len(value(doc, "vocabulary.states")) == 14  # type: ignore[arg-type]


def test_toml_file_in_working_directory(isolated_env: Path) -> None:
    (isolated_env / "buzzline.toml").write_text("[produce]\ninterval = 0.25\n")
    doc = config_json()
    assert value(doc, "produce.interval") == 0.25
    assert origin(doc, "produce.interval") == str(isolated_env / "buzzline.toml")


def test_xdg_config_file(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "buzzline").mkdir(parents=True)
    (xdg / "buzzline" / "config.toml").write_text("[produce]\ncount = 7\n")
    doc = config_json(env={"XDG_CONFIG_HOME": str(xdg)})
    assert value(doc, "produce.count") == 7


def test_home_config_file_is_the_xdg_default(tmp_path: Path) -> None:
    user = tmp_path / "home" / ".config" / "buzzline"
    user.mkdir(parents=True)
    (user / "config.toml").write_text("[produce]\ncount = 8\n")
    assert value(config_json(), "produce.count") == 8


def test_explicit_config_beats_local_file(isolated_env: Path, tmp_path: Path) -> None:
    (isolated_env / "buzzline.toml").write_text("[produce]\ncount = 1\n")
    other = tmp_path / "other.toml"
    other.write_text("[produce]\ncount = 2\n")
    assert value(config_json("--config", str(other)), "produce.count") == 2
    assert value(config_json(env={"BUZZLINE_CONFIG": str(other)}), "produce.count") == 2


def test_dotenv_beats_toml(isolated_env: Path) -> None:
    (isolated_env / "buzzline.toml").write_text("[produce]\ncount = 1\n")
    (isolated_env / ".env").write_text("BUZZLINE_PRODUCE__COUNT=3\nUNRELATED=x\n")
    doc = config_json()
    assert value(doc, "produce.count") == 3
    assert origin(doc, "produce.count") == ".env: BUZZLINE_PRODUCE__COUNT"


def test_env_beats_dotenv(isolated_env: Path) -> None:
    (isolated_env / ".env").write_text("BUZZLINE_PRODUCE__INTERVAL=2\n")
    doc = config_json(env={"BUZZLINE_PRODUCE__INTERVAL": "0.5"})
    assert value(doc, "produce.interval") == 0.5
    assert origin(doc, "produce.interval") == "BUZZLINE_PRODUCE__INTERVAL"


def test_flag_beats_env() -> None:
    result = runner.invoke(
        app, ["produce", "--count", "2", "--interval", "0"], env={"BUZZLINE_PRODUCE__COUNT": "5"}
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_unset_flag_does_not_hide_env() -> None:
    result = runner.invoke(
        app, ["produce", "--interval", "0"], env={"BUZZLINE_PRODUCE__COUNT": "3"}
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3


def test_lists_from_env_as_commas_or_json() -> None:
    loaded = load_settings(
        environ={
            "BUZZLINE_CONSUME__KEYWORDS": "Colorado, hiking",
            "BUZZLINE_VOCABULARY__STATES": '["Utah", "Idaho"]',
        }
    )
    assert loaded.settings.consume.keywords == ["Colorado", "hiking"]
    assert loaded.settings.vocabulary.states == ["Utah", "Idaho"]


def test_course_aliases() -> None:
    loaded = load_settings(environ={"KAFKA_BROKER_ADDRESS": "broker:9092", "KAFKA_TOPIC": "t"})
    assert loaded.settings.kafka.bootstrap == "broker:9092"
    assert loaded.origins["kafka.topic"] == "KAFKA_TOPIC"
    ours = load_settings(environ={"KAFKA_TOPIC": "t", "BUZZLINE_KAFKA__TOPIC": "mine"})
    assert ours.settings.kafka.topic == "mine"


def test_config_toml_shows_origins(isolated_env: Path) -> None:
    (isolated_env / "buzzline.toml").write_text(
        '[consume]\n[[consume.rules]]\nname = "colorado"\nall = ["Colorado"]\n'
        'any = ["hiking", "flyfishing"]\nstyle = "red"\n'
    )
    result = runner.invoke(app, ["config"], env={"BUZZLINE_PRODUCE__SEED": "4"})
    assert result.exit_code == 0, result.output
    assert "seed = 4  # BUZZLINE_PRODUCE__SEED" in result.stdout
    assert "interval = 1.0  # default" in result.stdout
    assert "[[consume.rules]]" in result.stdout
    assert 'name = "colorado"' in result.stdout


@pytest.mark.parametrize(
    ("env", "toml", "expected"),
    [
        (
            {"BUZZLINE_PRODUCE__INTERVAL": "soon"},
            None,
            "produce.interval = 'soon' (from BUZZLINE_PRODUCE__INTERVAL)",
        ),
        (
            {"BUZZLINE_PRODUCE__COUNT": "-1"},
            None,
            "produce.count = '-1' (from BUZZLINE_PRODUCE__COUNT)",
        ),
        ({}, "[produce]\ninterval = -2\n", "produce.interval = -2 (from "),
        ({}, "[produce]\nspeed = 3\n", "produce.speed (from "),
        ({}, "[nope]\nx = 1\n", "unknown section [nope]"),
        ({}, "[produce\n", "malformed TOML"),
        ({}, '[produce]\ntemplate = "In {city}"\n', "unknown placeholder {city}"),
        ({}, "[vocabulary]\nstates = []\n", "vocabulary.states"),
        ({}, '[[consume.rules]]\nname = "x"\n', "needs `any` or `all`"),
        (
            {},
            '[[consume.rules]]\nname = "x"\nany = ["a"]\nstyle = "notacolour"\n',
            "not a Rich style",
        ),
    ],
)
def test_bad_values_give_one_line_and_exit_2(
    isolated_env: Path, env: dict[str, str], toml: str | None, expected: str
) -> None:
    if toml is not None:
        (isolated_env / "buzzline.toml").write_text(toml)
    result = runner.invoke(app, ["config"], env=env)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_bad_flag_value_names_the_flag() -> None:
    result = runner.invoke(app, ["produce", "--format", "xml"])
    assert result.exit_code == 2
    assert "produce.format = 'xml' (from flag)" in result.stderr


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "missing.toml"), "config"])
    assert result.exit_code == 2
    assert "config file not found" in result.stderr
    result = runner.invoke(app, ["config"], env={"BUZZLINE_CONFIG": str(tmp_path / "gone.toml")})
    assert result.exit_code == 2
    assert "BUZZLINE_CONFIG" in result.stderr


def test_load_settings_raises_config_error() -> None:
    with pytest.raises(ConfigError, match=r"produce\.count"):
        load_settings({"produce": {"count": -5}})

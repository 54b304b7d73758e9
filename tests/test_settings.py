"""Settings: defaults, environment variables, flags winning, and bad values named."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kgraph.errors import SettingsError
from kgraph.settings import DEFAULT_CORPUS, OPTIONS, Settings


def test_defaults() -> None:
    settings = Settings.resolve({}, {})
    assert settings == Settings()
    assert (settings.corpus, settings.host, settings.port) == (DEFAULT_CORPUS, "127.0.0.1", 8000)
    assert (settings.watch, settings.ide, settings.introspection, settings.cors_origins) == (
        False,
        True,
        True,
        (),
    )


def test_every_option_from_its_variable(tmp_path: Path) -> None:
    environ = {
        "KGRAPH_CORPUS": str(tmp_path),
        "KGRAPH_HOST": "0.0.0.0",
        "KGRAPH_PORT": "9001",
        "KGRAPH_WATCH": "true",
        "KGRAPH_WATCH_SETTLE_MS": "50",
        "KGRAPH_RELOAD_TIMEOUT": "30",
        "KGRAPH_MAX_STALENESS": "90.5",
        "KGRAPH_IDE": "off",
        "KGRAPH_INTROSPECTION": "no",
        "KGRAPH_PRODUCTION": "0",
        "KGRAPH_CORS_ORIGINS": "https://a.example, http://b.example/",
        "KGRAPH_LIMIT_CONCURRENCY": "10",
        "KGRAPH_REQUEST_TIMEOUT": "2.5",
        "KGRAPH_CLIENT_CONNECTIONS": "7",
        "KGRAPH_CLIENT_SUBSCRIPTIONS": "3",
        "KGRAPH_HEADER_TIMEOUT": "0.5",
        "KGRAPH_CACHE": "false",
        "KGRAPH_CACHE_DIR": str(tmp_path / "cache"),
        "KGRAPH_WORKERS": "2",
        "KGRAPH_PROCESSES": "3",
        "KGRAPH_LOG_FORMAT": "JSON",
    }
    assert {option.variable for option in OPTIONS} == set(environ)
    settings = Settings.resolve({}, environ)
    assert settings == Settings(
        corpus=tmp_path,
        host="0.0.0.0",
        port=9001,
        watch=True,
        watch_settle_ms=50,
        reload_timeout=30.0,
        max_staleness=90.5,
        ide=False,
        introspection=False,
        cors_origins=("https://a.example", "http://b.example"),
        limit_concurrency=10,
        request_timeout=2.5,
        client_connections=7,
        client_subscriptions=3,
        header_timeout=0.5,
        cache=False,
        cache_dir=tmp_path / "cache",
        workers=2,
        processes=3,
        log_format="json",
    )


def test_flags_win_over_variables() -> None:
    environ = {"KGRAPH_PORT": "9001", "KGRAPH_WATCH": "true", "KGRAPH_HOST": "0.0.0.0"}
    settings = Settings.resolve({"port": 9002, "watch": False, "host": None}, environ)
    assert (settings.port, settings.watch, settings.host) == (9002, False, "0.0.0.0")


def test_production_turns_off_the_ide_and_introspection() -> None:
    settings = Settings.resolve({"ide": True}, {"KGRAPH_PRODUCTION": "yes"})
    assert (settings.ide, settings.introspection, settings.production) == (False, False, True)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KGRAPH_PORT", "80a", "KGRAPH_PORT: not a port number (0-65535): '80a'"),
        ("KGRAPH_PORT", "70000", "KGRAPH_PORT: not a port number"),
        ("KGRAPH_WATCH", "maybe", "KGRAPH_WATCH: not true or false"),
        ("KGRAPH_CORS_ORIGINS", "a.example", "KGRAPH_CORS_ORIGINS: an origin is '*' or starts"),
        ("KGRAPH_LIMIT_CONCURRENCY", "0", "KGRAPH_LIMIT_CONCURRENCY: not a whole number"),
        ("KGRAPH_LOG_FORMAT", "xml", "KGRAPH_LOG_FORMAT: choose text or json"),
        ("KGRAPH_REQUEST_TIMEOUT", "0", "KGRAPH_REQUEST_TIMEOUT: not a number of seconds above 0"),
        ("KGRAPH_HEADER_TIMEOUT", "inf", "KGRAPH_HEADER_TIMEOUT: not a number of seconds above 0"),
        ("KGRAPH_RELOAD_TIMEOUT", "-1", "KGRAPH_RELOAD_TIMEOUT: not a number of seconds above 0"),
        ("KGRAPH_MAX_STALENESS", "soon", "KGRAPH_MAX_STALENESS: not a number of seconds above 0"),
        ("KGRAPH_CORPUS", " ", "KGRAPH_CORPUS: an empty path"),
    ],
)
def test_a_bad_variable_is_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match="^" + re.escape(message)):
        Settings.resolve({}, {variable: value})


def _serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kgraph", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_bad_values_are_one_line_errors_and_exit_2() -> None:
    from_env = _serve(env={"KGRAPH_PORT": "eighty"})
    assert from_env.returncode == 2
    assert from_env.stderr == "kgraph: error: KGRAPH_PORT: not a port number (0-65535): 'eighty'\n"
    from_flag = _serve("--port", "eighty", env={})
    assert from_flag.returncode == 2
    assert from_flag.stderr.splitlines() == [
        "kgraph: error: argument --port: not a port number (0-65535): 'eighty' "
        "(see `kgraph serve --help`)"
    ]


def test_help_documents_every_variable() -> None:
    text = _serve("--help", env={}).stdout
    for option in OPTIONS:
        assert option.flag in text
        assert option.variable in text

"""Settings of a kgraph server, in one place: defaults, environment variables, flags.

Every option of ``kgraph serve`` has a flag and an environment variable
(``KGRAPH_`` and its name in capitals); a flag given wins over its variable,
a variable over the default. A bad value is a :class:`~kgraph.errors.SettingsError`
naming the setting, which the command line prints as one line.

>>> settings = Settings.resolve({"port": 9000}, {"KGRAPH_PORT": "8001", "KGRAPH_WATCH": "yes"})
>>> settings.port, settings.watch
(9000, True)
>>> Settings.resolve({}, {"KGRAPH_PORT": "eighty"})
Traceback (most recent call last):
...
kgraph.errors.SettingsError: KGRAPH_PORT: not a port number (0-65535): 'eighty'
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kgraph.errors import SettingsError

__all__ = [
    "DEFAULT_CORPUS",
    "OPTIONS",
    "Option",
    "Settings",
    "cores",
    "corpus_folder",
    "setting",
]

_PACKAGE = Path(__file__).resolve().parent

#: The bundled demo corpus: installed, package data (``kgraph/seeds``, built from
#: the checkout's ``seeds/``, see pyproject.toml); in a checkout (or an editable
#: install, which setuptools cannot map a data folder into), ``seeds/`` beside the package.
DEFAULT_CORPUS = next(
    (folder for folder in (_PACKAGE / "seeds", _PACKAGE.parent / "seeds") if folder.is_dir()),
    _PACKAGE / "seeds",
)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not true or false (1/0, true/false, yes/no, on/off): {text!r}")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"not a port number (0-65535): {text!r}")
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"not a whole number of at least 1: {text!r}")
    return number


def _seconds(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = 0.0
    if not 0 < number < math.inf:
        raise ValueError(f"not a number of seconds above 0: {text!r}")
    return number


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in text.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(f"an origin is '*' or starts with http:// or https://: {origin!r}")
    return origins


def _log_format(text: str) -> str:
    value = text.strip().lower()
    if value not in ("text", "json"):
        raise ValueError(f"choose text or json, not {text!r}")
    return value


def _path(text: str) -> Path:
    if not text.strip():
        raise ValueError("an empty path")
    return Path(text)


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its field, how a string becomes its value, what it does."""

    name: str
    parse: Callable[[str], Any]
    help: str
    metavar: str | None = None  # None: an on/off switch

    @property
    def variable(self) -> str:
        """Its environment variable."""
        return "KGRAPH_" + self.name.upper()

    @property
    def flag(self) -> str:
        """Its command-line flag."""
        return "--" + self.name.replace("_", "-")


#: Every option of ``kgraph serve``, in ``--help`` order.
OPTIONS: tuple[Option, ...] = (
    Option("corpus", _path, "folder of Markdown articles (default: the bundled seeds/)", "DIR"),
    Option("host", str, "address to listen on (default: 127.0.0.1)", "HOST"),
    Option("port", _port, "port to listen on (default: 8000)", "PORT"),
    Option("watch", _flag, "follow the corpus folder and reload the graph when files change"),
    Option(
        "watch_settle_ms",
        _positive,
        "with --watch: reload once files have been quiet this long (default: 300)",
        "MS",
    ),
    Option(
        "reload_timeout",
        _seconds,
        "seconds a reload may take; then it is abandoned and reported, the older graph"
        " serving on (default: 300)",
        "S",
    ),
    Option(
        "max_staleness",
        _seconds,
        "seconds changes to the corpus may go unserved (reloads abandoned or not"
        " coming) before /readyz answers 503 (default: 900)",
        "S",
    ),
    Option("ide", _flag, "serve GraphiQL to browsers opening /graphql (default: on)"),
    Option("introspection", _flag, "answer GraphQL introspection queries (default: on)"),
    Option(
        "production",
        _flag,
        "production defaults: no GraphiQL and no introspection, whatever --ide and "
        "--introspection say",
    ),
    Option(
        "cors_origins",
        _origins,
        "comma-separated origins allowed to call the API from a browser (default: none, "
        "CORS off); * for any",
        "ORIGINS",
    ),
    Option(
        "limit_concurrency",
        _positive,
        "requests served at once; beyond, 503 (/healthz and /readyz always answer; default: 256)",
        "N",
    ),
    Option(
        "request_timeout",
        _seconds,
        "seconds a request's parsing, validation and execution may take; then it is"
        " cancelled (default: 5)",
        "S",
    ),
    Option(
        "client_connections",
        _positive,
        "open connections one client address may hold; beyond, new ones are closed"
        " (default: 128; raise it behind a proxy that connects for every client)",
        "N",
    ),
    Option(
        "client_subscriptions",
        _positive,
        "open websockets one client address may hold (default: 32)",
        "N",
    ),
    Option(
        "header_timeout",
        _seconds,
        "seconds a client has to send a request's headers (and a connection may stay"
        " silent before its first request; default: 10)",
        "S",
    ),
    Option("cache", _flag, "warm start from a snapshot of the graph (default: on)"),
    Option(
        "cache_dir",
        _path,
        "folder of graph snapshots (default: $XDG_CACHE_HOME/kgraph, else ~/.cache/kgraph)",
        "DIR",
    ),
    Option(
        "workers",
        _positive,
        "processes reading the corpus (default: one per CPU for large corpora)",
        "N",
    ),
    Option(
        "processes",
        _positive,
        "serving processes, forked once the graph is loaded and sharing it; reloads"
        " replace them all (default: one per CPU core; 1: a single process, no master)",
        "N",
    ),
    Option("log_format", _log_format, "text or json: one line per request (default: text)", "FMT"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """How to serve: which corpus, where to listen, what to allow."""

    corpus: Path = DEFAULT_CORPUS
    host: str = "127.0.0.1"
    port: int = 8000
    watch: bool = False
    watch_settle_ms: int = 300
    # A cold reload of 200,000 articles takes about a minute here (53.7 s ± 21 to
    # ready at start): five times that before a reload counts as stuck.
    reload_timeout: float = 300.0
    # Longer than a reload may take, with its settling: only changes that reloads
    # keep failing to serve (abandoned, or none coming) make the server unready.
    max_staleness: float = 900.0
    ide: bool = True  # GraphiQL when a browser opens /graphql
    introspection: bool = True
    production: bool = False
    cors_origins: tuple[str, ...] = ()
    limit_concurrency: int = 256
    request_timeout: float = 5.0
    client_connections: int = 128
    client_subscriptions: int = 32
    header_timeout: float = 10.0
    cache: bool = True  # warm start from a snapshot of the graph while the corpus is unchanged
    cache_dir: Path | None = (
        None  # None: $KGRAPH_CACHE_DIR, $XDG_CACHE_HOME/kgraph, ~/.cache/kgraph
    )
    workers: int | None = None  # processes reading the corpus; None: one per CPU
    processes: int = field(default_factory=lambda: cores())  # serving processes
    log_format: str = "text"

    def __post_init__(self) -> None:
        if self.production:
            object.__setattr__(self, "ide", False)
            object.__setattr__(self, "introspection", False)

    @classmethod
    def resolve(cls, flags: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
        """Settings from flags given (``None`` or absent: not given), then variables, then defaults.

        Raises
        ------
        SettingsError
            When a variable's value cannot be read, naming the variable.
        """
        values: dict[str, Any] = {}
        for option in OPTIONS:
            given = flags.get(option.name)
            if given is not None:
                values[option.name] = given
            elif (text := environ.get(option.variable)) is not None:
                try:
                    values[option.name] = option.parse(text)
                except ValueError as err:
                    raise SettingsError(f"{option.variable}: {err}") from None
        return replace(cls(), **values)

    def as_dict(self) -> dict[str, object]:
        """The settings as plain values (paths as strings), for logs and ``stats``."""
        return {
            item.name: str(value) if isinstance(value := getattr(self, item.name), Path) else value
            for item in fields(self)
        }


def cores() -> int:
    """The CPU cores this process may run on (its affinity: a container's cpuset counts)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def corpus_folder(given: Path | None, environ: Mapping[str, str]) -> Path:
    """The corpus a command reads: the folder given, else ``KGRAPH_CORPUS``, else the seeds.

    >>> corpus_folder(None, {"KGRAPH_CORPUS": "/srv/articles"}).as_posix()
    '/srv/articles'
    >>> corpus_folder(Path("content"), {"KGRAPH_CORPUS": "/srv/articles"}).as_posix()
    'content'
    >>> corpus_folder(None, {}) == DEFAULT_CORPUS
    True
    """
    folder: Path = setting("corpus", given, environ)
    return folder


def setting(name: str, given: Any, environ: Mapping[str, str]) -> Any:
    """One setting, for a command that needs no other: the value given (not ``None``),
    else its variable, else its default; the order of :meth:`Settings.resolve`.

    >>> setting("cache", None, {"KGRAPH_CACHE": "off"}), setting("cache", None, {})
    (False, True)

    Raises
    ------
    SettingsError
        When its variable's value cannot be read, naming the variable.
    """
    if given is not None:
        return given
    (option,) = (option for option in OPTIONS if option.name == name)
    text = environ.get(option.variable)
    if text is None:
        return getattr(Settings(), name)
    try:
        return option.parse(text)
    except ValueError as err:
        raise SettingsError(f"{option.variable}: {err}") from None

"""The Docker deployment, checked statically: no Docker engine runs on our machines.

``docker-compose.yml``, the ``Dockerfile``, ``.dockerignore`` and ``deploy/nginx.conf``
are parsed and checked against the repository and against kgraph itself: every
service, port, healthcheck and mount; every command is a real ``kgraph`` subcommand
with options and ``KGRAPH_*`` variables that ``kgraph serve --help`` documents;
every path named exists. The healthcheck one-liner is run against a stub server.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import pytest
import yaml

from conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
NGINX_CONF = REPO / "deploy" / "nginx.conf"

#: The port kgraph listens on inside its container.
PORT = 8000
CORPUS = "/corpus"

TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets", "include"}
DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:us|ms|s|m|h))+")
PORT_MAPPING = re.compile(
    r"(?:(?P<ip>[0-9.]+|\[[0-9a-f:]+\]):)?(?P<host>\d+):(?P<container>\d+)(?:/(?:tcp|udp))?"
)
VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z_]\w*))")
BRACED = re.compile(r"(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<rest>.*))?", re.DOTALL)


# --- docker-compose.yml -------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose().get("services")
    assert isinstance(found, dict), "docker-compose.yml has no services mapping"
    return found


def service(name: str) -> dict[str, Any]:
    assert name in services(), f"docker-compose.yml has no service {name!r}"
    return services()[name]


def interpolate(text: str) -> str:
    """``text`` as Compose reads it with none of its variables set (every default taken)."""

    def value(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["bare"]:
            return ""
        braced = BRACED.fullmatch(match["braced"])
        assert braced, f"not a Compose variable: {match[0]!r}"
        op, rest = braced["op"], braced["rest"]
        assert op is None or "?" not in op, f"{match[0]} makes `docker compose up` fail unset"
        return rest if op in (":-", "-") else ""

    return VARIABLE.sub(value, text)


def strings(node: object) -> Iterator[str]:
    """Every string in a parsed YAML document, keys and values."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def our_services() -> dict[str, dict[str, Any]]:
    """The services running the image this repository builds."""
    images = {spec["image"] for spec in services().values() if "build" in spec and "image" in spec}
    return {
        name: spec
        for name, spec in services().items()
        if "build" in spec or spec.get("image") in images
    }


def environment(spec: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment (map or list form), interpolated."""
    given = spec.get("environment", {})
    if isinstance(given, list):
        pairs = [item.split("=", 1) if "=" in item else [item, ""] for item in given]
        given = dict(pairs)
    assert isinstance(given, dict)
    for key, value in given.items():
        assert isinstance(value, str), (
            f"environment {key}: quote {value!r}: Compose wants strings (true/false as 'true')"
        )
    return {key: interpolate(value) for key, value in given.items()}


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool

    @property
    def is_bind(self) -> bool:
        return self.source.startswith((".", "/", "~"))


def mounts(spec: Mapping[str, Any]) -> list[Mount]:
    found = []
    for entry in spec.get("volumes", []):
        if isinstance(entry, dict):
            source = interpolate(str(entry.get("source", "")))
            found.append(Mount(source, str(entry["target"]), bool(entry.get("read_only"))))
            continue
        parts = interpolate(entry).split(":")
        assert len(parts) in (2, 3), f"a volume is source:target[:mode], not {entry!r}"
        modes = parts[2].split(",") if len(parts) == 3 else []
        found.append(Mount(parts[0], parts[1], "ro" in modes))
    return found


def ports(spec: Mapping[str, Any]) -> list[tuple[int, int]]:
    """A service's published ports as (host, container)."""
    found = []
    for entry in spec.get("ports", []):
        assert isinstance(entry, str), f'quote ports as "host:container" strings: {entry!r}'
        match = PORT_MAPPING.fullmatch(interpolate(entry))
        assert match, f'a port is "host:container": {entry!r}'
        found.append((int(match["host"]), int(match["container"])))
    return found


def healthcheck_argv(spec: Mapping[str, Any]) -> list[str]:
    check = spec.get("healthcheck")
    assert isinstance(check, dict), "no healthcheck"
    test = check["test"]
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    assert isinstance(test, list)
    assert all(isinstance(item, str) for item in test)
    return test


def seconds(duration: str) -> float:
    assert DURATION.fullmatch(duration), f"not a duration: {duration!r}"
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(
        float(number) * units[unit]
        for number, unit in re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", duration)
    )


# --- Dockerfile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        argv = json.loads(self.args)
        assert isinstance(argv, list), f"{self.keyword} is not in exec form: {self.args}"
        assert all(isinstance(item, str) for item in argv)
        return argv


@cache
def dockerfile() -> tuple[Instruction, ...]:
    instructions: list[Instruction] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#") or (not pending and not line.strip()):
            continue  # comments (parser directives too) and blank lines
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, args = (pending + line).strip().partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return tuple(instructions)


def instructions(keyword: str) -> list[Instruction]:
    return [item for item in dockerfile() if item.keyword == keyword]


def image_environment() -> dict[str, str]:
    found: dict[str, str] = {}
    for item in instructions("ENV"):
        words = shlex.split(item.args)
        if "=" not in words[0]:  # the legacy `ENV KEY value` form
            found[words[0]] = item.args.split(None, 1)[1]
            continue
        for word in words:
            key, sep, value = word.partition("=")
            assert sep, f"ENV {item.args!r}: mix of forms"
            found[key] = value
    return found


def image_healthcheck() -> tuple[dict[str, str], list[str]]:
    """The HEALTHCHECK's options and its command (exec form)."""
    (check,) = instructions("HEALTHCHECK")
    match = re.fullmatch(r"((?:--[\w-]+=\S+\s+)*)CMD\s+(\[.*\])", check.args, re.DOTALL)
    assert match, f"HEALTHCHECK is not `[--option=value ...] CMD [exec form]`: {check.args}"
    options = dict(option[2:].split("=", 1) for option in match[1].split())
    return options, Instruction("CMD", match[2]).exec_form()


def copy_sources() -> list[str]:
    sources: list[str] = []
    for item in instructions("COPY") + instructions("ADD"):
        words = item.exec_form() if item.args.startswith("[") else shlex.split(item.args)
        if any(word.startswith("--from") for word in words):
            continue  # from another stage or image, not from the repository
        words = [word for word in words if not word.startswith("--")]
        assert len(words) >= 2, f"{item.keyword} {item.args}: sources and a destination"
        sources += words[:-1]
    return sources


@cache
def dockerignore() -> tuple[tuple[bool, re.Pattern[str]], ...]:
    """The patterns of .dockerignore, as (is an exception, regex)."""
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = str(PurePosixPath(line.lstrip("!").strip().lstrip("/")))
        regex = ""
        for token in re.findall(r"\*\*/?|\*|\?|\[[^]]*\]|[^*?[]+", pattern):
            if token.startswith("**"):
                regex += "(?:.*/)?" if token.endswith("/") else ".*"
            elif token == "*":
                regex += "[^/]*"
            elif token == "?":
                regex += "[^/]"
            elif token.startswith("["):
                regex += token
            else:
                regex += re.escape(token)
        rules.append((exception, re.compile(regex)))
    return tuple(rules)


def ignored(relative: str) -> bool:
    """Whether .dockerignore keeps ``relative`` (or a folder above it) out of the context."""
    parts = PurePosixPath(relative).parts
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    excluded = False
    for exception, regex in dockerignore():
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not exception
    return excluded


# --- kgraph itself ------------------------------------------------------------------------


@cache
def help_text(*command: str) -> str:
    """``kgraph COMMAND --help``, as one unwrapped text."""
    script = Path(sys.executable).with_name("kgraph")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "kgraph"]
    result = subprocess.run(
        [*program, *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert result.returncode == 0, f"`kgraph {' '.join(command)} --help`: {result.stderr}"
    return re.sub(r"(?<=\w-)\n\s+", "", result.stdout)  # a flag wrapped at its hyphen


def documents(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def console_scripts() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return set(project.get("scripts", {}))


def commands() -> dict[str, list[str]]:
    """Every command that runs kgraph: the image's CMD and each of our services' command."""
    found = {"Dockerfile CMD": instructions("CMD")[-1].exec_form()}
    for name, spec in our_services().items():
        if "command" in spec:
            command = spec["command"]
            assert isinstance(command, list), f"{name}: write command in exec (list) form"
            found[f"service {name}"] = [interpolate(str(word)) for word in command]
    return found


def kgraph_variables() -> dict[str, set[str]]:
    """Every KGRAPH_* variable set, and where."""
    found: dict[str, set[str]] = {}
    places = {"Dockerfile": image_environment()}
    places |= {f"service {name}": environment(spec) for name, spec in services().items()}
    for place, variables in places.items():
        for variable in variables:
            if variable.startswith("KGRAPH_"):
                found.setdefault(variable, set()).add(place)
    return found


# --- deploy/nginx.conf --------------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None
    parent: Directive | None = field(default=None, repr=False)

    def children(self, name: str) -> list[Directive]:
        return [item for item in self.block or [] if item.name == name]

    def walk(self) -> Iterator[Directive]:
        for item in self.block or []:
            yield item
            yield from item.walk()

    def effective(self, name: str) -> list[Directive]:
        """The ``name`` directives in force here: nginx inherits them from the nearest
        level that has any (a location's own proxy_set_header drop all outer ones)."""
        level: Directive | None = self
        while level is not None:
            if own := level.children(name):
                return own
            level = level.parent
        return []


TOKEN = re.compile(r"""\s+|#[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};"'#]+""")


@cache
def nginx() -> Directive:
    text = NGINX_CONF.read_text(encoding="utf-8")
    root = Directive("main", [], [])
    stack = [root]
    words: list[str] = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        assert match, f"nginx.conf: cannot read {text[position : position + 20]!r}"
        position = match.end()
        token = match[0]
        if token.isspace() or token.startswith("#"):
            continue
        if token in ("{", ";"):
            assert words, f"nginx.conf: a stray {token!r}"
            item = Directive(words[0], words[1:], [] if token == "{" else None, stack[-1])
            assert stack[-1].block is not None
            stack[-1].block.append(item)
            if token == "{":
                stack.append(item)
            words = []
        elif token == "}":
            assert not words, f"nginx.conf: {' '.join(words)} lacks its ';'"
            assert len(stack) > 1, "nginx.conf: a stray '}'"
            stack.pop()
        else:
            words.append(token[1:-1] if token[0] in "'\"" else token)
    assert not words, f"nginx.conf ends inside a directive: {' '.join(words)}"
    assert len(stack) == 1, "nginx.conf: an unclosed block"
    return root


def upstreams() -> dict[str, Directive]:
    return {item.args[0]: item for item in nginx().walk() if item.name == "upstream"}


def route(uri: str) -> Directive:
    """The location nginx picks for ``uri`` (exact, else the longest prefix)."""
    locations = [item for item in nginx().walk() if item.name == "location"]
    for item in locations:
        if item.args[:2] == ["=", uri]:
            return item
    prefixes = [
        item
        for item in locations
        if item.args[0] in ("^~", item.args[-1]) and uri.startswith(item.args[-1])
    ]
    assert prefixes, f"nginx.conf: no location serves {uri}"
    return max(prefixes, key=lambda item: len(item.args[-1]))


def proxied_upstream(location: Directive) -> str | None:
    """The upstream a location passes requests to, if it does."""
    for item in location.children("proxy_pass"):
        match = re.fullmatch(r"https?://([^/:$]+)(/.*)?", item.args[0])
        if match and match[1] in upstreams():
            return match[1]
    return None


def size(text: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", text)
    assert match, f"not an nginx size: {text!r}"
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match[2].lower()]


def nginx_seconds(text: str) -> float:
    return seconds(text if not text.isdigit() else f"{text}s")


# --- a stub standing in for kgraph, for the healthcheck one-liner ---------------------------


class _Stub(BaseHTTPRequestHandler):
    status: ClassVar[int] = 200
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def stub_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_check(argv: list[str], port: int) -> int:
    """Run a healthcheck command as the container would, with KGRAPH_PORT set."""
    assert argv[0] == "python", f"the healthcheck runs the image's python: {argv}"
    result = subprocess.run(
        [sys.executable, *argv[1:]],
        capture_output=True,
        timeout=30,
        check=False,
        env={**os.environ, "KGRAPH_PORT": str(port)},
    )
    return result.returncode


def python_healthchecks() -> dict[str, list[str]]:
    found = {"Dockerfile HEALTHCHECK": image_healthcheck()[1]}
    for name, spec in our_services().items():
        argv = healthcheck_argv(spec)
        assert argv[0] == "CMD", f"{name}: healthcheck in exec form (CMD), no shell needed"
        found[f"service {name}"] = argv[1:]
    return found


# === the compose file ======================================================================


def test_compose_file_is_a_compose_spec_file() -> None:
    data = compose()
    assert "version" not in data, "the Compose spec has no top-level `version:`"
    unknown = {key for key in data if not key.startswith("x-")} - TOP_LEVEL
    assert not unknown, f"unknown top-level keys: {unknown}"
    for name, spec in services().items():
        assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name), f"bad service name {name!r}"
        assert isinstance(spec, dict), name
        assert "build" in spec or "image" in spec, f"{name}: neither build nor image"
        assert "container_name" not in spec, f"{name}: container_name prevents scaling"


def test_the_services() -> None:
    assert {"kgraph", "replica", "nginx"} <= set(services())
    assert {"kgraph", "replica"} <= set(our_services())
    assert "nginx" not in our_services()


def test_every_variable_has_a_default() -> None:
    """`docker compose up` works with nothing set in the shell or an .env file."""
    for text in strings(compose()):
        for match in VARIABLE.finditer(text):
            if match["escaped"]:
                continue
            braced = BRACED.fullmatch(match["braced"] or "")
            assert braced, f"not a Compose variable: {match[0]}"
            assert braced["op"] in (":-", "-"), f"{match[0]} needs a default"


def test_build_context_has_the_dockerfile() -> None:
    for name, spec in our_services().items():
        if "build" not in spec:
            continue
        build = spec["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile_name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
        folder = COMPOSE.parent / interpolate(context)
        assert (folder / (dockerfile_name or "Dockerfile")).is_file(), name
        assert folder.resolve() == DOCKERFILE.parent.resolve(), f"{name}: build the repository"


def test_ports_are_host_container_strings() -> None:
    published: dict[int, str] = {}
    for name, spec in services().items():
        for host, _container in ports(spec):
            assert host not in published, f"host port {host}: {name} and {published[host]}"
            published[host] = name
    assert (8000, PORT) in ports(service("kgraph"))
    assert ports(service("replica")) == [], "replicas are reached through nginx only"
    assert [container for _, container in ports(service("nginx"))] == [80]


def started(target: str | None = None) -> set[str]:
    """The services ``docker compose up [target]`` starts, as the Compose spec says.

    Without a target: those without ``profiles``. With one: it (its profiles made
    active) and what it depends on, transitively; nothing else.
    """
    if target is None:
        chosen = {name for name, spec in services().items() if "profiles" not in spec}
    else:
        chosen = {target}
    waiting = list(chosen)
    while waiting:
        for other in service(waiting.pop()).get("depends_on", {}):
            if other not in chosen:
                chosen.add(other)
                waiting.append(other)
    return chosen


def test_profiles_do_not_overlap() -> None:
    """`docker compose up` starts kgraph alone; `up nginx`, nginx and replicas without it."""
    assert "profiles" not in service("kgraph")
    for name in ("replica", "nginx"):
        profiles = service(name).get("profiles")
        assert isinstance(profiles, list), f"{name}: profiles is a list"
        assert "scale" in profiles, name
    assert started() == {"kgraph"}
    assert started("nginx") == {"nginx", "replica"}
    # A target's dependencies must be enabled by its profiles (else Compose refuses them).
    for other in started("nginx") - {"nginx"}:
        assert set(service(other).get("profiles", [])) <= set(service("nginx")["profiles"])
    # Each way builds the image once: one of the services it starts has a build.
    for chosen in (started(), started("nginx")):
        builders = [name for name in chosen if "build" in service(name)]
        assert len(builders) == 1, (chosen, builders)
    tags = {spec.get("image") for spec in our_services().values()}
    assert tags == {"kgraph:local"}, "one image, one tag"
    header = COMPOSE.read_text(encoding="utf-8").split("\nname:")[0]
    assert "docker compose up nginx" in header
    assert "--profile scale up" not in header, "that would start the single server too"


def test_compose_config_where_docker_runs() -> None:
    """`docker compose config` accepts the file and lists the services as the model above.

    No Docker engine runs on our machines: there, the static model above is the check.
    """
    docker = shutil.which("docker")
    has_compose = (
        docker is not None
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False, timeout=30
        ).returncode
        == 0
    )
    if not has_compose:
        assert started() == {"kgraph"}
        return
    assert docker is not None
    base = [docker, "compose", "--project-directory", str(REPO), "-f", str(COMPOSE)]
    quiet = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, check=False)
    assert quiet.returncode == 0, quiet.stderr
    listed = subprocess.run(
        [*base, "--profile", "scale", "config", "--services"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(listed.stdout.split()) == set(services())


def test_start_period_is_sized_for_a_large_corpus() -> None:
    """A cold read of a large corpus takes minutes: failed checks count only after it."""
    for name in ("kgraph", "replica"):
        check = service(name)["healthcheck"]
        assert check["start_period"] == "${KGRAPH_START_PERIOD:-15m}", name
        assert seconds(interpolate(check["start_period"])) >= 600, name
        # Checked meanwhile, so a server is healthy as soon as it is ready.
        assert seconds(check["interval"]) <= 10, name
    assert "KGRAPH_START_PERIOD" in COMPOSE.read_text(encoding="utf-8").split("\nname:")[0]


def test_replicas() -> None:
    deploy = service("replica").get("deploy")
    assert isinstance(deploy, dict), "replica: deploy.replicas sets how many"
    replicas = deploy.get("replicas")
    assert isinstance(replicas, int | str), replicas
    count = replicas if isinstance(replicas, int) else interpolate(replicas)
    assert str(count).isdigit(), f"deploy.replicas: a number (or ${{VAR:-number}}): {replicas}"
    assert int(count) >= 2, "a scale profile of one replica balances nothing"


@pytest.mark.parametrize("name", ["kgraph", "replica", "nginx"])
def test_healthchecks_ask_readyz(name: str) -> None:
    spec = service(name)
    check = spec.get("healthcheck")
    assert isinstance(check, dict), f"{name}: no healthcheck"
    assert {"test", "interval", "timeout", "retries"} <= set(check), f"{name}: {sorted(check)}"
    known = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
    unknown = set(check) - known
    assert not unknown, f"{name}: unknown healthcheck keys {unknown}"
    argv = healthcheck_argv(spec)
    assert argv[0] in ("CMD", "CMD-SHELL"), f"{name}: test starts with CMD or CMD-SHELL"
    assert any("/readyz" in word for word in argv), f"{name}: the healthcheck asks /readyz"
    for key in ("interval", "timeout", "start_period"):
        if key in check:
            assert seconds(interpolate(check[key])) > 0, f"{name}: healthcheck {key}"
    assert seconds(check["timeout"]) <= seconds(check["interval"]), name
    assert isinstance(check["retries"], int), name
    assert check["retries"] >= 1, name


def test_our_services_use_the_image_healthcheck() -> None:
    """One healthcheck, the same in the image and in compose."""
    image = image_healthcheck()[1]
    for name, spec in our_services().items():
        assert healthcheck_argv(spec) == ["CMD", *image], f"{name}: not the Dockerfile's check"


def test_depends_on_waits_for_healthy_replicas() -> None:
    depends_on = service("nginx").get("depends_on")
    assert isinstance(depends_on, dict), "nginx: depends_on in long form, with a condition"
    assert depends_on.get("replica", {}).get("condition") == "service_healthy", (
        "nginx starts once replicas are ready"
    )
    for name, spec in services().items():
        for other in spec.get("depends_on", {}):
            assert other in services(), f"{name} depends on unknown service {other}"
            assert "healthcheck" in services()[other], f"{other} has no health to wait for"


def test_restart_and_graceful_stop() -> None:
    for name, spec in services().items():
        assert spec.get("restart") in ("always", "unless-stopped", "on-failure"), name
        assert seconds(spec.get("stop_grace_period", "")) >= 10, name
    for name, spec in our_services().items():
        assert spec.get("stop_signal", "SIGTERM") == "SIGTERM", name


def test_corpus_is_mounted_read_only() -> None:
    for name, spec in our_services().items():
        corpus = [mount for mount in mounts(spec) if mount.target == CORPUS]
        assert len(corpus) == 1, f"{name}: one mount on {CORPUS}"
        assert corpus[0].read_only, f"{name}: mount the corpus read-only (:ro)"
        assert corpus[0].is_bind, f"{name}: the corpus is a host folder"
        variables = {**image_environment(), **environment(spec)}
        assert variables.get("KGRAPH_CORPUS") == CORPUS, f"{name}: KGRAPH_CORPUS is the mount"
    folder = COMPOSE.parent / next(
        mount.source for mount in mounts(service("kgraph")) if mount.target == CORPUS
    )
    assert any(folder.rglob("*.md")), f"the default corpus {folder} has no articles"


def test_mounted_paths_exist() -> None:
    declared = compose().get("volumes") or {}
    for name, spec in services().items():
        for mount in mounts(spec):
            if mount.is_bind:
                assert not mount.source.startswith(("/", "~")), (
                    f"{name}: host paths relative to the repository, not {mount.source}"
                )
                assert (COMPOSE.parent / mount.source).exists(), f"{name}: {mount.source}"
            else:
                assert mount.source in declared, f"{name}: volume {mount.source} not declared"


def test_cache_is_a_named_volume() -> None:
    declared = compose().get("volumes") or {}
    for name, spec in our_services().items():
        cache_dir = environment(spec).get("KGRAPH_CACHE_DIR") or image_environment().get(
            "KGRAPH_CACHE_DIR"
        )
        assert cache_dir, f"{name}: KGRAPH_CACHE_DIR"
        (volume,) = (mount for mount in mounts(spec) if mount.target == cache_dir)
        assert volume.source in declared, f"{name}: {volume.source} is not a named volume"
        assert not volume.read_only, f"{name}: the cache is written"


def test_nginx_service() -> None:
    spec = service("nginx")
    image = spec.get("image", "")
    match = re.fullmatch(r"nginx:(\d+)\.(\d+)(?:\.(\d+))?(?:-[\w.-]+)?", image)
    assert match, f"nginx: a pinned nginx image, not {image!r}"
    conf = [mount for mount in mounts(spec) if mount.source.endswith("deploy/nginx.conf")]
    assert len(conf) == 1, "nginx: mounts ./deploy/nginx.conf"
    assert conf[0].read_only, "nginx: the configuration is mounted read-only"
    assert conf[0].target == "/etc/nginx/nginx.conf", "deploy/nginx.conf is a whole nginx.conf"
    if any(
        "resolve" in server.args
        for upstream in upstreams().values()
        for server in upstream.children("server")
    ):
        version = tuple(int(part or 0) for part in match.groups())
        assert version >= (1, 27, 3), "upstream `resolve` is in open-source nginx from 1.27.3"


# === the commands and settings: what kgraph documents ========================================


def test_commands_are_kgraph_subcommands_with_documented_options() -> None:
    assert "kgraph" in console_scripts()
    for place, argv in commands().items():
        assert argv[0] in console_scripts(), f"{place}: {argv[0]} is not a kgraph script"
        assert len(argv) >= 2, f"{place}: name the subcommand"
        assert not argv[1].startswith("-"), f"{place}: name the subcommand"
        text = help_text(argv[1])  # fails unless a real subcommand
        for word in argv[2:]:
            if word.startswith("--"):
                option = word.split("=", 1)[0]
                assert documents(text, option), f"{place}: `kgraph {argv[1]}` has no {option}"


def test_kgraph_variables_are_documented_by_serve_help() -> None:
    text = help_text("serve")
    variables = kgraph_variables()
    assert {"KGRAPH_HOST", "KGRAPH_PORT", "KGRAPH_CORPUS", "KGRAPH_CACHE_DIR"} <= set(variables)
    undocumented = {
        variable: sorted(places)
        for variable, places in variables.items()
        if not documents(text, variable)
    }
    assert not undocumented, f"not in `kgraph serve --help`: {undocumented}"


def test_kgraph_service_watches_the_corpus() -> None:
    from kgraph.settings import Settings

    for name, spec in our_services().items():
        flags = {"watch": True} if "--watch" in spec.get("command", []) else {}
        variables = {**image_environment(), **environment(spec)}
        assert Settings.resolve(flags, variables).watch, f"{name}: serve with --watch"


def test_settings_are_valid_values() -> None:
    """What each container gets (image ENV, then compose environment) is read by kgraph."""
    from kgraph.settings import Settings

    image = Settings.resolve({}, image_environment())
    assert image.host == "0.0.0.0", "listen on every interface, or the port is unreachable"
    assert image.port == PORT
    assert str(image.corpus) == CORPUS
    for name, spec in our_services().items():
        settings = Settings.resolve({}, {**image_environment(), **environment(spec)})
        assert settings.port == PORT, name
        assert str(settings.corpus) == CORPUS, name


# === the Dockerfile ========================================================================


def test_dockerfile_base_user_port_signal() -> None:
    base = instructions("FROM")[-1].args.split()[0]  # the final stage
    pattern = r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?"
    assert re.fullmatch(pattern, base), f"FROM python:3.11-slim, not {base}"
    users = instructions("USER")
    assert users, "the Dockerfile sets a USER"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), "the server runs as a non-root user"
    if not user.isdigit():
        created = " ".join(item.args for item in instructions("RUN"))
        assert re.search(rf"\b(useradd|adduser)\b.*\b{re.escape(user)}\b", created), user
    assert [item.args for item in instructions("EXPOSE")] == [str(PORT)]
    assert image_environment().get("KGRAPH_PORT") == str(PORT)
    assert [item.args for item in instructions("STOPSIGNAL")] in ([], ["SIGTERM"])
    for keyword in ("CMD", "ENTRYPOINT"):
        for item in instructions(keyword):
            item.exec_form()  # exec form: kgraph is PID 1 and gets SIGTERM itself
    assert not instructions("ENTRYPOINT"), "compose's command replaces CMD whole"


def test_dockerfile_healthcheck_asks_readyz() -> None:
    options, argv = image_healthcheck()
    assert any("/readyz" in word for word in argv), "HEALTHCHECK asks /readyz"
    assert set(options) <= {"interval", "timeout", "start-period", "start-interval", "retries"}
    for key in ("interval", "timeout", "start-period"):
        assert seconds(options[key]) > 0, key
    assert int(options["retries"]) >= 1


def test_dockerfile_copies_what_exists() -> None:
    sources = copy_sources()
    for source in sources:
        relative = os.path.normpath(source)
        assert not relative.startswith(("..", "/")), f"COPY {source}: outside the context"
        path = REPO / relative
        assert path.exists(), f"COPY {source}: not in the repository"
        assert not ignored(relative), f"COPY {source}: excluded by .dockerignore"
        if path.is_dir():
            for item in path.rglob("*"):
                if item.is_file() and "__pycache__" not in item.parts:
                    below = item.relative_to(REPO).as_posix()
                    assert not ignored(below), f"{below}: excluded by .dockerignore"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    copied = {str(PurePosixPath(source)) for source in sources}
    # The package build reads the readme, the license files and seeds/ (the package's demo corpus).
    assert {"pyproject.toml", project["readme"], *project["license-files"], "kgraph", "seeds"} <= (
        copied
    ), copied
    assert any("pip install" in item.args for item in instructions("RUN"))


def test_dockerignore_keeps_out_the_heavy_and_the_private() -> None:
    for path in (".venv/bin/python", ".git/HEAD", "corpus.tar.xz", "benchmarks/.work/x"):
        assert ignored(path), f".dockerignore lets {path} into the build context"
    assert not ignored("kgraph/cli.py")


@pytest.mark.parametrize("place", ["Dockerfile HEALTHCHECK", "service kgraph", "service replica"])
def test_healthcheck_one_liner_passes_only_when_ready(place: str) -> None:
    argv = python_healthchecks()[place]
    with stub_server() as port:
        _Stub.paths.clear()
        _Stub.status = 200
        assert run_check(argv, port) == 0, "healthy when /readyz says 200"
        assert _Stub.paths == ["/readyz"], "the healthcheck follows KGRAPH_PORT to /readyz"
        _Stub.status = 503
        assert run_check(argv, port) == 1, "unhealthy (exit 1) while /readyz says 503"
    assert run_check(argv, free_port()) == 1, "unhealthy when nothing listens"


# === deploy/nginx.conf =======================================================================


def test_nginx_balances_over_the_replicas() -> None:
    (name, upstream), *others = upstreams().items()
    assert not others, "one upstream group"
    assert not {"ip_hash", "hash", "least_conn", "random"} & {
        item.name for item in upstream.block or []
    }, "round-robin: nginx's default balancing"
    (server,) = upstream.children("server")
    assert server.args[0] == f"replica:{PORT}", "the upstream is the replica service"
    assert "replica" in services()
    options = dict(arg.split("=", 1) for arg in server.args[1:] if "=" in arg)
    assert int(options.get("max_fails", "1")) >= 1
    assert "fail_timeout" in options, "how long a failed replica is left out"
    if "resolve" in server.args:
        assert upstream.children("zone"), "`resolve` needs a shared zone"
        resolvers = upstream.effective("resolver")
        assert resolvers, "`resolve` needs a resolver"
        assert resolvers[0].args[0] == "127.0.0.11", "Docker's DNS resolves replica"
    assert proxied_upstream(route("/graphql")) == name


def test_nginx_retries_graphql_safely() -> None:
    location = route("/graphql")
    (retry,) = location.effective("proxy_next_upstream")
    assert {"error", "timeout", "http_502", "http_503", "http_504"} <= set(retry.args)
    if "non_idempotent" in retry.args:
        from kgraph.api import create_schema

        assert "type Mutation" not in str(create_schema()), (
            "retrying POST /graphql (non_idempotent) is only safe while no operation writes"
        )


def test_nginx_passes_websocket_upgrades() -> None:
    maps = {item.args[1]: item for item in nginx().walk() if item.name == "map"}
    graphql = route("/graphql")
    rewrites = [item.args[1] for item in graphql.walk() if item.name == "rewrite"]
    candidates = [graphql, *(route(target) for target in rewrites)]
    for location in candidates[1:]:
        assert any(
            item.args[1:] == ["/graphql", "break"] for item in location.children("rewrite")
        ) or any(item.args[0].endswith("/graphql") for item in location.children("proxy_pass")), (
            f"{location.args}: the replicas get the upgrade on /graphql"
        )
    for location in candidates:
        if proxied_upstream(location) is None:
            continue
        (version,) = location.effective("proxy_http_version")
        assert version.args == ["1.1"], "websockets need HTTP/1.1 to the upstream"
        headers = {
            item.args[0].lower(): item.args[1] for item in location.effective("proxy_set_header")
        }
        assert headers.get("upgrade") == "$http_upgrade", f"{location.args}: Upgrade header"
        connection = headers.get("connection", "")
        if connection.startswith("$"):
            assert connection in maps, f"{connection} is not mapped"
            assert maps[connection].args[0] == "$http_upgrade"
        else:
            assert connection.lower() == "upgrade", f"{location.args}: Connection header"
    timeouts = [
        nginx_seconds(location.effective("proxy_read_timeout")[0].args[0])
        for location in candidates
        if proxied_upstream(location) and location.effective("proxy_read_timeout")
    ]
    assert timeouts, "no read timeout set for subscriptions"
    assert max(timeouts) >= 300, "subscriptions are quiet: a long read timeout"


def test_nginx_readyz_body_size_and_access_log() -> None:
    from kgraph.middleware.guard import MAX_BODY_BYTES

    assert proxied_upstream(route("/readyz")), "/readyz is passed through to the replicas"
    (server,) = [item for item in nginx().walk() if item.name == "server" and item.block]
    (limit,) = route("/graphql").effective("client_max_body_size")
    assert size(limit.args[0]) == MAX_BODY_BYTES, "nginx and kgraph refuse the same bodies"
    logs = server.effective("access_log")
    assert logs, "an access log"
    assert logs[0].args[0] != "off", "an access log"

"""Fuzzing a real ``kgraph serve`` over HTTP: whatever a client sends, no 5xx and no leak.

One server on the seed corpus gets, over one keep-alive connection:

* 2,000 queries that hypothesis-graphql builds from the schema the server
  reports by introspection: 1,000 valid ones, 1,000 with one schema violation each;
* a table of known hostile requests, then hypothesis-made ones: malformed and
  wrongly shaped JSON, variables of the wrong types, huge numbers, deep nesting
  of selections, argument values and JSON, unicode (lone surrogates, RTL,
  emoji), path traversal in every string argument, random GET query strings
  and paths, wrong content types and methods.

No answer may be a 5xx; every 4xx is JSON of errors, and every error, of
any answer, has its ``extensions.code``. Neither an answer's body nor the strings of its JSON may
show a traceback, a path of the server's files (the checkout, the venv, the
standard library), ``/etc/passwd`` (``root:``) or a masked "Internal server
error" (an exception nobody planned for). A marker the request itself holds
does not count: error messages may quote what was sent. At the end the server
still answers ``/healthz`` and ``/readyz``, runs, and has printed no traceback.

The corpus is given relative (``seeds``, the server running in the checkout),
so that ``stats { corpus }``, which echoes ``--corpus``, names no server path.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import re
import sys
import sysconfig
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import hypothesis_graphql
import pytest
from graphql import build_client_schema, get_introspection_query, print_schema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import REPO, RunningServer, kgraph_server

# --- what no answer may show ---------------------------------------------------------


def _server_paths() -> tuple[str, ...]:
    """Folders of the server's files: the checkout and its parent, the venv, the stdlib."""
    paths = {str(REPO), sys.prefix, sysconfig.get_paths()["stdlib"]}
    if REPO.parent != Path(REPO.anchor):
        paths.add(f"{REPO.parent}{os.sep}")  # /work/ here
    return tuple(sorted(paths))


LEAKS = ("Traceback", 'File "', '.py"', "site-packages", "root:", *_server_paths())
#: What the server answers for an exception it did not plan for (MaskErrors).
MASKED = "Internal server error"
JSON = {"content-type": "application/json"}


def _strings(value: Any) -> Iterator[str]:
    """Every string of a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def uncoded(response: httpx.Response, body: Any) -> list[str]:
    """A 4xx whose body is not JSON errors, or an error without ``extensions.code``."""
    if response.request.method == "HEAD":
        return []  # no body
    errors = body.get("errors") if isinstance(body, dict) else None
    if 400 <= response.status_code < 500 and not (errors and isinstance(errors, list)):
        return [f"a {response.status_code} that is not JSON with errors"]
    if isinstance(errors, list) and not all(
        isinstance(error, dict)
        and isinstance(error.get("extensions"), dict)
        and isinstance(error["extensions"].get("code"), str)
        for error in errors
    ):
        return ["an error without extensions.code"]
    return []


def problems(sent: str, response: httpx.Response) -> list[str]:
    """What is wrong with the answer to a request that sent ``sent``."""
    found = [f"status {response.status_code}"] if response.status_code >= 500 else []
    texts = [response.text]
    body: Any = None
    # Not JSON (or too deep to decode): the text only.
    with contextlib.suppress(ValueError, RecursionError):
        body = response.json()
        texts.extend(_strings(body))
    found += uncoded(response, body)
    for marker in (*LEAKS, MASKED):
        if marker not in sent and any(marker in text for text in texts):
            found.append(f"shows {marker!r}")
    return found


def describe(request: httpx.Request, sent: str, response: httpx.Response, found: list[str]) -> str:
    return (
        f"{', '.join(found)}: {request.method} {request.url.raw_path.decode('ascii')[:300]}\n"
        f"  sent: {sent[:600]!r}\n"
        f"  got {response.status_code}: {response.text[:600]!r}"
    )


def exchange(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send ``request``; once more on a new connection if the one it went on was dropped.

    After answering 500 the server closes the connection: a request sent on it
    just then fails to arrive. A request that itself drops the connection
    fails both times. Timeouts are not retried.
    """
    try:
        return client.send(request)
    except (httpx.NetworkError, httpx.RemoteProtocolError):
        return client.send(request)


def query_string(params: list[tuple[str, str]]) -> str:
    """``params`` percent-encoded as UTF-8, lone surrogates too (bytes no UTF-8 decoder takes)."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in params)


def _quote(text: str, safe: str = "") -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


# --- the server ----------------------------------------------------------------------


# The server helper of conftest: a process whose output is read as it comes
# (thousands of access-log lines would fill the pipe and block the server).
Server = RunningServer


_EXCEPTION = re.compile(r"^[\s|+]*((?:\w+\.)*\w*(?:Error|Exception|Group|Exit|Interrupt)\b.*)$")
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


def tracebacks(output: str) -> list[str]:
    """The exception each traceback of ``output`` ends in (of a group: its last), in order."""
    found: list[str] = []
    inside = False
    exception = ""
    for line in output.splitlines():
        if "Traceback (most recent call last)" in line:
            inside = True
        elif not inside or line.startswith(_CHAINED) or not line.strip():
            continue
        elif match := _EXCEPTION.match(line):
            exception = match.group(1)
        if inside and line[:1] not in (" ", "\t", "|", "+") and "Traceback" not in line:
            found.append(exception or line)
            inside, exception = False, ""
    if inside:
        found.append(exception or "(a traceback cut off)")
    return found


def no_tracebacks(server: Server) -> None:
    """Fail if the server printed tracebacks, counting them by kind (numbers aside)."""
    found = Counter(
        re.sub(r"\b0x[0-9a-f]+\b|(?<![\w-])\d+", "N", line) for line in tracebacks(server.output)
    )
    summary = "\n".join(f"  {n} x {line}" for line, n in found.most_common())
    assert not found, f"{found.total()} tracebacks in the server's output, ending in:\n{summary}"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """``kgraph serve --corpus seeds`` in the checkout, on a free port, until the module ends.

    A relative corpus path: ``stats { corpus }`` then names no folder of this machine.
    """
    with kgraph_server("--corpus", "seeds", cwd=REPO) as running:
        yield running
    no_tracebacks(running)


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    """One keep-alive connection for every request of the module."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def live_schema(client: httpx.Client) -> str:
    """The schema the server reports by introspection, as SDL."""
    response = client.post("/graphql", json={"query": get_introspection_query()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return print_schema(build_client_schema(body["data"]))


class Fuzzer:
    """Send requests to the server and fail on what is wrong with an answer.

    Wrong is: a 5xx, a leak (see :func:`problems`), or a traceback the server
    printed while answering. For that last one, each request is followed by
    a ``GET /fuzz-mark-N`` (a 404), and the server's output read up to that
    request's access-log line.
    """

    def __init__(self, server: Server, client: httpx.Client) -> None:
        self.server = server
        self.client = client
        self.marks = 0
        #: Whether the server logs each request (it does); else tracebacks are found at the end.
        self.synced = True

    def check(
        self,
        method: str,
        path: str = "/graphql",
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: list[tuple[str, str]] | None = None,
    ) -> httpx.Response:
        """Send a request, fail the test if its answer is wrong, return it."""
        raw = f"{path}?{query_string(params)}" if params else path
        # A raw path: as sent, even `//etc/passwd` (httpx would read a host in it).
        url = httpx.URL(self.server.base).copy_with(raw_path=raw.encode("ascii"))
        request = self.client.build_request(method, url, content=content, headers=headers)
        sent = f"{unquote(raw)} {(content or b'').decode('utf-8', 'replace')}"
        start = len(self.server.lines)
        response = exchange(self.client, request)
        found = problems(sent, response)
        logged = tracebacks("".join(self.printed_since(start)))
        if logged:
            found.append(f"the server printed a traceback ending in {logged[-1]!r}")
        assert not found, describe(request, sent, response, found)
        return response

    def post(self, payload: object) -> httpx.Response:
        """POST ``payload`` as JSON: surrogates escaped (``\\ud800``), NaN and Infinity as such."""
        return self.check("POST", content=json.dumps(payload).encode(), headers=JSON)

    def printed_since(self, start: int) -> list[str]:
        """The server's output from line ``start`` on, up to the answers of requests sent so far."""
        if self.synced:
            self.marks += 1
            mark = f"/fuzz-mark-{self.marks}"
            exchange(self.client, self.client.build_request("GET", mark))
            deadline = time.monotonic() + 10
            while not any(f"{mark} " in line for line in self.server.lines[start:]):
                if time.monotonic() > deadline:
                    self.synced = False
                    break
                time.sleep(0.001)
        return self.server.lines[start:]


@pytest.fixture(scope="module")
def fuzz(server: Server, client: httpx.Client) -> Fuzzer:
    return Fuzzer(server, client)


# --- 2,000 queries from the live schema ----------------------------------------------

GENERATED = settings(
    database=None,
    derandomize=True,
    deadline=None,
    print_blob=False,
    # Checked in a thread (see Pipeline): the test body never fails, nothing to shrink.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Pipeline:
    """Send generated queries from a thread while hypothesis generates the next ones.

    Generating a valid query takes the client about as long as answering it
    takes the server; overlapped, the queries take about half the time. Each
    answer is checked as it arrives and every failure kept with its query.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.sent = 0
        self.refused = 0  # answers with errors
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=64)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Pipeline:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self._thread.join()

    def send(self, query: str) -> None:
        self._queue.put(query)

    def _run(self) -> None:
        while (query := self._queue.get()) is not None:
            try:
                self._check(query)
            except Exception as err:  # a timeout, a dropped connection: a failure too
                self.failures.append(f"{err!r}\n  sent: {query[:600]!r}")

    def _check(self, query: str) -> None:
        request = self.client.build_request(
            "POST", "/graphql", content=json.dumps({"query": query}).encode(), headers=JSON
        )
        response = exchange(self.client, request)
        self.sent += 1
        self.statuses[response.status_code] += 1
        found = problems(query, response)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not {"data", "errors"} & answer.keys():
            found.append("not a GraphQL answer")
        elif answer.get("errors"):
            self.refused += 1
        if found:
            self.failures.append(describe(request, query, response, found))


@pytest.mark.parametrize(
    ("mode", "examples", "per_example"),
    [
        # Four valid queries an example: hypothesis-graphql then takes about 10 ms
        # a query instead of 26 (on this schema), below the server's 17 ms.
        pytest.param(hypothesis_graphql.Mode.POSITIVE, 250, 4, id="valid-250x4"),
        pytest.param(hypothesis_graphql.Mode.NEGATIVE, 1000, 1, id="one-violation-1000"),
    ],
)
def test_generated_queries(
    fuzz: Fuzzer,
    live_schema: str,
    mode: hypothesis_graphql.Mode,
    examples: int,
    per_example: int,
) -> None:
    """1,000 queries from the live schema (introspected, not the file): valid, or not quite."""
    queries = hypothesis_graphql.queries(live_schema, mode=mode)
    start = len(fuzz.server.lines)
    with Pipeline(fuzz.client) as pipeline:

        @settings(GENERATED, max_examples=examples)
        @given(st.lists(queries, min_size=per_example, max_size=per_example))
        def send(batch: list[str]) -> None:
            for query in batch:
                pipeline.send(query)

        send()
    distinct = {failure.split("\n")[0] for failure in pipeline.failures}
    assert not pipeline.failures, (
        f"{len(pipeline.failures)} of {pipeline.sent} answers failed ({len(distinct)} kinds):\n"
        + "\n".join(pipeline.failures[:8])
    )
    logged = Counter(tracebacks("".join(fuzz.printed_since(start))))
    assert not logged, f"the server printed tracebacks: {logged.most_common()}"
    assert pipeline.sent >= examples * per_example, pipeline.sent
    assert set(pipeline.statuses) <= {200, 400}, pipeline.statuses
    if mode is hypothesis_graphql.Mode.NEGATIVE:
        # Every query breaks the schema once: the server must say so, not run it.
        assert pipeline.refused == pipeline.sent, (pipeline.refused, pipeline.sent)


# --- hostile values ------------------------------------------------------------------

#: Ids of the seeds (-1 and 0 are odd but real or near), and one only wanted.
IDS = (-1, 0, 52001, 61005, 73010, 84008, 168897, 168904, 168918, 168999)
TOPICS = ("biology", "chemistry", "computer-science", "mathematics", "others", "physics")
URL = "/learn/others/questions/what-is-the-scientific-method"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


TRAVERSALS = (
    "../../etc/passwd",
    "../../../../../../../../etc/passwd",
    "/etc/passwd",
    "file:///etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "....//....//....//etc/passwd",
    "..\\..\\..\\..\\windows\\win.ini",
    "seeds/../../../../etc/passwd",
    "biology/../../pyproject.toml",
    "../kgraph/app.py",
    "/learn/../../../etc/passwd",
    "/proc/self/environ",
    "~/.ssh/id_rsa",
    "../../etc/passwd\x00.md",
    "\x00",
    "biology/what-is-the-role-of-atp-in-the-sodiumpotassium-pump.md",
)
UNICODE = (
    "\ud800",  # lone surrogates: JSON may escape them, UTF-8 cannot hold them
    "\udfff",
    "a\udc80b",
    "\ud83d\ude00",  # a pair written as two escapes: one emoji once decoded
    "\u202eevil\u202c",  # right-to-left override
    "שלום עולם",
    "مرحبا بالعالم",
    "😀👍🏽👨‍👩‍👧‍👦🏳️‍🌈",
    "\ufeffbiology",
    "bio\u200blogy",
    "e\u0301" * 40,
    "Z\u0351\u036b\u0343\u036a\u0302a\u0357l\u0364g\u0350o",
    "\uffff\ufffe\U0010ffff",
    "\uff22\uff29\uff2f\uff2c\uff2f\uff27\uff39",  # fullwidth BIOLOGY
    "İstanbul ß ﬁ",
)
ODD = (
    "",
    " ",
    "a" * 10_000,
    "'; DROP TABLE articles; --",
    "{ stats { files } }",
    "$x",
    "(((((((((((((a*)*)*)*)*)*)*)*)*)*)*)*)*",
    ".*",
    "*",
    "%",
    "%s%s%s%n",
    "\\",
    '"',
    '"""',
    "\n\r\t\x0b\x0c",
    "BIOLOGY",
    "Computer Science",
    "the",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
)
CURSORS = (
    _cursor("offset:1"),
    _cursor("offset:-1"),
    _cursor("offset:" + "9" * 5000),
    _cursor("offset:\u0661\u0662"),
    _cursor("offset:²"),
    _cursor("offset:../../etc/passwd"),
    "offset:1",
    "====",
    "b2Zmc2V0OjE",
    "\ud800",
)
STRINGS = (*TRAVERSALS, *UNICODE, *ODD, *CURSORS, *TOPICS, URL)
#: Number literals, as JSON and GraphQL write them (NaN and Infinity: Python's JSON only).
NUMBERS = (
    "0",
    "-0",
    "1",
    "-1",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    str(2**63 - 1),
    str(2**63),
    str(-(2**63) - 1),
    str(2**64),
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e309",
    "1e-400",
    "4.9e-324",
    "0.5",
    "-0.0",
    "1.0",
    "100.0",
    "1E2",
    "NaN",
    "Infinity",
    "-Infinity",
    "9" * 4000,
    "9" * 4300,
    "9" * 4301,
    "1" + "0" * 20_000,
)
ENUMS = ("OUT", "IN", "BOTH", "NONE", "SPRING", "KAMADA_KAWAI", "CIRCULAR", "HOPS", "RANK", "X")

#: Any text: unicode, control characters, lone surrogates.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
strings = st.one_of(st.sampled_from(STRINGS), any_text)
numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(IDS),
    st.floats(),
    strings,
    st.sampled_from(ENUMS),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(strings, inner, max_size=5),
    max_leaves=15,
)
path_options = st.fixed_dictionaries(
    {},
    optional={
        "directed": json_values,
        "weight": st.sampled_from(ENUMS) | json_values,
        "sameTopic": json_values,
        "avoid": st.lists(st.sampled_from(IDS) | st.integers(), max_size=5) | json_values,
        "maxHops": st.integers(-5, 50) | json_values,
        "keywordBridges": json_values,
        "bridges": json_values,
        "extra": json_values,
    },
)
article_filter = st.fixed_dictionaries(
    {}, optional={"topic": strings, "keyword": strings, "search": strings, "x": json_values}
)
variable_values = st.one_of(
    json_values,
    st.sampled_from(IDS),
    st.integers(-5, 2100),
    st.lists(st.sampled_from(IDS) | st.integers(), max_size=5),
    path_options,
    article_filter,
)

HOSTILE = settings(
    database=None,
    derandomize=True,
    deadline=None,
    print_blob=False,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Operations with variables, for values of every type and of none.
OPERATIONS = (
    "query($id: Int, $url: String) { article(id: $id, url: $url) { articleId title url backlinks(first: 3) { nodes { articleId } } } }",
    "query($filter: ArticleFilter, $first: Int!, $after: String) { articles(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { articleId title } } }",
    "query($key: String!, $first: Int!, $after: String) { topic(key: $key) { key name articles(first: $first, after: $after) { totalCount nodes { articleId } } } }",
    "query($id: Int!, $direction: Direction!, $depth: Int!, $first: Int!) { neighbours(id: $id, direction: $direction, depth: $depth, first: $first) { nodes { distance rank article { articleId } via { articleId } } } }",
    "query($topic: String, $first: Int!, $after: String, $minInbound: Int!) { curation(topic: $topic) { summary { articles } orphans(first: $first, after: $after, minInbound: $minInbound) { totalCount nodes { articleId } } overLinked(first: $first, minInbound: $minInbound) { nodes { inDegree } } islands(first: $first) { nodes { size } } } }",
    "query($from: Int!, $to: Int!, $options: PathOptions) { learningPath(from: $from, to: $to, options: $options) { hops cost bridges steps { via rank article { articleId } } } }",
    "query($from: Int!, $to: Int!, $k: Int!, $options: PathOptions) { learningPaths(from: $from, to: $to, k: $k, options: $options) { hops steps { article { articleId } } } }",
    "query($center: [Int!]!, $depth: Int!, $direction: Direction!, $limit: Int!, $layout: Layout!) { subgraph(center: $center, depth: $depth, direction: $direction, limit: $limit, layout: $layout) { truncated omittedNodes nodes { id x y } edges { id } } }",
    "query($key: String!, $limit: Int!, $layout: Layout!) { topicGraph(key: $key, limit: $limit, layout: $layout) { truncated nodes { id } d3 } }",
    "query($topic: String!, $start: Int, $first: Int!) { readingOrder(topic: $topic, start: $start, first: $first) { nodes { articleId } } }",
    "query($id: Int!, $first: Int!) { similar(id: $id, first: $first) { nodes { score sharedKeywords article { articleId } } } }",
    "query($layout: Layout!) { topicMap(layout: $layout) { nodes { id weight } cytoscape } }",
)
#: Where an Int goes: ``$N`` is a number literal or the variable ``$N``.
INT_SLOTS = (
    "articles(first: $N) { totalCount }",
    "article(id: $N) { articleId }",
    "article(id: 168904) { backlinks(first: $N) { nodes { articleId } } }",
    "neighbours(id: 168904, depth: $N) { nodes { distance } }",
    "neighbours(id: $N, first: $N) { nodes { distance } }",
    "subgraph(center: [$N], limit: $N) { truncated }",
    "subgraph(center: [168904], depth: $N, layout: SPRING) { truncated }",
    "learningPaths(from: 168904, to: $N, k: $N) { hops }",
    "learningPath(from: $N, to: 168904, options: {maxHops: $N, avoid: [$N]}) { hops }",
    "similar(id: 168904, first: $N) { nodes { score } }",
    'readingOrder(topic: "biology", start: $N, first: $N) { nodes { articleId } }',
    'topicGraph(key: "biology", limit: $N) { truncated }',
    "curation { orphans(first: $N, minInbound: $N) { totalCount } overLinked(minInbound: $N) { nodes { inDegree } } }",
    "articles(first: $N) { nodes { backlinks(first: $N) { nodes { articleId } } } }",
)
#: Where a String goes: ``$S`` is a string literal or the variable ``$S``.
STRING_SLOTS = (
    "article(url: $S) { articleId url }",
    "articles(filter: {search: $S}) { totalCount nodes { articleId } }",
    "articles(filter: {topic: $S}) { totalCount }",
    "articles(filter: {keyword: $S}) { totalCount }",
    "articles(after: $S) { totalCount }",
    "topic(key: $S) { key articles(after: $S) { totalCount } }",
    "readingOrder(topic: $S) { nodes { articleId } }",
    "curation(topic: $S) { summary { articles } orphans { totalCount } }",
    "curation { brokenLinks(after: $S) { totalCount } }",
    "topicGraph(key: $S) { truncated }",
)


def graphql_string(text: str, form: str) -> str:
    """``text`` as a GraphQL string literal: escaped (surrogates as \\ud800), raw, or a block."""
    if form == "escaped":
        return json.dumps(text)
    if form == "raw":
        return json.dumps(text, ensure_ascii=False)
    return '"""' + text.replace('"""', '\\"""') + '"""'


def nested(depth: int, kind: str) -> str:
    """JSON nested ``depth`` deep: lists, objects or both."""
    if kind == "lists":
        return "[" * depth + "1" + "]" * depth
    if kind == "objects":
        return '{"a":' * depth + "1" + "}" * depth
    return '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2)


def selection(depth: int, kind: str) -> str:
    """A query whose selections (or argument values) nest ``depth`` deep."""
    inner = "id"
    if kind == "links":
        for _ in range(depth):
            inner = f"links {{ target {{ {inner} }} }}"
    elif kind == "backlinks":
        for _ in range(depth):
            inner = f"backlinks(first: 100) {{ nodes {{ {inner} }} }}"
    elif kind == "fragments":
        inner = "... on Article { " * depth + "id" + " }" * depth
    elif kind == "spreads":
        fragments = " ".join(
            f"fragment F{i} on Article {{ articleId links {{ target {{ ...F{i + 1} }} }} }}"
            for i in range(depth)
        )
        return f"{{ article(id: 168904) {{ ...F0 }} }} {fragments} fragment F{depth} on Article {{ articleId }}"
    elif kind == "cycle":
        return (
            "{ article(id: 168904) { ...A } } fragment A on Article { links { target { ...B } } }"
            " fragment B on Article { backlinks { nodes { ...A } } }"
        )
    elif kind == "topics":
        for _ in range(depth):
            inner = f"topics {{ articles {{ nodes {{ {inner} }} }} }}"
    elif kind == "aliases":
        return "{ " + " ".join(f"a{i}: stats {{ files }}" for i in range(depth)) + " }"
    elif kind == "directives":
        return "{ stats " + "@include(if: true) @skip(if: false) " * depth + "{ files } }"
    elif kind == "lists":
        return f"{{ subgraph(center: {'[' * depth}168904{']' * depth}) {{ truncated }} }}"
    elif kind == "objects":
        value = "{avoid: " * depth + "[1]" + "}" * depth
        return f"{{ learningPath(from: 168904, to: 52001, options: {value}) {{ hops }} }}"
    return f"{{ article(id: 168904) {{ {inner} }} }}"


SELECTIONS = (
    "links",
    "backlinks",
    "fragments",
    "spreads",
    "cycle",
    "topics",
    "aliases",
    "directives",
    "lists",
    "objects",
)


# --- a table of known hostile requests -----------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One request: POST ``body`` (or GET with ``params``) to ``path``."""

    body: bytes | None = None
    params: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"
    method: str = "POST"
    path: str = "/graphql"


def _body(query: str, variables: str | None = None) -> bytes:
    """A POST body; ``variables`` as raw JSON text (numbers JSON can write, Python cannot)."""
    if variables is None:
        return json.dumps({"query": query}).encode()
    return ('{"query": ' + json.dumps(query) + ', "variables": ' + variables + "}").encode()


_INT_FIRST = "query($f: Int!) { articles(first: $f) { totalCount } }"
_CENTER = "query($c: [Int!]!) { subgraph(center: $c) { truncated } }"
_URL = "query($u: String) { article(url: $u) { articleId } }"
_SUBSCRIPTION = "subscription { graphChanged { version loadedAt articles links } }"

KNOWN = {
    # deep nesting
    "json-variables-10000-nested-lists": Hostile(
        _body(_CENTER, '{"c": ' + nested(10_000, "lists") + "}")
    ),
    "json-variables-10000-nested-objects": Hostile(
        _body(_CENTER, '{"c": ' + nested(10_000, "objects") + "}")
    ),
    "json-body-30000-nested-lists": Hostile(nested(30_000, "lists").encode()),
    "json-extensions-5000-nested": Hostile(
        ('{"query": "{ stats { files } }", "extensions": ' + nested(5000, "objects") + "}").encode()
    ),
    "get-variables-10000-nested-lists": Hostile(
        method="GET",
        params=(("query", _CENTER), ("variables", '{"c": ' + nested(10_000, "lists") + "}")),
    ),
    "selection-links-40-deep": Hostile(_body(selection(40, "links"))),
    "selection-links-5000-deep": Hostile(_body(selection(5000, "links"))),
    "selection-backlinks-9-deep": Hostile(_body(selection(9, "backlinks"))),
    "argument-list-3000-deep": Hostile(_body(selection(3000, "lists"))),
    "fragment-cycle": Hostile(_body(selection(0, "cycle"))),
    # huge numbers
    "variable-int-2**63": Hostile(_body(_INT_FIRST, f'{{"f": {2**63}}}')),
    "variable-int-minus-2**31-1": Hostile(_body(_INT_FIRST, f'{{"f": {-(2**31) - 1}}}')),
    "variable-int-1e308": Hostile(_body(_INT_FIRST, '{"f": 1e308}')),
    "variable-int-1e309": Hostile(_body(_INT_FIRST, '{"f": 1e309}')),
    "variable-int-NaN": Hostile(_body(_INT_FIRST, '{"f": NaN}')),
    "variable-int-Infinity": Hostile(_body(_INT_FIRST, '{"f": -Infinity}')),
    "variable-int-4000-digits": Hostile(_body(_INT_FIRST, '{"f": ' + "9" * 4000 + "}")),
    "variable-int-4000-digits-twice": Hostile(
        _body(
            "query($f: Int!) { articles(first: $f) { nodes { backlinks(first: $f) { nodes { articleId } } } } }",
            '{"f": ' + "9" * 4000 + "}",
        )
    ),
    "variable-int-4301-digits": Hostile(_body(_INT_FIRST, '{"f": ' + "9" * 4301 + "}")),
    "get-variable-int-4301-digits": Hostile(
        method="GET", params=(("query", _INT_FIRST), ("variables", '{"f": ' + "9" * 4301 + "}"))
    ),
    "literal-int-2**63": Hostile(_body(f"{{ articles(first: {2**63}) {{ totalCount }} }}")),
    "literal-int-1e308": Hostile(_body("{ articles(first: 1e308) { totalCount } }")),
    "literal-int-4301-digits": Hostile(_body("{ article(id: " + "9" * 4301 + ") { articleId } }")),
    "center-of-2**63": Hostile(_body(_CENTER, f'{{"c": [{2**63}, 1e308, {-(2**31) - 1}]}}')),
    # wrong types
    "variable-string-for-int": Hostile(_body(_INT_FIRST, '{"f": "20"}')),
    "variable-list-for-int": Hostile(_body(_INT_FIRST, '{"f": [20]}')),
    "variable-null-for-non-null": Hostile(_body(_INT_FIRST, '{"f": null}')),
    "variable-object-for-string": Hostile(_body(_URL, '{"u": {"a": 1}}')),
    "variables-a-list": Hostile(_body(_INT_FIRST, "[1, 2]")),
    "variables-a-string": Hostile(_body(_INT_FIRST, '"{\\"f\\": 1}"')),
    "query-a-number": Hostile(b'{"query": 5}'),
    "query-an-object": Hostile(b'{"query": {"query": "{ stats { files } }"}}'),
    "operation-name-a-list": Hostile(b'{"query": "{ stats { files } }", "operationName": []}'),
    "a-batch": Hostile(b'[{"query": "{ stats { files } }"}]'),
    # malformed JSON and encodings
    "json-cut-short": Hostile(b'{"query": "{ stats { files } }'),
    "json-empty": Hostile(b""),
    "json-not-utf8": Hostile(b'{"query": "{ topic(key: \\"\xff\xfe\\") { key } }"}'),
    "json-latin1": Hostile('{"query": "{ topic(key: \\"é\\") { key } }"}'.encode("latin-1")),
    "json-utf16": Hostile('{"query": "{ stats { files } }"}'.encode("utf-16")),
    "json-utf8-bom": Hostile(b'\xef\xbb\xbf{"query": "{ stats { files } }"}'),
    "json-nul-bytes": Hostile(b'{"query": "{ stats { files } }\x00"}\x00'),
    # unicode in string arguments
    "variable-url-lone-surrogate": Hostile(
        b'{"query": "query($u: String) { article(url: $u) { articleId } }", "variables": {"u": "\\ud800"}}'
    ),
    "literal-url-lone-surrogate": Hostile(
        b'{"query": "{ article(url: \\"\\\\ud800\\") { articleId } }"}'
    ),
    "literal-search-lone-surrogate": Hostile(
        b'{"query": "{ articles(filter: {search: \\"\\ud800\\"}) { totalCount } }"}'
    ),
    "topic-key-rtl-emoji": Hostile(_body('{ topic(key: "\u202ebiology\u202c😀") { key } }')),
    "search-arabic-hebrew-emoji": Hostile(
        _body('{ articles(filter: {search: "مرحبا שלום 👨‍👩‍👧"}) { totalCount } }')
    ),
    # path traversal
    "traversal-article-url": Hostile(_body('{ article(url: "../../etc/passwd") { articleId } }')),
    "traversal-topic-key": Hostile(_body('{ topic(key: "../../../../etc/passwd") { key } }')),
    "traversal-search": Hostile(
        _body(
            '{ articles(filter: {search: "../../etc/passwd", topic: "../../etc", keyword: "/etc/passwd"}) { totalCount } }'
        )
    ),
    "traversal-reading-order": Hostile(
        _body('{ readingOrder(topic: "../../etc/passwd") { nodes { articleId } } }')
    ),
    "traversal-curation-topic": Hostile(
        _body('{ curation(topic: "/etc/passwd") { summary { files } } }')
    ),
    "traversal-topic-graph": Hostile(
        _body('{ topicGraph(key: "file:///etc/passwd") { truncated } }')
    ),
    "traversal-cursor": Hostile(
        _body(f'{{ articles(after: "{_cursor("offset:../../etc/passwd")}") {{ totalCount }} }}')
    ),
    "traversal-url-path": Hostile(method="GET", path="/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
    "traversal-graphql-path": Hostile(method="GET", path="/graphql/%2e%2e/%2e%2e/etc/passwd"),
    # operations HTTP should not run
    "subscription-over-post": Hostile(_body(_SUBSCRIPTION)),
    "subscription-over-get": Hostile(method="GET", params=(("query", _SUBSCRIPTION),)),
    "mutation-over-get": Hostile(method="GET", params=(("query", "mutation { x }"),)),
    "get-variables-not-json": Hostile(
        method="GET", params=(("query", _INT_FIRST), ("variables", "{bad"))
    ),
    # content types, methods, size
    "form-encoded": Hostile(
        b"query=%7B+stats+%7B+files+%7D+%7D", content_type="application/x-www-form-urlencoded"
    ),
    "multipart": Hostile(
        b'--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n--x--\r\n',
        content_type="multipart/form-data; boundary=x",
    ),
    "text-plain": Hostile(_body("{ stats { files } }"), content_type="text/plain"),
    "application-graphql": Hostile(b"{ stats { files } }", content_type="application/graphql"),
    "json-bogus-charset": Hostile(
        _body("{ stats { files } }"), content_type="application/json; charset=bogus"
    ),
    "put": Hostile(_body("{ stats { files } }"), method="PUT"),
    "delete": Hostile(method="DELETE"),
    "body-over-64-kib": Hostile(_body("{ stats { files } }", '{"x": "' + "a" * 70_000 + '"}')),
}


@pytest.mark.parametrize("hostile", KNOWN.values(), ids=KNOWN.keys())
def test_known_hostile_requests(fuzz: Fuzzer, hostile: Hostile) -> None:
    headers = {"content-type": hostile.content_type} if hostile.body is not None else None
    fuzz.check(
        hostile.method,
        hostile.path,
        content=hostile.body,
        headers=headers,
        params=list(hostile.params) or None,
    )


# --- hypothesis-made hostile requests ------------------------------------------------

json_fragments = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        '"',
        ":",
        ",",
        '"query"',
        '"variables"',
        '"operationName"',
        '"extensions"',
        '"{ stats { files } }"',
        "null",
        "true",
        "-0",
        "1e999",
        "NaN",
        "Infinity",
        '"\\ud800"',
        '"\\u0000"',
        '"\\x"',
        "\\",
        " ",
        "\n",
        "\x00",
        "\ufeff",
        "//",
        "/*",
    ]
)
malformed_bodies = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(str.encode),
    st.lists(json_fragments, max_size=60).map(lambda parts: "".join(parts).encode()),
    st.builds(
        lambda body, cut: body[:cut],
        st.sampled_from([_body(op, '{"id": 168904}') for op in OPERATIONS]),
        st.integers(0, 400),
    ),
    st.builds(
        lambda text, codec: text.encode(codec, "replace"),
        st.text(max_size=100).map(
            lambda s: json.dumps(
                {"query": "{ topic(key: " + json.dumps(s) + ") { key } }"}, ensure_ascii=False
            )
        ),
        st.sampled_from(["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis"]),
    ),
)


@settings(HOSTILE, max_examples=250)
@given(body=malformed_bodies)
def test_malformed_json_bodies(fuzz: Fuzzer, body: bytes) -> None:
    fuzz.check("POST", content=body, headers=JSON)


request_keys = st.sampled_from(["query", "variables", "operationName", "extensions", "id", "x"])
payloads = st.one_of(
    json_values,
    st.dictionaries(request_keys, json_values, max_size=4),
    st.fixed_dictionaries(
        {"query": st.sampled_from(OPERATIONS) | strings},
        optional={
            "variables": json_values,
            "operationName": json_values,
            "extensions": json_values,
        },
    ),
)


@settings(HOSTILE, max_examples=250)
@given(payload=payloads)
def test_json_of_any_shape(fuzz: Fuzzer, payload: object) -> None:
    fuzz.post(payload)


@settings(HOSTILE, max_examples=300)
@given(
    operation=st.sampled_from(OPERATIONS),
    variables=st.dictionaries(
        st.sampled_from(["id", "url", "filter", "first", "after", "key", "direction", "depth"])
        | st.sampled_from(["topic", "minInbound", "from", "to", "k", "options", "center"])
        | st.sampled_from(["limit", "layout", "start"])
        | strings,
        variable_values,
        max_size=6,
    ),
    by_get=st.booleans(),
)
def test_variables_of_wrong_types(
    fuzz: Fuzzer, operation: str, variables: dict[str, object], by_get: bool
) -> None:
    if by_get:
        params = [("query", operation), ("variables", json.dumps(variables))]
        fuzz.check("GET", params=params)
    else:
        fuzz.post({"query": operation, "variables": variables})


@settings(HOSTILE, max_examples=250)
@given(
    slots=st.lists(st.sampled_from(INT_SLOTS), min_size=1, max_size=3),
    number=numbers,
    as_variable=st.booleans(),
    declared=st.sampled_from(["Int!", "Int!", "Int!", "Int", "Float", "String", "[Int!]!", "ID"]),
)
def test_huge_and_odd_numbers(
    fuzz: Fuzzer, slots: list[str], number: str, as_variable: bool, declared: str
) -> None:
    fields = " ".join(f"f{i}: {slot}" for i, slot in enumerate(slots))
    if as_variable:
        query = f"query($N: {declared}) {{ {fields} }}"
        body = _body(query, '{"N": ' + number + "}")
    else:
        body = _body("{ " + fields.replace("$N", number) + " }")
    fuzz.check("POST", content=body, headers=JSON)


@settings(HOSTILE, max_examples=300)
@given(
    slot=st.sampled_from(STRING_SLOTS),
    text=strings,
    form=st.sampled_from(["escaped", "raw", "block", "variable"]),
)
def test_hostile_strings_in_arguments(fuzz: Fuzzer, slot: str, text: str, form: str) -> None:
    if form == "variable":
        fuzz.post({"query": f"query($S: String!) {{ {slot} }}", "variables": {"S": text}})
    else:
        fuzz.post({"query": "{ " + slot.replace("$S", graphql_string(text, form)) + " }"})


@settings(HOSTILE, max_examples=120)
@given(
    kind=st.sampled_from(SELECTIONS),
    depth=st.integers(1, 400) | st.sampled_from([10, 11, 15, 16, 2000, 10_000]),
)
def test_deep_and_wide_selections(fuzz: Fuzzer, kind: str, depth: int) -> None:
    fuzz.post({"query": selection(depth, kind)})


@settings(HOSTILE, max_examples=80)
@given(
    depth=st.integers(1, 32_000) | st.sampled_from([10_000, 20_000]),
    kind=st.sampled_from(["lists", "objects", "mixed"]),
    where=st.sampled_from(["variables", "body", "extensions", "get"]),
)
def test_deeply_nested_json(fuzz: Fuzzer, depth: int, kind: str, where: str) -> None:
    value = nested(depth, kind)
    if where == "get":
        # A url holds at most 64 KiB (httpx's limit, and about any server's).
        value = nested(min(depth, 3_000), kind)
        fuzz.check("GET", params=[("query", _CENTER), ("variables", '{"c": ' + value + "}")])
    elif where == "body":
        fuzz.check("POST", content=value.encode(), headers=JSON)
    else:
        body = '{"query": ' + json.dumps(_CENTER) + ', "' + where + '": {"c": ' + value + "}}"
        fuzz.check("POST", content=body.encode(), headers=JSON)


PATHS = (
    "/graphql",
    "/graphql",
    "/graphql",
    "/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/graphql/",
    "/GRAPHQL",
    "/graphql%00",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/graphql/..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/seeds/biology/what-is-a-cell.md",
    "/kgraph/app.py",
)
GET_VALUES = (
    "{ stats { files } }",
    "{ __typename }",
    "query Q($id: Int) { article(id: $id) { articleId } }",
    "mutation { x }",
    _SUBSCRIPTION,
    "{ __schema { types { name } } }",
    '{"id": 168904}',
    '{"id": "x"}',
    "[1]",
    "null",
    "{bad",
    "Q",
)


@settings(HOSTILE, max_examples=250)
@given(
    path=st.sampled_from(PATHS) | any_text.map(lambda text: "/" + _quote(text, safe="/")),
    params=st.lists(
        st.tuples(request_keys | any_text, st.sampled_from(GET_VALUES) | strings), max_size=4
    ),
    accept=st.sampled_from(
        [
            "application/json",
            "text/html",
            "*/*",
            "application/graphql-response+json",
            "multipart/mixed",
            "multipart/mixed;subscriptionSpec=1.0",
            "text/event-stream",
            "image/png",
            "",
        ]
    ),
)
def test_get_requests(fuzz: Fuzzer, path: str, params: list[tuple[str, str]], accept: str) -> None:
    fuzz.check("GET", path, params=params, headers={"accept": accept})


@settings(HOSTILE, max_examples=150)
@given(
    method=st.sampled_from(["POST", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
    content_type=st.sampled_from(
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "application/graphql",
            "application/json; charset=utf-16",
            "application/json; charset=latin-1",
            "application/json; charset=bogus",
            "APPLICATION/JSON",
            "application/json ;;",
            "application/json, text/plain",
            "application/jsonx",
            "application/ld+json",
            "text/html",
            "",
        ]
    )
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.strip),
    body=st.sampled_from([_body("{ stats { files } }"), b"query=%7B%7D", b""])
    | st.binary(max_size=100),
    path=st.sampled_from(["/graphql", "/", "/healthz", "/readyz", "/metrics"]),
)
def test_wrong_content_types_and_methods(
    fuzz: Fuzzer, method: str, content_type: str, body: bytes, path: str
) -> None:
    fuzz.check(method, path, content=body, headers={"content-type": content_type})


# --- afterwards ----------------------------------------------------------------------


def test_the_server_still_serves(server: Server, client: httpx.Client) -> None:
    """Last: everything above went to the same server, which is still up and sound."""
    assert server.process.poll() is None, "the server exited"
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    counts = {"articles": ready.json()["articles"], "links": ready.json()["links"]}
    stats = client.post("/graphql", json={"query": "{ stats { articles links } }"})
    assert stats.json()["data"] == {"stats": counts}
    no_tracebacks(server)

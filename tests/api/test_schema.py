"""The schema on the seeds corpus, executed directly (no HTTP): every field, every rule."""

from __future__ import annotations

import asyncio
import math
import re
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    build_client_schema,
    build_schema,
    get_introspection_query,
    parse,
    specified_scalar_types,
    validate,
    value_from_ast_untyped,
)
from graphql.language.parser import Parser

from conftest import REPO
from kgraph.api import Context, create_schema
from kgraph.api.limits import COMPUTE_WEIGHTS, SCALAR_WEIGHT, SEARCH_WEIGHT, operation_cost
from kgraph.api.schema import KgraphSchema
from kgraph.graph import KnowledgeGraph
from kgraph.graph.queries import Direction, neighbours

#: The defaults of the schema's sizing arguments, as the server counts costs with.
SIZES = create_schema().list_sizes


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    """The schema as served."""
    return create_schema()


Run = Any


@pytest.fixture
def run(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> Run:
    def execute(query: str, graph: KnowledgeGraph | None = seeds_graph, **variables: Any) -> Any:
        return asyncio.run(
            schema.execute(query, variable_values=variables, context_value=Context(graph=graph))
        )

    return execute


def data(result: Any) -> Any:
    assert result.errors is None, result.errors
    return result.data


def error(result: Any) -> str:
    assert result.errors, result.data
    return str(result.errors[0].message)


ARTICLE_FIELDS = """
  articleId title question answer answerRaw answerHtml description keywords date score noIndex
  subject url topics { key name } copies { path url subject }
  links { rank target { articleId } wanted { articleId title subject url referrers { nodes { articleId } } } }
  backlinks { nodes { articleId } } inDegree outDegree
"""


def test_article_by_id_has_every_field(run: Run, seeds_graph: KnowledgeGraph) -> None:
    article = data(run(f"{{ article(id: 168904) {{ {ARTICLE_FIELDS} }} }}"))["article"]
    assert article["title"] == "What is the role of ATP in the sodium-potassium pump?"
    assert article["question"] == article["title"]
    assert "\n\n- **3 Na⁺ ions out of the cell**\n" in article["answer"]
    assert "\\n\\n- **3 Na⁺" in article["answerRaw"]
    assert "<li><strong>3 Na⁺ ions out of the cell</strong>" in article["answerHtml"]
    assert article["description"].startswith("The sodium-potassium pump utilizes ATP")
    assert article["keywords"][:2] == ["ATP", "sodium-potassium pump"]
    assert (article["date"], article["score"], article["noIndex"]) == ("2025-02-04", -1.0, False)
    assert article["subject"] == "Biology"
    assert (
        article["url"]
        == "/learn/biology/questions/what-is-the-role-of-atp-in-the-sodiumpotassium-pump"
    )
    assert article["topics"] == [{"key": "biology", "name": "Biology"}]
    assert article["copies"] == [
        {
            "path": "biology/what-is-the-role-of-atp-in-the-sodiumpotassium-pump.md",
            "url": article["url"],
            "subject": "Biology",
        }
    ]
    # Rank 4 repeats rank 1: four links, in rank order.
    assert [(link["rank"], link["target"]["articleId"]) for link in article["links"]] == [
        (1, 168902), (2, 168897), (3, 168906), (5, 168903),
    ]  # fmt: skip
    referrers = set(seeds_graph.graph.predecessors(168904))
    assert {b["articleId"] for b in article["backlinks"]["nodes"]} == referrers
    assert 84001 in referrers  # the chemistry article on ATP hydrolysis
    assert (article["inDegree"], article["outDegree"]) == (len(referrers), 4)


def test_what_links_here_pages_through_every_backlink(run: Run) -> None:
    query = """query($after: String) { article(id: 168904) { inDegree backlinks(first: 100) { nodes { articleId } }
      linkedFrom(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { articleId } } } }"""
    seen: list[int] = []
    after = None
    while True:
        article = data(run(query, after=after))["article"]
        page = article["linkedFrom"]
        assert page["totalCount"] == article["inDegree"] == 5
        seen += [a["articleId"] for a in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [
        a["articleId"] for a in article["backlinks"]["nodes"]
    ]  # strongest first, each once


def test_article_by_url_of_any_copy(run: Run) -> None:
    for folder in ("mathematics", "physics"):
        url = f"/learn/{folder}/questions/what-is-the-difference-between-a-scalar-and-a-vector"
        article = data(
            run("query($u: String) { article(url: $u) { articleId topics { key } } }", u=url)
        )
        assert article["article"] == {
            "articleId": 73010,
            "topics": [{"key": "mathematics"}, {"key": "physics"}],
        }


def test_unknown_article_is_null_not_an_error(run: Run) -> None:
    assert data(run("{ article(id: 424242) { articleId } }")) == {"article": None}
    assert data(run('{ article(url: "/nope") { articleId } }')) == {"article": None}


def test_article_needs_exactly_one_argument(run: Run) -> None:
    assert (
        error(run("{ article { articleId } }")) == "give exactly one of `id` and `url` to `article`"
    )
    assert "exactly one" in error(run('{ article(id: 1, url: "/x") { articleId } }'))


def test_wanted_links_show_the_missing_article(run: Run) -> None:
    links = data(
        run(
            "{ article(id: 168911) { links { rank target { articleId }"
            " wanted { articleId title subject url referrers { nodes { articleId } } } } } }"
        )
    )
    wanted = [link for link in links["article"]["links"] if link["wanted"]]
    assert wanted == [
        {
            "rank": 3,
            "target": None,
            "wanted": {
                "articleId": 168999,
                "title": "What is the role of mitochondria in apoptosis?",
                "subject": "Biology",
                "url": "/learn/biology/questions/what-is-the-role-of-mitochondria-in-apoptosis",
                "referrers": {"nodes": [{"articleId": 168911}, {"articleId": 168913}]},
            },
        }
    ]


def test_articles_filters_and_paging(run: Run, seeds_graph: KnowledgeGraph) -> None:
    found = data(
        run(
            '{ articles(filter: {search: "sodium potassium pump"}) { totalCount nodes { articleId } } }'
        )
    )
    assert found["articles"]["nodes"][0]["articleId"] == 168904
    by_topic = data(
        run(
            '{ articles(filter: {topic: "computer-science", keyword: "Recursion"}) { nodes { articleId } } }'
        )
    )
    assert [n["articleId"] for n in by_topic["articles"]["nodes"]] == [52005, 52009]
    none = data(run('{ articles(filter: {search: "sodium", topic: "physics"}) { totalCount } }'))
    assert none["articles"]["totalCount"] == 0
    # Page through everything with cursors: each article once, in id order.
    seen: list[int] = []
    after = None
    while True:
        page = data(
            run(
                "query($a: String) { articles(first: 7, after: $a) { totalCount"
                " pageInfo { hasNextPage endCursor } edges { cursor node { articleId } } } }",
                a=after,
            )
        )["articles"]
        assert page["totalCount"] == 52
        seen += [edge["node"]["articleId"] for edge in page["edges"]]
        assert page["edges"][-1]["cursor"] == page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seeds_graph.articles)


def test_a_search_ranks_with_scores_and_pages_keep_them(run: Run) -> None:
    query = (
        "query($s: String, $a: String) { articles(filter: {search: $s}, first: 3, after: $a)"
        " { totalCount pageInfo { endCursor } edges { score node { articleId } } } }"
    )
    first = data(run(query, s="sodium potasium pump"))["articles"]  # a typo forgiven
    assert first["edges"][0]["node"]["articleId"] == 168904
    scores = [edge["score"] for edge in first["edges"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 and s == round(s, 4) for s in scores)
    after = data(run(query, s="sodium potasium pump", a=first["pageInfo"]["endCursor"]))
    assert after["articles"]["edges"][0]["score"] <= scores[-1]
    unsearched = data(run("{ articles(first: 2) { edges { score } } }"))["articles"]["edges"]
    assert unsearched == [{"score": None}, {"score": None}]


def test_topics_and_topic(run: Run) -> None:
    topics = data(run("{ topics { key name articleCount fileCount } }"))["topics"]
    assert [t["key"] for t in topics] == [
        "biology", "chemistry", "computer-science", "mathematics", "others", "physics",
    ]  # fmt: skip
    cs = data(
        run(
            '{ topic(key: "Computer science") { key name spellings articleCount articles(first: 3) { totalCount nodes { articleId } } } }'
        )
    )["topic"]
    assert cs["name"] == "Computer Science"
    assert cs["spellings"] == ["Computer Science", "Computer science"]
    assert cs["articleCount"] == 10
    assert cs["articles"]["totalCount"] == 10
    assert [n["articleId"] for n in cs["articles"]["nodes"]] == [52001, 52002, 52003]
    assert data(run('{ topic(key: "history") { key } }')) == {"topic": None}


@pytest.mark.parametrize("direction", ["OUT", "IN", "BOTH"])
def test_neighbours_match_the_graph(run: Run, seeds_graph: KnowledgeGraph, direction: str) -> None:
    graph = seeds_graph.graph
    for article_id in (168904, 168897, 73010, 168918):
        result = data(
            run(
                f"{{ neighbours(id: {article_id}, direction: {direction}) {{ nodes {{ article {{ articleId }} distance rank via {{ articleId }} }} }} }}"
            )
        )["neighbours"]["nodes"]
        expected = {
            "OUT": set(graph.successors(article_id)),
            "IN": set(graph.predecessors(article_id)),
            "BOTH": set(graph.successors(article_id)) | set(graph.predecessors(article_id)),
        }[direction]
        assert {n["article"]["articleId"] for n in result} == expected
        assert all(n["distance"] == 1 and n["via"]["articleId"] == article_id for n in result)
        keys = [(n["distance"], n["rank"], n["article"]["articleId"]) for n in result]
        assert keys == sorted(keys)


def test_neighbours_at_depth_2_and_3(run: Run, seeds_graph: KnowledgeGraph) -> None:
    import networkx as nx

    result = data(
        run(
            "{ neighbours(id: 168904, depth: 3, first: 100) { nodes { article { articleId } distance } } }"
        )
    )
    distances = {n["article"]["articleId"]: n["distance"] for n in result["neighbours"]["nodes"]}
    expected = nx.single_source_shortest_path_length(seeds_graph.graph, 168904, cutoff=3)
    del expected[168904]
    assert distances == expected
    assert max(distances.values()) == 3
    first3 = data(
        run("{ neighbours(id: 168904, depth: 3, first: 3) { nodes { article { articleId } } } }")
    )
    assert len(first3["neighbours"]["nodes"]) == 3
    assert [n.id for n in neighbours(seeds_graph, 168904, Direction.OUT, 3, 3)] == [
        n["article"]["articleId"] for n in first3["neighbours"]["nodes"]
    ]


def test_neighbours_of_an_unknown_article_is_an_error(run: Run) -> None:
    assert (
        error(run("{ neighbours(id: 424242) { nodes { distance } } }"))
        == "article 424242 is not in the graph"
    )


def test_unknown_ids_as_readme_says(run: Run) -> None:
    """Lookups give null; a field that starts from an article names the unknown one."""
    for lookup in (
        "{ article(id: 424242) { articleId } }",
        '{ article(url: "/learn/nowhere") { articleId } }',
        '{ topic(key: "nowhere") { key } }',
    ):
        assert set(data(run(lookup)).values()) == {None}, lookup
    for field in (
        "neighbours(id: 424242) { nodes { distance } }",
        "similar(id: 424242) { totalCount }",
        "subgraph(center: [424242]) { nodes { id } }",
        "learningPath(from: 424242, to: 168904) { hops }",
        "learningPaths(from: 168904, to: 424242) { hops }",
        "learningPathSearch(from: 424242, to: 168904) { complete }",
        'readingOrder(topic: "biology", start: 424242) { nodes { articleId } }',
    ):
        assert error(run(f"{{ {field} }}")) == "article 424242 is not in the graph", field


def test_stats(run: Run) -> None:
    stats = data(
        run(
            "{ stats { files articles links topics parseErrors wantedArticles loadedAt loadSeconds corpus version } }"
        )
    )["stats"]
    assert (stats["files"], stats["articles"], stats["links"], stats["topics"]) == (53, 52, 113, 6)
    assert (stats["parseErrors"], stats["wantedArticles"]) == (0, 2)
    assert stats["loadedAt"].endswith("+00:00")
    assert stats["loadSeconds"] > 0
    assert Path(stats["corpus"]) == REPO / "seeds"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ articles(first: 0) { totalCount } }", "`first` must be between 1 and 100, got 0"),
        ("{ articles(first: 101) { totalCount } }", "`first` must be between 1 and 100, got 101"),
        (
            "{ neighbours(id: 168904, depth: 4) { nodes { distance } } }",
            "`depth` must be between 1 and 3, got 4",
        ),
        (
            "{ neighbours(id: 168904, depth: 0) { nodes { distance } } }",
            "`depth` must be between 1 and 3, got 0",
        ),
        (
            "{ neighbours(id: 168904, first: 500) { nodes { distance } } }",
            "`first` must be between 1 and 100, got 500",
        ),
        ('{ articles(after: "bogus") { totalCount } }', "`after` is not a cursor of this list"),
        (
            "{ article(id: 168904) { backlinks(first: 0) { nodes { articleId } } } }",
            "`first` must be between 1 and 100, got 0",
        ),
    ],
)
def test_argument_limits(run: Run, query: str, message: str) -> None:
    assert error(run(query)).startswith(message)


def test_query_depth_limit(run: Run) -> None:
    nested = "{ article(id: 168904) { " + "links { target { " * 5 + "id" + " } }" * 5 + " } }"
    assert "exceeds maximum operation depth of 10" in error(run(nested))


def test_alias_limit(run: Run) -> None:
    aliases = " ".join(f"a{i}: stats {{ files }}" for i in range(16))
    assert error(run(f"{{ {aliases} }}")) == "16 aliases found. Allowed: 15"


def test_token_limit(run: Run) -> None:
    fields = " ".join(["articleId"] * 2_100)
    assert "Document contains more than 2000 tokens" in error(
        run(f"{{ article(id: 1) {{ {fields} }} }}")
    )


def test_cost_limit(run: Run) -> None:
    query = "{ articles(first: 100) { nodes { backlinks(first: 100) { nodes { backlinks(first: 10) { nodes { articleId } } } } } } }"
    message = error(run(query))
    assert "objects, over the limit of 20,000" in message
    assert "lower `first`" in message
    # The same shape with small pages passes.
    data(
        run(
            "{ articles(first: 10) { nodes { backlinks(first: 10) { nodes { backlinks(first: 10) { nodes { articleId } } } } } } }"
        )
    )
    # Drawable graphs count their nodes and edges by `limit`: one big one passes, three do not.
    one = "subgraph(center: [168904], limit: 2000) { nodes { id } edges { id } }"
    data(run(f"{{ {one} }}"))
    many = " ".join(f"s{i}: {one}" for i in range(3))
    assert "over the limit" in error(run(f"{{ {many} }}"))
    # A variable counts by its value, as the literal would: fifteen big ones do not pass.
    by_variable = " ".join(
        f"s{i}: subgraph(center: [168904], limit: $l) {{ nodes {{ id }} edges {{ id }} }}"
        for i in range(15)
    )
    assert "over the limit" in error(run(f"query($l: Int!) {{ {by_variable} }}", l=2000))
    data(run(f"query($l: Int!) {{ {by_variable} }}", l=2))
    assert "over the limit" in error(run(f"query($l: Int! = 2000) {{ {by_variable} }}"))
    # A search ranks its matches: its articles weigh more than a topic's.
    searches = " ".join(
        f"a{i}: articles(first: 100, filter: $f) {{ nodes {{ articleId }} }}" for i in range(15)
    )
    searching = f"query($f: ArticleFilter) {{ {searches} }}"
    assert "over the limit" in error(run(searching, f={"search": "the"}))
    data(run(searching, f={"topic": "biology"}))
    paths = " ".join(
        f"p{i}: learningPaths(from: 168904, to: 168912, k: 10) {{ steps {{ rank }} }}"
        for i in range(15)
    )
    assert "over the limit" in error(run(f"{{ {paths} }}"))


def test_cost_of_unknown_variables_is_the_most_their_argument_takes() -> None:
    document = parse(
        "query($n: Int!, $l: Int!, $k: Int!, $f: ArticleFilter) {"
        " articles(first: $n, filter: $f) { nodes { articleId } }"
        " subgraph(center: [1], limit: $l) { nodes { id } }"
        " learningPaths(from: 1, to: 2, k: $k) { hops } }"
    )
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    most = 100 * SEARCH_WEIGHT + 100 + 2 * 2_000 + 10 * COMPUTE_WEIGHTS["learningPaths"]
    fields = 100 + 2_000 + 10  # an id of each node, a hops of each path
    assert operation_cost(document, operation, None, SIZES) == math.ceil(
        most + SCALAR_WEIGHT * fields
    )
    given = {"n": 5, "l": 7, "k": 2, "f": {"topic": "biology"}}
    objects, fields = 5 + 5 + 2 * 7 + 2 * 500, 5 + 7 + 2
    assert operation_cost(document, operation, given, SIZES) == math.ceil(
        objects + SCALAR_WEIGHT * fields
    )


def _arguments_and_input_fields(
    schema: strawberry.Schema,
) -> dict[str, GraphQLArgument | GraphQLInputField]:
    """``Type.field(argument)`` and ``Input.field`` → its definition, all of the live schema."""
    found: dict[str, GraphQLArgument | GraphQLInputField] = {}
    # graphql-core's form of the schema, from its printout (strawberry keeps its own private).
    for name, type_ in build_schema(str(schema)).type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                for arg_name, arg in field.args.items():
                    found[f"{name}.{field_name}({arg_name})"] = arg
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                found[f"{name}.{field_name}"] = input_field
    return found


def _default(definition: GraphQLArgument | GraphQLInputField) -> Any:
    """The default of an argument or input field as the SDL writes it; ``Undefined`` if none."""
    default = definition.default
    if default is None:
        return Undefined
    if default.literal is None:
        return default.value
    return value_from_ast_untyped(default.literal)


def _defaulted_arguments(schema: strawberry.Schema) -> dict[str, Any]:
    """``Type.field(argument)`` → its default, for every argument with a non-null default."""
    return {
        coordinate: _default(definition)
        for coordinate, definition in _arguments_and_input_fields(schema).items()
        if isinstance(definition, GraphQLArgument) and _default(definition) not in (Undefined, None)
    }


def test_every_default_is_nullable(schema: strawberry.Schema) -> None:
    """The contract's `first: Int = 20`: a default means null is allowed (and means it)."""
    defaulted = {
        coordinate: definition
        for coordinate, definition in _arguments_and_input_fields(schema).items()
        if _default(definition) is not Undefined
    }
    # 31 arguments with a value for default, besides the `= null` ones and PathOptions' fields.
    assert len(_defaulted_arguments(schema)) >= 31
    assert [c for c, d in defaulted.items() if isinstance(d.type, GraphQLNonNull)] == []
    assert "! = " not in str(schema)  # the SDL says so too


#: For every argument with a non-null default: a query giving it as null (the
#: same query without it is the default).
NULL_IS_DEFAULT = {
    "Query.articles(first)": "{ articles(first: null) { totalCount edges { cursor } } }",
    "Query.neighbours(direction)": "{ neighbours(id: 168904, direction: null) { nodes { distance article { articleId } } } }",
    "Query.neighbours(depth)": "{ neighbours(id: 168904, depth: null) { nodes { distance article { articleId } } } }",
    "Query.neighbours(first)": "{ neighbours(id: 168904, first: null) { nodes { distance article { articleId } } } }",
    "Query.learningPaths(k)": "{ learningPaths(from: 168904, to: 168912, k: null) { hops cost } }",
    "Query.learningPathSearch(k)": (
        "{ learningPathSearch(from: 168904, to: 168912, k: null) { paths { hops } } }"
    ),
    "Query.subgraph(depth)": "{ subgraph(center: [168904], depth: null) { nodes { id } edges { id } } }",
    "Query.subgraph(direction)": "{ subgraph(center: [168904], direction: null) { nodes { id } } }",
    "Query.subgraph(limit)": "{ subgraph(center: [168904], limit: null) { nodes { id } truncated } }",
    "Query.subgraph(layout)": "{ subgraph(center: [168904], layout: null) { nodes { id x y } } }",
    "Query.topicGraph(limit)": '{ topicGraph(key: "biology", limit: null) { nodes { id } } }',
    "Query.topicGraph(layout)": '{ topicGraph(key: "biology", layout: null) { nodes { x y } } }',
    "Query.topicMap(layout)": "{ topicMap(layout: null) { nodes { id x y } } }",
    "Query.readingOrder(first)": '{ readingOrder(topic: "biology", first: null) { nodes { articleId } } }',
    "Query.readingPlan(first)": '{ readingPlan(topic: "biology", first: null) { nodes { via } } }',
    "Query.similar(first)": "{ similar(id: 168904, first: null) { nodes { article { articleId } score } } }",
    "Article.backlinks(first)": "{ article(id: 168902) { backlinks(first: null) { nodes { articleId } } } }",
    "Article.linkedFrom(first)": "{ article(id: 168902) { linkedFrom(first: null) { totalCount } } }",
    "Article.prerequisites(first)": (
        "{ article(id: 168903) { prerequisites(first: null) { article { articleId } score } } }"
    ),
    "Article.missingLinks(first)": (
        "{ article(id: 168902) { missingLinks(first: null) { nodes { score } } } }"
    ),
    "WantedArticle.referrers(first)": (
        "{ curation { wantedArticles { nodes { referrers(first: null) { totalCount } } } } }"
    ),
    "Topic.articles(first)": '{ topic(key: "biology") { articles(first: null) { edges { cursor } } } }',
    "Island.articles(first)": "{ curation { islands { nodes { articles(first: null) { edges { cursor } } } } } }",
    "Curation.orphans(minInbound)": "{ curation { orphans(minInbound: null) { totalCount } } }",
    "Curation.overLinked(first)": "{ curation { overLinked(first: null) { nodes { inDegree } } } }",
    **{
        f"Curation.{name}(first)": f"{{ curation {{ {name}(first: null) {{ totalCount edges {{ cursor }} }} }} }}"
        for name in (
            "orphans deadEnds isolated wantedArticles brokenLinks duplicateLinks selfLinks"
            " staleLinks urlMismatches duplicateArticles islands linkSuggestions"
            " copyTakeovers parseErrors"
        ).split()
    },
}


def test_null_is_default_covers_every_defaulted_argument(schema: strawberry.Schema) -> None:
    assert set(NULL_IS_DEFAULT) == set(_defaulted_arguments(schema))


@pytest.mark.parametrize("coordinate", sorted(NULL_IS_DEFAULT))
def test_null_means_the_default(run: Run, coordinate: str) -> None:
    with_null = NULL_IS_DEFAULT[coordinate]
    left_out = re.sub(r",?\s*\b\w+: null", "", with_null).replace("()", "")
    assert "null" not in left_out
    assert data(run(with_null)) == data(run(left_out))


def test_articles_first_null_is_twenty(run: Run, seeds_graph: KnowledgeGraph) -> None:
    assert len(seeds_graph.articles) >= 20
    page = data(run("{ articles(first: null) { totalCount nodes { articleId } } }"))["articles"]
    assert len(page["nodes"]) == 20
    assert [n["articleId"] for n in page["nodes"]] == sorted(seeds_graph.articles)[:20]


def test_neighbours_null_arguments_are_their_defaults(run: Run) -> None:
    fields = "{ distance rank article { articleId } via { articleId } }"
    given = data(
        run(f"{{ neighbours(id: 168904, depth: null, direction: null) {{ nodes {fields} }} }}")
    )
    assert given == data(run(f"{{ neighbours(id: 168904) {{ nodes {fields} }} }}"))
    assert given == data(
        run(f"{{ neighbours(id: 168904, depth: 1, direction: OUT) {{ nodes {fields} }} }}")
    )
    assert given["neighbours"]
    by_variables = (
        "query($d: Int, $dir: Direction, $n: Int) {"
        f" neighbours(id: 168904, depth: $d, direction: $dir, first: $n) {{ nodes {fields} }} }}"
    )
    assert data(run(by_variables)) == given
    assert data(run(by_variables, d=None, dir=None, n=None)) == given


def test_nullable_variables_validate_unset_and_null(run: Run, schema: strawberry.Schema) -> None:
    query = "query($f: Int) { articles(first: $f) { totalCount nodes { articleId } } }"
    assert validate(build_schema(str(schema)), parse(query)) == []
    twenty = data(run("{ articles { totalCount nodes { articleId } } }"))
    assert data(run(query)) == twenty  # unset
    assert data(run(query, f=None)) == twenty
    assert len(data(run(query, f=3))["articles"]["nodes"]) == 3
    # Null overrides the variable's own default, and so means the argument's.
    assert data(
        run("query($f: Int = 3) { articles(first: $f) { nodes { articleId } } }", f=None)
    ) == {"articles": {"nodes": twenty["articles"]["nodes"]}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "query($f: Int) { articles(first: $f) { totalCount } }",
            "`first` must be between 1 and 100, got 0",
        ),
        (
            "query($f: Int) { neighbours(id: 168904, depth: null, first: $f) { nodes { distance } } }",
            "`first` must be between 1 and 100, got 0",
        ),
        (
            "{ neighbours(id: 168904, depth: 4, first: null) { nodes { distance } } }",
            "`depth` must be between 1 and 3, got 4",
        ),
        (
            "query($f: Int) { similar(id: 168904, first: $f) { nodes { score } } }",
            "`first` must be between 1 and 100, got 0",
        ),
        (
            "query($f: Int) { curation { orphans(minInbound: $f) { totalCount } } }",
            "`minInbound` must be between 1 and 1000, got 0",
        ),
        (
            "query($f: Int) { learningPaths(from: 168904, to: 168912, k: $f) { hops } }",
            "k must be between 1 and 10, not 0",
        ),
    ],
)
def test_values_given_are_still_checked(run: Run, query: str, message: str) -> None:
    assert error(run(query, f=0)).startswith(message)


def _cost(field: str, variables: dict[str, Any] | None, declared: str = "Int") -> int:
    """The cost of an operation selecting ``field`` (its arguments written in) once."""
    document = parse(f"query($v: {declared}) {{ {field} {{ x }} }}")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation_cost(document, operation, variables, SIZES)


def test_cost_counts_null_as_the_default(schema: strawberry.Schema) -> None:
    """A size argument given as null (literal, variable null or unset) costs its default."""
    sizes = [
        (coordinate.split(".")[1], default)  # Type.field(argument) → field(argument)
        for coordinate, default in _defaulted_arguments(schema).items()
        if re.search(r"\((first|limit|k)\)$", coordinate)
    ]
    assert len(sizes) >= 23
    for field, default in sizes:
        cost = _cost(field.replace(")", f": {default})"), {})
        assert cost > 0, field
        null, variable = field.replace(")", ": null)"), field.replace(")", ": $v)")
        assert _cost(null, {}) == cost, field
        assert _cost(null, None) == cost, field  # a literal: known without the variables
        assert _cost(variable, {"v": None}) == cost, field
        assert _cost(variable, {}) == cost, field
        # Null overrides the variable's default; left out, the variable's default counts.
        assert _cost(variable, {"v": None}, "Int = 7") == cost, field
        assert _cost(variable, {}, "Int = 7") == _cost(field.replace(")", ": 7)"), {}), field


def test_cost_limit_counts_null_as_the_default_not_as_nothing(run: Run) -> None:
    # topicGraph's limit is 500: fifteen of them (nodes and edges) are over the limit.
    graphs = " ".join(
        f'g{i}: topicGraph(key: "biology", limit: $l) {{ nodes {{ id }} edges {{ id }} }}'
        for i in range(15)
    )
    query = f"query($l: Int) {{ {graphs} }}"
    assert "over the limit" in error(run(query, l=None))
    assert "over the limit" in error(run(query))
    data(run(query, l=2))


def test_a_graph_still_loading_is_an_error_that_says_so(run: Run) -> None:
    assert "still loading" in error(run("{ stats { files } }", graph=None))


def test_schema_file_is_in_sync(schema: strawberry.Schema) -> None:
    """schema/schema.graphql is what `kgraph schema` prints: regenerate it when this fails."""
    assert (REPO / "schema" / "schema.graphql").read_text() == str(schema) + "\n"


def test_a_text_is_parsed_and_validated_once(
    run: Run, schema: strawberry.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(schema, KgraphSchema)
    parsed: list[Parser] = []
    parse_document = Parser.parse_document

    def counted(parser: Parser) -> Any:
        parsed.append(parser)
        return parse_document(parser)

    monkeypatch.setattr(Parser, "parse_document", counted)
    query = "{ stats { files topics } cacheProbe: stats { links } }"
    data(run(query))
    validations = schema.validator.runs
    data(run(query))
    data(run(query))
    assert len(parsed) == 1  # the first time only: strawberry's ParserCache has it
    assert schema.validator.runs == validations
    data(run(query.replace("cacheProbe", "otherProbe")))
    assert schema.validator.runs == validations + 1


def test_unexpected_errors_are_masked(run: Run, caplog: pytest.LogCaptureFixture) -> None:
    # A context whose graph is not a graph: every resolver fails unexpectedly.
    broken: Any = object()
    result = run("{ stats { files } }", graph=broken)
    assert [e.message for e in result.errors] == ["Internal server error: it has been logged."]
    assert "object" not in str(result.errors[0].formatted)
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)


def _undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value of ``schema`` lacking a description."""
    missing: list[str] = []
    for name, kind in schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({argument_name}:)"
                    for argument_name, argument in field.args.items()
                    if not argument.description
                ]
        elif isinstance(kind, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in kind.fields.items() if not field.description]
        elif isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in kind.values.items() if not value.description]
    return missing


def test_the_check_finds_what_lacks_a_description() -> None:
    sdl = '"""A."""\ntype Query { a(b: Int): E }\n"""E."""\nenum E { X }'
    assert _undescribed(build_schema(sdl)) == ["Query.a", "Query.a(b:)", "E.X"]


def test_every_type_field_argument_and_enum_value_has_a_description(
    schema: strawberry.Schema,
) -> None:
    """The live schema, as a client's introspection sees it."""
    result = schema.execute_sync(get_introspection_query(descriptions=True))
    assert result.errors is None, result.errors
    live = build_client_schema(result.data)  # type: ignore[arg-type]
    assert len(live.type_map) > 50
    assert _undescribed(live) == []


def test_article_by_a_one_of_lookup(run: Run) -> None:
    by_id = data(run("{ article(by: {id: 168904}) { articleId } }"))["article"]
    url = "/learn/others/questions/what-is-the-scientific-method"
    by_url = data(run("query($b: ArticleLookup) { article(by: $b) { articleId } }", b={"url": url}))
    assert by_id == {"articleId": 168904}
    assert by_url == data(run(f'{{ article(url: "{url}") {{ articleId }} }}'))
    # Exactly one of id and url: validation says so for literals, coercion for variables.
    both = run('{ article(by: {id: 168904, url: "/x"}) { articleId } }')
    assert both.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "exactly one" in error(both)
    variable = run(
        "query($b: ArticleLookup) { article(by: $b) { articleId } }", b={"id": 168904, "url": "/x"}
    )
    assert "exactly one key" in error(variable)
    assert "not both" in error(run("{ article(id: 168904, by: {id: 168904}) { articleId } }"))
    assert "@oneOf" in str(create_schema()).split("input ArticleLookup")[1].split("{")[0]

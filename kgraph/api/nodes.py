"""Relay's object identification: the object a global id names, in the graph served."""

from __future__ import annotations

import re

from strawberry import relay

from kgraph.api.pagination import MAX_FIRST
from kgraph.api.types import Article, Topic, WantedArticle
from kgraph.graph import KnowledgeGraph

__all__ = ["MAX_NODES", "find_node"]

_NUMBER = re.compile(r"-?[0-9]{1,18}")

#: The most global ids one ``nodes`` call takes: a page's worth.
MAX_NODES = MAX_FIRST


def find_node(kg: KnowledgeGraph, global_id: relay.GlobalID) -> relay.Node | None:
    """The Article, Topic or WantedArticle ``global_id`` names; ``None`` where ``kg`` has none.

    A global id is the base64 of the type's name and the object's own key
    (an article's numeric id, a topic's key), so it names the same object in
    every graph version that holds it.
    """
    key = global_id.node_id
    if global_id.type_name == "Topic":
        topic = kg.topics.get(key)
        return Topic(_topic=topic) if topic is not None else None
    if _NUMBER.fullmatch(key) is None:  # ids may be negative: the seeds hold -1
        return None
    if global_id.type_name == "Article":
        article = kg.articles.get(int(key))
        return Article(_article=article) if article is not None else None
    if global_id.type_name == "WantedArticle":
        wanted = kg.wanted.get(int(key))
        return WantedArticle(_wanted=wanted) if wanted is not None else None
    return None

"""Call the resolvers of plain fields directly, without strawberry's per-field wrapping.

Most fields of the schema are methods that read a value off the object they
belong to (``Article.title``) or look one up in the graph (``Query.article``,
``Article.inDegree``): arguments of scalar types at most, no permission or
extension. Strawberry still calls each through its generic wrapping (argument
conversion, an extension chain), some 15-25 µs a field: a third of a small
query's time. For those fields, and only those, the graphql-core field of the
built schema calls the method itself, with the arguments graphql-core already
coerced (renamed to their Python names) and strawberry's ``Info`` where the
method asks for it. What a field returns, and what an error raised in it
becomes, is unchanged: graphql-core completes and reports both, as it does
behind the wrapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
)
from strawberry.types.field import StrawberryField
from strawberry.types.unset import UNSET

__all__ = ["resolve_plain_fields_directly"]


def resolve_plain_fields_directly(schema: strawberry.Schema) -> list[str]:
    """Make the plain fields of ``schema`` call their methods directly.

    Returns the ``Type.field`` names it changed, sorted.
    """
    changed: list[str] = []
    names = schema.config.name_converter
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        definition = schema.get_type_by_name(graphql_type.name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            resolve = _direct(schema, field)
            if resolve is None:
                continue
            name = names.get_graphql_name(field)
            graphql_type.fields[name].resolve = resolve
            changed.append(f"{graphql_type.name}.{name}")
    return sorted(changed)


#: Argument types graphql-core coerces to the very values strawberry would pass.
_PLAIN_ARGUMENTS = (int, str, bool, float)


def _direct(schema: strawberry.Schema, field: StrawberryField) -> Callable[..., Any] | None:
    """The direct resolver of ``field``; ``None`` unless it is a plain method of its object."""
    resolver = field.base_resolver
    if (
        resolver is None  # an attribute: strawberry reads it directly already
        or field.extensions
        or field.permission_classes
        or field.directives
        or field.is_subscription
        or resolver.is_async
        or resolver.self_parameter is None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        # A subclass may resolve in its own way.
        or type(field).get_result is not StrawberryField.get_result
        or not all(_plain(argument) for argument in resolver.arguments)
        or _exception_handlers(schema, field)
    ):
        return None
    method = resolver.wrapped_func
    if not callable(method) or isinstance(method, staticmethod | classmethod):
        return None
    names = schema.config.name_converter
    renamed = {
        names.get_graphql_name(argument): argument.python_name
        for argument in resolver.arguments
        if names.get_graphql_name(argument) != argument.python_name
    }
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = schema.config.info_class

    if info_name is None and not resolver.arguments:

        def resolve_plain(source: Any, info: Any) -> Any:
            return method(source)

        return resolve_plain

    def resolve(source: Any, info: Any, **arguments: Any) -> Any:
        if renamed:
            arguments = {renamed.get(name, name): value for name, value in arguments.items()}
        if info_name is not None:
            arguments[info_name] = info_class(_raw_info=info, _field=field)
        return method(source, **arguments)

    return resolve


def _plain(argument: StrawberryArgument) -> bool:
    """Tell whether ``argument`` takes a scalar, or an optional or list of one.

    Not a ``Maybe`` (strawberry wraps its value), nor a list with a default
    (strawberry copies the default per request; graphql-core shares it).
    """
    kind = argument.type
    while isinstance(kind, StrawberryOptional | StrawberryList):
        if isinstance(kind, StrawberryMaybe) or (
            isinstance(kind, StrawberryList) and argument.default is not UNSET
        ):
            return False
        kind = kind.of_type
    return kind in _PLAIN_ARGUMENTS


def _exception_handlers(schema: strawberry.Schema, field: StrawberryField) -> bool:
    """Tell whether strawberry would convert exceptions of ``field`` (unknown: yes)."""
    handlers = getattr(schema.schema_converter, "_get_field_exception_handlers", None)
    return handlers is None or bool(handlers(field))

"""Registry Stored Query (ITI-18, ITI TF-2 3.18): the registry side.

    response = answer_stored_query(conn, adhoc_query_request_element, QueryOptions())

`answer_stored_query` decodes a query:AdhocQueryRequest into a typed `StoredQuery`, runs the
stored query's function against the store and answers a query:AdhocQueryResponse.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from sqlalchemy import Connection

from profiles.errors import ErrorCode, Issue
from profiles.responses import adhoc_query_response


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """Registry policy for ITI-18 answers.

    `result_limit`: more results than this → XDSTooManyResults (ITI TF-2 3.18.4.1.3).
    `home_community_id`: when set, written as `home` on returned objects (XCA responding
    gateway, ITI TF-2 3.38.4.1.3); None for a plain XDS registry.
    """

    result_limit: int = 1000
    home_community_id: str | None = None


def answer_stored_query(conn: Connection, request: etree._Element,
                        options: QueryOptions = QueryOptions()) -> etree._Element:
    """query:AdhocQueryResponse answering the query:AdhocQueryRequest `request`."""
    return adhoc_query_response(
        [Issue(ErrorCode.REGISTRY_ERROR, "stored queries are not implemented yet")], [])


__all__ = ["QueryOptions", "answer_stored_query"]

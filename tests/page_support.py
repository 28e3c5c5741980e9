"""What a test reads from an answer: a page's text as a reader sees it, and
how many queries a GET took."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def visible_text(html: str) -> str:
    """``html`` without its tags, its white space folded to single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def text(response) -> str:
    return visible_text(response.content.decode())


def queries(client, path: str) -> int:
    """How many queries ``client`` GETting ``path`` took (the answer must be 200)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)

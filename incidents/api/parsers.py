"""Request body parsers of the REST API (``DEFAULT_PARSER_CLASSES``).

JSON goes through ``incidents.safejson`` so NaN, huge integers, deep
nesting, NUL characters and lone surrogates are refused once, here, with a
400 that names where they are, before any serializer, service or
PostgreSQL sees them. Form and multipart bodies (the browsable API) get the
same text check: ``%00`` decodes to a NUL there too.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request

from ..safejson import JsonInputError, loads, text_problem


def _refuse(message: str, field: str | None):
    if field:
        raise ValidationError({field: [message]})
    raise ParseError(message)


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        if encoding.lower().replace("-", "") != "utf8":
            try:
                raw = raw.decode(encoding)
            except (LookupError, UnicodeDecodeError) as exc:
                raise ParseError(f"The body is not valid {encoding}: {exc}") from None
        try:
            return loads(raw)
        except JsonInputError as exc:
            _refuse(exc.message, exc.field)


def _check_fields(data) -> None:
    for key, values in data.lists():
        if reason := text_problem(key):
            _refuse(f"A field name {reason}.", None)
        for value in values:
            if reason := text_problem(value):
                _refuse(f"{key} {reason}.", key)


class SafeFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_fields(data)
        return data


class SafeMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_fields(result.data)
        return result


def read_body(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The request body as ``serializer_class`` reads it; a 400 naming the
    field if it cannot. The views' one way to take input: the rules are the
    services' (STYLE.md: serializers validate and present)."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)

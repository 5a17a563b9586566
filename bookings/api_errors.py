"""One JSON error shape for the whole API, and its description in the OpenAPI schema.

Every error answers `{"error": {"code": ..., "message": ..., "fields": {...}}}`; a typed
BookingError keeps its own status (409 slot taken, 400, 403) and code.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import BookingError


def _body(code: str, message, fields=None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def api_exception_handler(exc, context):
    if isinstance(exc, BookingError):
        return Response(_body(exc.code, exc.message), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = _body("invalid", exceptions.ValidationError.default_detail, fields)
        return response
    data = response.data
    detail = data.get("detail", exc.default_detail) if isinstance(data, dict) else exc.default_detail
    code = getattr(detail, "code", None) or (data.get("code") if isinstance(data, dict) else None)
    response.data = _body(str(code or exc.default_code), detail)
    return response


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_STATUSES = {
    "400": "Invalid input or a booking rule not met.",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found, or not visible to you.",
    "409": "The slot has just been taken.",
    "429": "Too many requests.",
}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents the error shape for its error statuses."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": True},
        },
        "required": ["code", "message", "fields"],
    }
    schemas["Error"] = {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        "required": ["error"],
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERROR_STATUSES.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that names no endpoint: the same JSON shape, not Django's HTML page."""
    return JsonResponse(_body("not_found", exceptions.NotFound.default_detail), status=404)

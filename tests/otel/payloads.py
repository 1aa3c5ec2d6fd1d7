"""OTLP export requests built with the official protobuf messages, in both encodings."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list | tuple):
        return AnyValue(array_value=ArrayValue(values=[any_value(item) for item in value]))
    return AnyValue(string_value=str(value))


def attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in values.items()]


def new_span(
    values: dict[str, Any],
    *,
    trace_id: bytes | None = None,
    span_id: bytes | None = None,
    parent: bytes = b"",
    failed: bool = False,
    ended_ns: int | None = None,
) -> Span:
    """A span that ended just now (or at `ended_ns`) after 250 ms."""
    end = ended_ns or time.time_ns()
    return Span(
        trace_id=trace_id or os.urandom(16),
        span_id=span_id or os.urandom(8),
        parent_span_id=parent,
        name="chat",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=end - 250_000_000,
        end_time_unix_nano=end,
        attributes=attributes(values),
        status=Status(code=Status.STATUS_CODE_ERROR if failed else Status.STATUS_CODE_UNSET),
    )


def export_request(
    spans: list[Span], resource: dict[str, Any] | None = None
) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])
    resource_spans.resource.attributes.extend(attributes(resource or {}))
    request.resource_spans.append(resource_spans)
    return request


def as_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """The OTLP JSON encoding: protobuf's JSON mapping with hex trace and span ids."""
    document = json_format.MessageToDict(request)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for name in ("traceId", "spanId", "parentSpanId"):
                    if name in span:
                        span[name] = _base64_to_hex(span[name])
    return json.dumps(document).encode()


def _base64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def read_response(content: bytes, content_type: str) -> ExportTraceServiceResponse:
    message = ExportTraceServiceResponse()
    if content_type.startswith("application/json"):
        json_format.Parse(content, message)
    else:
        message.ParseFromString(content)
    return message

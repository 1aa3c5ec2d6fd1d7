"""OTLP/HTTP bodies in and out: the two encodings (binary protobuf, OTLP JSON), gzip bounded
by the body limit, and spans turned into plain `SpanRecord`s for the mapping.

Decoding uses the official `opentelemetry-proto` messages; OTLP JSON is protobuf's JSON
mapping except that trace and span ids are hex instead of base64, which `_hex_ids_to_base64`
rewrites before `json_format` reads the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.proto.trace.v1.trace_pb2 import Status as SpanStatus

from llmlab_app.otel.genai import SpanRecord

Encoding = Literal["protobuf", "json"]
MEDIA_TYPES: Mapping[Encoding, str] = {
    "protobuf": "application/x-protobuf",
    "json": "application/json",
}


class PayloadError(Exception):
    """A request the receiver refuses as a whole; `status_code` is the HTTP answer."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedMediaType(PayloadError):
    status_code = 415


class PayloadTooLarge(PayloadError):
    status_code = 413


def request_encoding(content_type: str | None) -> Encoding:
    """The encoding a `Content-Type` names; anything but OTLP's two is a 415."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    for encoding, name in MEDIA_TYPES.items():
        if media_type == name:
            return encoding
    raise UnsupportedMediaType(
        f"unsupported Content-Type {media_type or '(none)'!r}: send application/x-protobuf "
        "or application/json (OTLP/HTTP)"
    )


def decompressed(body: bytes, content_encoding: str | None, *, max_bytes: int) -> bytes:
    """The body without its `Content-Encoding` (none or gzip), refused once it would grow
    past `max_bytes`: a small gzip bomb never becomes a big buffer."""
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise UnsupportedMediaType(
            f"unsupported Content-Encoding {coding!r}: send gzip or an uncompressed body"
        )
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        # One byte more than allowed is enough to know the body is too large.
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise PayloadError(f"the body is not valid gzip ({exc})") from exc
    if len(out) > max_bytes:
        raise PayloadTooLarge(f"decompressed body larger than {max_bytes} bytes")
    if not inflater.eof:
        raise PayloadError("the gzip body is truncated")
    return out


def decode_traces(payload: bytes, encoding: Encoding) -> ExportTraceServiceRequest:
    """An `ExportTraceServiceRequest` from a body in either encoding; 400 when it is not one."""
    message = ExportTraceServiceRequest()
    if encoding == "protobuf":
        try:
            message.ParseFromString(payload)
        except DecodeError as exc:
            raise PayloadError(f"the body is not an ExportTraceServiceRequest ({exc})") from exc
        return message
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"the body is not JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise PayloadError("the body is not an OTLP JSON object")
    try:
        json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise PayloadError(f"the body is not an OTLP JSON trace export ({exc})") from exc
    return message


_ID_FIELDS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


def _hex_ids_to_base64(document: dict[str, Any]) -> dict[str, Any]:
    """OTLP JSON writes trace and span ids as hex; protobuf's JSON mapping reads bytes as
    base64. Rewrites the ids of spans and their links in place."""
    for resource_spans in _objects(document, "resourceSpans", "resource_spans"):
        for scope_spans in _objects(resource_spans, "scopeSpans", "scope_spans"):
            for span in _objects(scope_spans, "spans"):
                _rewrite_ids(span)
                for link in _objects(span, "links"):
                    _rewrite_ids(link)
    return document


def _objects(parent: Any, *names: str) -> Iterator[dict[str, Any]]:
    if not isinstance(parent, dict):
        return
    for name in names:
        items = parent.get(name)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, dict))


def _rewrite_ids(item: dict[str, Any]) -> None:
    for name in _ID_FIELDS:
        value = item.get(name)
        if not isinstance(value, str):
            continue
        try:
            item[name] = base64.b64encode(bytes.fromhex(value)).decode()
        except ValueError as exc:
            raise PayloadError(f"{name} {value!r} is not hex (OTLP JSON ids are hex)") from exc


def span_records(request: ExportTraceServiceRequest) -> Iterator[SpanRecord]:
    """Each span of the request with its resource's attributes, as plain values."""
    for resource_spans in request.resource_spans:
        resource = attribute_values(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield _record(span, resource)


def _record(span: Span, resource: Mapping[str, Any]) -> SpanRecord:
    return SpanRecord(
        trace_id=binascii.hexlify(span.trace_id).decode(),
        span_id=binascii.hexlify(span.span_id).decode(),
        parent_span_id=binascii.hexlify(span.parent_span_id).decode(),
        name=span.name,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        failed=span.status.code == SpanStatus.STATUS_CODE_ERROR,
        attributes=attribute_values(span.attributes),
        resource=resource,
    )


def attribute_values(attributes: Any) -> dict[str, Any]:
    """`KeyValue`s as a dict of Python values (lists for arrays, dicts for kvlists)."""
    return {item.key: _value(item.value) for item in attributes}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attribute_values(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def traces_response(rejected_spans: int, message: str, encoding: Encoding) -> bytes:
    """An `ExportTraceServiceResponse`, with `partial_success` when spans were rejected."""
    response = ExportTraceServiceResponse()
    if rejected_spans or message:
        response.partial_success.rejected_spans = rejected_spans
        response.partial_success.error_message = message
    return encoded(response, encoding)


def error_status(code: int, message: str, encoding: Encoding) -> bytes:
    """The body of a 4xx/5xx answer: a `google.rpc.Status`, as OTLP/HTTP specifies."""
    return encoded(Status(code=code, message=message), encoding)


def encoded(message: Message, encoding: Encoding) -> bytes:
    if encoding == "protobuf":
        return message.SerializeToString()
    return json_format.MessageToJson(message, indent=None).encode()

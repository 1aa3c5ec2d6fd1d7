"""Watch streamed responses go by, and record the call when the stream ends.

The official OpenAI and Anthropic ``Stream``/``AsyncStream`` objects are instrumented in place
(their inner iterator is swapped), so the caller gets back the very object the client returned.
Plain generators (``google-genai``'s ``generate_content_stream``, user generators) are wrapped in
a generator of the same kind.
"""

from __future__ import annotations

import logging
import types
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any

from llmlab_sdk.calls import CallInProgress
from llmlab_sdk.events import Status
from llmlab_sdk.usage_extraction import StreamUsageAccumulator

logger = logging.getLogger("llmlab")

_CLIENT_PACKAGES = frozenset({"openai", "anthropic"})

# What a result of a given class is: decided once per class, as the checks involve ABCs and
# attribute look-ups that are slow on pydantic models and run on every tracked call.
_RESULT_KINDS: dict[type, str] = {}


def _kind_of_class(cls: type) -> str:
    for base in cls.__mro__:
        if base.__module__.partition(".")[0] in _CLIENT_PACKAGES:
            if base.__name__ == "Stream":
                return "client_stream"
            if base.__name__ == "AsyncStream":
                return "client_async_stream"
    if issubclass(cls, types.GeneratorType):
        return "generator"
    if issubclass(cls, types.AsyncGeneratorType):
        return "async_generator"
    if issubclass(cls, types.CoroutineType):  # not futures: their callers need the future itself
        return "coroutine"
    return "value"


def _kind_of(result: Any) -> str:
    cls = type(result)
    kind = _RESULT_KINDS.get(cls)
    if kind is None:
        kind = _RESULT_KINDS[cls] = _kind_of_class(cls)
    return kind


def _is_injected_usage_chunk(chunk: Any) -> bool:
    """The extra final chunk OpenAI sends for ``include_usage``: usage and no choices."""
    return getattr(chunk, "usage", None) is not None and getattr(chunk, "choices", None) == []


def observe_chunk(accumulator: StreamUsageAccumulator, chunk: Any) -> None:
    """Feed one chunk to ``accumulator``; a chunk it cannot read is skipped, never raised."""
    try:
        accumulator.observe(chunk)
    except Exception:
        logger.debug("llmlab: could not read a stream chunk", exc_info=True)


def _step(iterator: Iterator[Any], call: CallInProgress) -> Any:
    """The next item of a generator, run inside ``call`` (its code may make tracked calls)."""
    with call.enclosing():
        return next(iterator)


async def _async_step(iterator: AsyncIterator[Any], call: CallInProgress) -> Any:
    with call.enclosing():
        return await anext(iterator)


def _steps(iterator: Iterator[Any], call: CallInProgress) -> Iterator[Any]:
    while True:
        try:
            item = _step(iterator, call)
        except StopIteration:
            return
        yield item


async def _async_steps(iterator: AsyncIterator[Any], call: CallInProgress) -> AsyncIterator[Any]:
    while True:
        try:
            item = await _async_step(iterator, call)
        except StopAsyncIteration:
            return
        yield item


def track_sync_stream(
    iterator: Iterator[Any], call: CallInProgress, hide_usage_chunk: bool = False
) -> Iterator[Any]:
    """Yield what ``iterator`` yields; record the call when it ends, fails or is closed."""
    accumulator = StreamUsageAccumulator(call.options.provider)
    status: Status = "success"
    items = _steps(iterator, call) if isinstance(iterator, types.GeneratorType) else iterator
    try:
        for chunk in items:
            observe_chunk(accumulator, chunk)
            if hide_usage_chunk and _is_injected_usage_chunk(chunk):
                continue
            yield chunk
    except Exception:
        status = "error"
        raise
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        call.finish_with_stream(accumulator, status)


async def track_async_stream(
    iterator: AsyncIterator[Any], call: CallInProgress, hide_usage_chunk: bool = False
) -> AsyncIterator[Any]:
    """Async twin of :func:`track_sync_stream`."""
    accumulator = StreamUsageAccumulator(call.options.provider)
    status: Status = "success"
    items = (
        _async_steps(iterator, call) if isinstance(iterator, types.AsyncGeneratorType) else iterator
    )
    try:
        async for chunk in items:
            observe_chunk(accumulator, chunk)
            if hide_usage_chunk and _is_injected_usage_chunk(chunk):
                continue
            yield chunk
    except Exception:
        status = "error"
        raise
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
        call.finish_with_stream(accumulator, status)


async def track_coroutine(
    coroutine: Coroutine[Any, Any, Any], call: CallInProgress, hide_usage_chunk: bool = False
) -> Any:
    """For a plain function that returns a coroutine (as some async clients' methods do)."""
    try:
        with call.enclosing():
            result = await coroutine
    except Exception:
        call.finish("error", None)
        raise
    return track_result(result, call, hide_usage_chunk)


def track_result(result: Any, call: CallInProgress, hide_usage_chunk: bool = False) -> Any:
    """Record ``result`` now, or instrument it if it is a stream; returns what the caller gets.

    A result a call inside ``call`` has taken on recording (a wrapped client's response or
    stream returned by a decorated function) is returned untouched.
    """
    if call.covered:
        call.finish("success", None)
        return result
    try:
        kind = _kind_of(result)
        if kind != "value" and kind != "coroutine":
            call.cover_enclosing_calls()  # the stream records when it ends, maybe later
        if kind == "value":
            call.finish_with_result(result)
        elif kind == "coroutine":
            return track_coroutine(result, call, hide_usage_chunk)
        elif kind == "client_stream":
            result._iterator = track_sync_stream(result._iterator, call, hide_usage_chunk)
        elif kind == "client_async_stream":
            result._iterator = track_async_stream(result._iterator, call, hide_usage_chunk)
        elif kind == "generator":
            return track_sync_stream(result, call, hide_usage_chunk)
        else:
            return track_async_stream(result, call, hide_usage_chunk)
    except Exception:
        logger.exception("llmlab: could not instrument a %s", type(result).__name__)
    return result

"""``@track_cost``: record what a function's LLM call cost, whatever kind of function it is."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, overload

from llmlab_sdk.calls import CallInProgress, CallOptions, enter, leave, start_call
from llmlab_sdk.events import Status
from llmlab_sdk.streams import observe_chunk, track_result
from llmlab_sdk.tracker import current_tracker
from llmlab_sdk.usage_extraction import StreamUsageAccumulator

F = TypeVar("F", bound=Callable[..., Any])


def instrument(func: F, options: CallOptions) -> F:
    """``func`` with every call tracked under ``options`` (same signature, docstring and kind)."""
    if inspect.isasyncgenfunction(func):
        return _instrument_async_generator(func, options)  # type: ignore[return-value]
    if inspect.isgeneratorfunction(func):
        return _instrument_generator(func, options)  # type: ignore[return-value]
    if inspect.iscoroutinefunction(func):
        return _instrument_coroutine(func, options)  # type: ignore[return-value]
    return _instrument_function(func, options)  # type: ignore[return-value]


def _instrument_function(func: Callable[..., Any], options: CallOptions) -> Callable[..., Any]:
    @functools.wraps(func)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        tracker = current_tracker()
        if not tracker.active:
            return func(*args, **kwargs)
        call = start_call(tracker, options)
        token = enter(call)
        try:
            result = func(*args, **kwargs)
        except Exception:
            call.finish("error", None)
            raise
        finally:
            leave(token)
        return track_result(result, call)

    return tracked


def _instrument_coroutine(func: Callable[..., Any], options: CallOptions) -> Callable[..., Any]:
    @functools.wraps(func)
    async def tracked(*args: Any, **kwargs: Any) -> Any:
        tracker = current_tracker()
        if not tracker.active:
            return await func(*args, **kwargs)
        call = start_call(tracker, options)
        token = enter(call)
        try:
            result = await func(*args, **kwargs)
        except Exception:
            call.finish("error", None)
            raise
        finally:
            leave(token)
        return track_result(result, call)

    return tracked


def _instrument_generator(func: Callable[..., Any], options: CallOptions) -> Callable[..., Any]:
    @functools.wraps(func)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        tracker = current_tracker()
        if not tracker.active:
            return (yield from func(*args, **kwargs))
        call = start_call(tracker, options)
        accumulator = StreamUsageAccumulator(options.provider)
        status: Status = "success"
        generator = func(*args, **kwargs)
        try:
            # Written out instead of ``yield from`` so each item can be looked at, while send()
            # and throw() still reach the user's generator exactly as before. Each step runs
            # inside the call, so tracked calls the generator makes are attributed to it.
            with call.enclosing():
                item = next(generator)
            while True:
                observe_chunk(accumulator, item)
                try:
                    sent = yield item
                except GeneratorExit:
                    generator.close()
                    raise
                except BaseException as exc:
                    with call.enclosing():
                        item = generator.throw(exc)
                else:
                    with call.enclosing():
                        item = generator.send(sent)
        except StopIteration as stop:
            return stop.value
        except Exception:
            status = "error"
            raise
        finally:
            call.finish_with_stream(accumulator, status)

    return tracked


def _instrument_async_generator(
    func: Callable[..., Any], options: CallOptions
) -> Callable[..., Any]:
    @functools.wraps(func)
    async def tracked(*args: Any, **kwargs: Any) -> Any:
        tracker = current_tracker()
        call = start_call(tracker, options) if tracker.active else None
        accumulator = StreamUsageAccumulator(options.provider)
        status: Status = "success"
        generator = func(*args, **kwargs)
        try:
            with _inside(call):
                item = await generator.__anext__()
            while True:
                if call is not None:
                    observe_chunk(accumulator, item)
                try:
                    sent = yield item
                except GeneratorExit:
                    await generator.aclose()
                    raise
                except BaseException as exc:
                    with _inside(call):
                        item = await generator.athrow(exc)
                else:
                    with _inside(call):
                        item = await generator.asend(sent)
        except StopAsyncIteration:
            return
        except Exception:
            status = "error"
            raise
        finally:
            if call is not None:
                call.finish_with_stream(accumulator, status)

    return tracked


def _inside(call: CallInProgress | None) -> AbstractContextManager[None]:
    return nullcontext() if call is None else call.enclosing()


@overload
def track_cost(func: F, /) -> F: ...


@overload
def track_cost(
    *,
    project: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    end_user: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    model: str | None = None,
    provider: str | None = None,
) -> Callable[[F], F]: ...


def track_cost(
    func: F | None = None,
    /,
    *,
    project: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    end_user: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    model: str | None = None,
    provider: str | None = None,
) -> F | Callable[[F], F]:
    """Track the cost of every call of the decorated function.

    Use bare (``@track_cost``) or with attribution (``@track_cost(project="search",
    tags=["rerank"])``). Works on sync and async functions and on sync and async generators.
    Usage is read from what the function returns (or yields): OpenAI, Anthropic and Google
    responses, their streams, their raw JSON, or a tuple holding one of those. ``model`` and
    ``provider`` name the model for functions whose return value does not (raw text plus a
    usage dict), and win over what the response says.

    Tracked calls made inside the function (a ``wrap()``-ed client, another decorated function)
    record one event per provider response, carrying this decorator's project, tags, end user
    and metadata; the decorator then records nothing of its own, so nothing is counted twice.

    The function's return value, signature, docstring and exceptions are unchanged. A call that
    raises is recorded as a failed call with no cost, and the exception propagates as is. With
    ``enforce_budget=True`` configured, a call covered by an exceeded hard-limit budget raises
    :class:`~llmlab_sdk.BudgetExceededError` before the function runs.
    """
    options = CallOptions(
        project=project,
        tags=tuple(tags),
        end_user=end_user,
        metadata=dict(metadata or {}),
        model=model,
        provider=provider,
    )
    if func is not None:
        return instrument(func, options)
    return lambda f: instrument(f, options)

"""``wrap(client)``: track every call an official OpenAI, Anthropic or Google client makes.

The client instance is instrumented in place (its resource objects get tracked methods), so
code keeps using the same object. Clients derived later with ``with_options()`` /
``copy()`` are new instances and need their own ``wrap()``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from llmlab_sdk.calls import CallOptions, cover, enclosing_call, start_call
from llmlab_sdk.streams import track_result
from llmlab_sdk.tracker import current_tracker
from llmlab_sdk.usage_extraction import ANTHROPIC, GOOGLE, OPENAI

logger = logging.getLogger("llmlab")

ClientT = TypeVar("ClientT")
PrepareArgs = Callable[[dict[str, Any]], tuple[dict[str, Any], bool]]

_WRAPPED_MARK = "__llmlab_tracked__"

# (attribute path to a resource, method name) per client family; ``stream`` methods return
# stream managers. OpenAI's ``stream()`` helpers are left out: they call ``create()``, which is
# tracked already (Anthropic's ``messages.stream()`` posts by itself).
_METHODS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    OPENAI: (
        (("chat", "completions"), "create"),
        (("chat", "completions"), "parse"),
        (("responses",), "create"),
        (("responses",), "parse"),
        (("completions",), "create"),
        (("embeddings",), "create"),
    ),
    ANTHROPIC: (
        (("messages",), "create"),
        (("messages",), "stream"),
    ),
    GOOGLE: (
        (("models",), "generate_content"),
        (("models",), "generate_content_stream"),
        (("aio", "models"), "generate_content"),
        (("aio", "models"), "generate_content_stream"),
    ),
}


def _ask_openai_for_stream_usage(kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Add ``stream_options.include_usage`` to a streamed chat call that did not say.

    Returns the arguments and whether the usage chunk was added by us (and so must be kept
    from the caller, who did not ask for a chunk without choices).
    """
    if kwargs.get("stream") is not True:
        return kwargs, False
    stream_options = kwargs.get("stream_options")
    if isinstance(stream_options, Mapping) and "include_usage" in stream_options:
        return kwargs, False
    extra = dict(stream_options) if isinstance(stream_options, Mapping) else {}
    return {**kwargs, "stream_options": {**extra, "include_usage": True}}, True


_PREPARE: dict[tuple[str, tuple[str, ...], str], PrepareArgs] = {
    (OPENAI, ("chat", "completions"), "create"): _ask_openai_for_stream_usage,
}


def _tracked_method(
    method: Callable[..., Any], options: CallOptions, prepare: PrepareArgs | None
) -> Callable[..., Any]:
    def prepared(kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        if prepare is None:
            return kwargs, False
        try:
            return prepare(kwargs)
        except Exception:
            logger.exception("llmlab: could not prepare the call's arguments")
            return kwargs, False

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def tracked_async(*args: Any, **kwargs: Any) -> Any:
            tracker = current_tracker()
            if not tracker.active:
                return await method(*args, **kwargs)
            kwargs, hide_usage_chunk = prepared(kwargs)
            call = start_call(
                tracker, options, model_hint=_model_argument(kwargs), client_call=True
            )
            try:
                result = await method(*args, **kwargs)
            except Exception:
                call.finish("error", None)
                raise
            return track_result(result, call, hide_usage_chunk)

        return tracked_async

    @functools.wraps(method)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        tracker = current_tracker()
        if not tracker.active:
            return method(*args, **kwargs)
        kwargs, hide_usage_chunk = prepared(kwargs)
        call = start_call(tracker, options, model_hint=_model_argument(kwargs), client_call=True)
        try:
            result = method(*args, **kwargs)
        except Exception:
            call.finish("error", None)
            raise
        return track_result(result, call, hide_usage_chunk)

    return tracked


def _model_argument(kwargs: Mapping[str, Any]) -> str | None:
    model = kwargs.get("model")
    return model if isinstance(model, str) else None


def _tracked_stream_manager(
    method: Callable[..., Any], options: CallOptions, prepare: PrepareArgs | None
) -> Callable[..., Any]:
    """For the ``.stream(...)`` helpers, which return a manager that makes the request on
    ``__enter__``: the manager's request function is swapped so that the raw stream it returns
    gets instrumented (the helpers of both OpenAI and Anthropic keep it as ``__api_request``)."""

    @functools.wraps(method)
    def tracked_stream(*args: Any, **kwargs: Any) -> Any:
        tracker = current_tracker()
        if not tracker.active:
            return method(*args, **kwargs)
        hide_usage_chunk = False
        if prepare is not None:
            try:
                kwargs, hide_usage_chunk = prepare(kwargs)
            except Exception:
                logger.exception("llmlab: could not prepare the call's arguments")
        manager = method(*args, **kwargs)
        attribute = f"_{type(manager).__name__}__api_request"
        api_request = getattr(manager, attribute, None)
        if api_request is None:
            logger.warning("llmlab: %s is not tracked in this version", type(manager).__name__)
            return manager
        model = _model_argument(kwargs)
        # The request is made on the manager's ``__enter__``, maybe after a decorated function
        # that returned the manager has ended: it still belongs to that function's call.
        parent = enclosing_call()
        cover(parent)

        def tracked_request() -> Any:
            call = start_call(tracker, options, model, client_call=True, parent=parent)
            try:
                raw_stream = api_request()
            except Exception:
                call.finish("error", None)
                raise
            return track_result(raw_stream, call, hide_usage_chunk)

        async def tracked_request_async() -> Any:
            call = start_call(tracker, options, model, client_call=True, parent=parent)
            try:
                raw_stream = await api_request
            except Exception:
                call.finish("error", None)
                raise
            return track_result(raw_stream, call, hide_usage_chunk)

        # The async manager holds the request as a coroutine to await, the sync one as a function.
        if inspect.isawaitable(api_request):
            setattr(manager, attribute, tracked_request_async())
        else:
            setattr(manager, attribute, tracked_request)
        return manager

    return tracked_stream


def _client_family(client: Any) -> str | None:
    module = type(client).__module__.split(".")[0]
    if module == "openai":
        return OPENAI
    if module == "anthropic":
        return ANTHROPIC
    if module == "google" and type(client).__module__.startswith("google.genai"):
        return GOOGLE
    return None


def _resource(client: Any, path: tuple[str, ...]) -> Any:
    resource = client
    for name in path:
        resource = getattr(resource, name, None)
        if resource is None:
            return None
    return resource


def _patch(
    resource: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> bool:
    method = getattr(resource, name, None)
    if method is None or getattr(method, _WRAPPED_MARK, False):
        return False
    tracked = make(method)
    setattr(tracked, _WRAPPED_MARK, True)
    setattr(resource, name, tracked)
    return True


def wrap(
    client: ClientT,
    *,
    project: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    end_user: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ClientT:
    """Instrument an official client so every call it makes is tracked; returns the same client.

    Supports ``openai.OpenAI``/``AsyncOpenAI`` (``create`` and ``parse`` of chat completions
    and responses, hence their ``stream()`` helpers, completions, embeddings; streamed chat calls
    get ``stream_options={"include_usage": True}`` added, and the extra usage chunk is kept from the
    caller unless they asked for it),
    ``anthropic.Anthropic``/``AsyncAnthropic`` (``messages.create`` and ``messages.stream``) and
    ``google.genai.Client`` (``generate_content`` and ``generate_content_stream``, sync and
    ``client.aio``). Wrapping twice is harmless. Any other object raises ``TypeError``.
    """
    family = _client_family(client)
    if family is None:
        raise TypeError(
            f"llmlab_sdk.wrap() supports OpenAI, Anthropic and google-genai clients, "
            f"not {type(client).__name__!r}"
        )
    provider = family
    if family == OPENAI and "Azure" in type(client).__name__:
        provider = "azure"
    options = CallOptions(
        project=project,
        tags=tuple(tags),
        end_user=end_user,
        metadata=dict(metadata or {}),
        provider=provider,
    )
    for path, name in _METHODS[family]:
        resource = _resource(client, path)
        if resource is None:
            continue
        prepare = _PREPARE.get((family, path, name))
        make = _tracked_stream_manager if name == "stream" else _tracked_method
        _patch(resource, name, lambda method, p=prepare, m=make: m(method, options, p))
    return client

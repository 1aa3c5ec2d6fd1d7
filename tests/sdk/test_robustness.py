"""LLMLab's own problems never reach the caller; many threads and forked children are fine."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

import llmlab_sdk

from . import fake_provider as fp
from .ingest_stub import IngestStub


class HostileResult:
    """A return value whose attributes blow up when looked at."""

    @property
    def usage(self) -> Any:
        raise RuntimeError("do not touch")


def test_a_result_the_sdk_cannot_read_is_returned_untouched(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    hostile = HostileResult()

    @llmlab_sdk.track_cost
    def call() -> HostileResult:
        return hostile

    assert call() is hostile
    assert llmlab_sdk.flush(10)


def test_metadata_json_cannot_hold_is_sent_as_text(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    when = datetime(2026, 11, 26, tzinfo=UTC)

    @llmlab_sdk.track_cost(model="gpt-4o", metadata={"when": when, "price": Decimal("1.5")})
    def call() -> dict[str, Any]:
        return {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    call()

    assert llmlab_sdk.flush(10)
    (event,) = ingest.sent_events()
    assert event["metadata"] == {"when": str(when), "price": "1.5"}


def test_an_unreachable_server_never_raises_into_the_caller(configure_sdk: Any) -> None:
    configure_sdk(base_url="http://127.0.0.1:9", flush_at_exit_timeout=0.1, spool=False)

    @llmlab_sdk.track_cost(model="gpt-4o")
    def call() -> tuple[str, dict[str, int]]:
        return "fine", {"prompt_tokens": 1, "completion_tokens": 1}

    assert [call()[0] for _ in range(20)] == ["fine"] * 20
    assert llmlab_sdk.flush(0.05) is False


def test_calls_from_many_threads_all_arrive_once(ingest: IngestStub, configure_sdk: Any) -> None:
    configure_sdk(batch_size=100)

    @llmlab_sdk.track_cost(model="gpt-4o-mini")
    def call(n: int) -> dict[str, Any]:
        return {"usage": {"prompt_tokens": n, "completion_tokens": 1}}

    def worker(offset: int) -> None:
        for n in range(offset, offset + 500):
            call(n)

    threads = [threading.Thread(target=worker, args=(t * 500,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert llmlab_sdk.flush(20)
    assert sorted(e["input_tokens"] for e in ingest.sent_events()) == list(range(4000))
    assert set(ingest.state.receipts.values()) == {1}
    assert llmlab_sdk.stats()["dropped"] == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_sends_its_own_events(ingest: IngestStub) -> None:
    script = textwrap.dedent(
        """
        import os
        import llmlab_sdk

        @llmlab_sdk.track_cost(model="gpt-4o-mini")
        def call(n):
            return {"usage": {"prompt_tokens": n, "completion_tokens": 1}}

        call(1)                     # starts the parent's sender thread
        assert llmlab_sdk.flush(10)
        pid = os.fork()
        if pid == 0:                # the child has no sender thread until it tracks a call
            call(2)
            os._exit(0 if llmlab_sdk.flush(10) else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        call(3)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "LLMLAB_API_KEY": ingest.state.api_key,
            "LLMLAB_BASE_URL": ingest.url,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert sorted(e["input_tokens"] for e in ingest.sent_events()) == [1, 2, 3]
    assert json.dumps(sorted(ingest.state.receipts.values())) == "[1, 1, 1]"


def test_queued_events_drop_out_of_the_garbage_collectors_sight(
    ingest: IngestStub, configure_sdk: Any
) -> None:
    # Thousands of events wait in a burst; tracked by the collector, they made its full
    # collections pause every thread for 37-86 ms.
    configure_sdk(max_queue_size=5_000, batch_size=1_000, flush_interval_ms=60_000)

    # (Metadata, a dict inside the event, keeps the event itself tracked.)
    @llmlab_sdk.track_cost(project="p", tags=["a", "b"])
    def call(n: int) -> dict[str, Any]:
        return fp.chat_completion(f"chatcmpl-gc-{n}")

    call(0)
    gc.collect()
    tracked_before = len(gc.get_objects())
    for n in range(1, 901):
        call(n)
    gc.collect()

    assert llmlab_sdk.stats()["queued"] == 901
    assert len(gc.get_objects()) - tracked_before < 50

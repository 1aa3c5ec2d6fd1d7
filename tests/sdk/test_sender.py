"""The background sender against a real local HTTP server: batching, retries, bounds, spool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import llmlab_sdk
from llmlab_sdk.spool import EventSpool

from .ingest_stub import IngestStub

Configure = Callable[..., llmlab_sdk.SDKConfig]


@llmlab_sdk.track_cost(model="gpt-4o-mini", provider="openai")
def answer(n: int) -> dict[str, Any]:
    return {"text": f"answer {n}", "usage": {"prompt_tokens": 10 + n, "completion_tokens": 5}}


@llmlab_sdk.track_cost(model="gpt-4o-mini", metadata={"poison": True})
def poisoned_answer() -> dict[str, Any]:
    return {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}


NOW = datetime.now(UTC).isoformat()


def answer_event(n: int) -> dict[str, Any]:
    """The event a call of ``answer(n)`` produces, as the sender posts it."""
    return {
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input_tokens": 10 + n,
        "output_tokens": 5,
    }


def input_tokens_received(ingest: IngestStub) -> list[int]:
    return sorted(event["input_tokens"] for event in ingest.sent_events())


def test_events_are_batched_into_few_requests(ingest: IngestStub, configure_sdk: Configure) -> None:
    configure_sdk(flush_interval_ms=60_000, batch_size=50)

    for n in range(120):
        answer(n)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [10 + n for n in range(120)]
    assert [len(r["events"]) for r in ingest.state.requests] == [50, 50, 20]
    assert llmlab_sdk.stats()["sent"] == 120


def test_one_http_connection_is_reused(ingest: IngestStub, sdk: llmlab_sdk.SDKConfig) -> None:
    for n in range(5):
        answer(n)
        assert llmlab_sdk.flush(10)

    assert len(ingest.state.requests) == 5
    assert len(set(ingest.client_addresses)) == 1


def test_server_errors_are_retried_until_accepted(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(spool=False)  # with the spool, the third failure would send them to disk
    ingest.fail_next(500, times=2)
    ingest.fail_next(503)

    answer(1)
    answer(2)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [11, 12]
    assert llmlab_sdk.stats()["retries"] == 3
    assert all(count == 1 for count in ingest.state.receipts.values())


def test_flush_waits_for_a_batch_spooled_by_errors_while_the_server_still_answers(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    ingest.fail_next(500, times=4)  # past spool_after_attempts: the batch goes to disk

    answer(1)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [11]
    assert llmlab_sdk.stats()["resent_from_spool"] == 1


def test_rate_limit_is_retried_after_the_delay_the_server_asks_for(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    ingest.fail_next(429, retry_after="0.3")

    answer(1)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [11]
    first, second = ingest.state.request_times
    assert second - first >= 0.3  # the configured backoff alone would be 0.01 s


def test_server_down_for_a_while_then_back_gets_every_event_exactly_once(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(batch_size=10, spool=False)  # held in memory, retried until it answers
    ingest.go_down()

    for n in range(35):
        answer(n)
    assert not llmlab_sdk.flush(0.2)  # nothing can be delivered yet

    ingest.come_back()

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [10 + n for n in range(35)]
    assert set(ingest.state.receipts.values()) == {1}
    assert llmlab_sdk.stats()["retries"] >= 1


def test_a_lost_answer_is_retried_with_the_same_event_ids(
    ingest: IngestStub, sdk: llmlab_sdk.SDKConfig
) -> None:
    ingest.fail_next(None)  # the server stores the batch but the answer never arrives

    answer(1)
    answer(2)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [11, 12]
    first, retry = ingest.state.requests
    assert [e["event_id"] for e in first["events"]] == [e["event_id"] for e in retry["events"]]
    assert llmlab_sdk.stats()["duplicates"] == 2  # the server counted nothing twice


def test_an_invalid_event_is_dropped_and_the_rest_of_its_batch_delivered(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(flush_interval_ms=60_000)

    answer(1)
    poisoned_answer()
    answer(2)
    assert llmlab_sdk.flush(10)
    answer(3)  # later events are not blocked

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [11, 12, 13]
    assert llmlab_sdk.stats()["rejected"] == 1


def test_a_rejection_that_names_no_index_is_narrowed_down_by_splitting(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(flush_interval_ms=60_000)
    ingest.state.name_invalid_index = False

    for n in range(5):
        answer(n)
    poisoned_answer()
    for n in range(5, 9):
        answer(n)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [10 + n for n in range(9)]
    assert llmlab_sdk.stats()["rejected"] == 1


def test_a_rejected_api_key_drops_the_batch_instead_of_retrying_forever(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(api_key="llmlab_wrong")

    answer(1)

    assert llmlab_sdk.flush(10)
    assert ingest.sent_events() == []
    assert len(ingest.state.requests) == 0  # the stub refused it before counting
    stats = llmlab_sdk.stats()
    assert stats["rejected"] == 1
    assert stats["retries"] == 0


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("drop_newest", [10, 11, 12, 13, 14, 15]), ("drop_oldest", [10, 16, 17, 18, 19, 20])],
)
def test_a_full_queue_drops_by_policy_and_counts_the_drops(
    ingest: IngestStub, configure_sdk: Configure, policy: str, kept: list[int]
) -> None:
    configure_sdk(max_queue_size=5, batch_size=1, queue_full_policy=policy, spool=False)
    ingest.hold_requests()
    answer(0)
    assert ingest.wait_for_requests(1)  # the worker is now stuck on the first event

    for n in range(1, 11):
        answer(n)
    assert llmlab_sdk.stats()["dropped"] == 5
    assert llmlab_sdk.stats()["queued"] == 5

    ingest.release_requests()
    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == kept


def test_flush_gives_up_after_its_timeout_when_the_server_is_down(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(spool=False)
    ingest.go_down()
    answer(1)

    assert llmlab_sdk.flush(0.1) is False
    assert llmlab_sdk.shutdown(timeout=0.1) is False


def test_undeliverable_events_are_spooled_and_resent_on_the_next_start(
    ingest: IngestStub, configure_sdk: Configure, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    configure_sdk(spool_dir=spool, spool_after_attempts=2, batch_size=4)
    ingest.go_down()

    for n in range(10):
        answer(n)

    assert llmlab_sdk.flush(10)  # flushed to disk
    assert llmlab_sdk.stats()["spooled"] == 10
    spooled = [json.loads(p.read_text())["events"] for p in sorted(spool.glob("*.json"))]
    assert sum(len(batch) for batch in spooled) == 10
    llmlab_sdk.shutdown(timeout=1)

    ingest.come_back()
    configure_sdk(spool_dir=spool)  # a new start finds the spool and resends it

    assert ingest.wait_for_events(10)
    assert input_tokens_received(ingest) == [10 + n for n in range(10)]
    assert llmlab_sdk.flush(10)
    assert list(spool.glob("*.json")) == []
    assert set(ingest.state.receipts.values()) == {1}


def test_spooled_events_are_resent_when_the_server_comes_back(
    ingest: IngestStub, configure_sdk: Configure, tmp_path: Path
) -> None:
    configure_sdk(spool_dir=tmp_path, spool_after_attempts=1)
    ingest.go_down()
    for n in range(3):
        answer(n)
    assert llmlab_sdk.flush(10)

    ingest.come_back()
    answer(3)

    assert ingest.wait_for_events(4)
    assert input_tokens_received(ingest) == [10, 11, 12, 13]


def _run_script(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_events_left_in_the_queue_are_sent_at_exit(ingest: IngestStub) -> None:
    result = _run_script(
        """
        import llmlab_sdk

        llmlab_sdk.configure(flush_interval_ms=600_000)  # only the exit hook can send them

        @llmlab_sdk.track_cost(model="gpt-4o-mini")
        def call(n):
            return {"usage": {"prompt_tokens": n, "completion_tokens": 1}}

        for n in range(1, 4):
            call(n)
        """,
        {"LLMLAB_API_KEY": ingest.state.api_key, "LLMLAB_BASE_URL": ingest.url},
    )

    assert result.returncode == 0, result.stderr
    assert input_tokens_received(ingest) == [1, 2, 3]


def test_events_unsent_at_exit_are_spooled_and_sent_by_the_next_process(
    ingest: IngestStub, tmp_path: Path
) -> None:
    env = {
        "LLMLAB_API_KEY": ingest.state.api_key,
        "LLMLAB_BASE_URL": ingest.url,
        "LLMLAB_SPOOL_DIR": str(tmp_path),
    }
    ingest.go_down()
    first = _run_script(
        """
        import llmlab_sdk

        # Retries outlast the exit timeout, so the exit hook has to spool.
        llmlab_sdk.configure(backoff_initial=30, spool_after_attempts=100,
                             flush_at_exit_timeout=0.5)

        @llmlab_sdk.track_cost(model="gpt-4o-mini")
        def call(n):
            return {"usage": {"prompt_tokens": n, "completion_tokens": 1}}

        for n in range(1, 4):
            call(n)
        """,
        env,
    )
    assert first.returncode == 0, first.stderr
    assert len(list(tmp_path.glob("*.json"))) == 1

    ingest.come_back()
    second = _run_script("import llmlab_sdk; llmlab_sdk.configure(); llmlab_sdk.flush(5)", env)

    assert second.returncode == 0, second.stderr
    assert ingest.wait_for_events(3)
    assert input_tokens_received(ingest) == [1, 2, 3]


def test_a_batch_too_large_for_the_server_is_split_until_it_fits(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(flush_interval_ms=60_000, batch_size=10)
    ingest.state.max_events_per_request = 3

    for n in range(10):
        answer(n)

    assert llmlab_sdk.flush(10)
    assert input_tokens_received(ingest) == [10 + n for n in range(10)]
    assert llmlab_sdk.stats()["rejected"] == 0


def test_an_unreadable_spool_file_is_set_aside_and_the_rest_resent(
    ingest: IngestStub, configure_sdk: Configure, tmp_path: Path
) -> None:
    (tmp_path / "00000000000000000001-1-000000.json").write_text("{not json")
    EventSpool(tmp_path, max_bytes=2**20).write(
        [{**answer_event(7), "event_id": "kept", "timestamp": NOW}]
    )

    configure_sdk(spool_dir=tmp_path)

    assert ingest.wait_for_events(1)
    assert [e["event_id"] for e in ingest.sent_events()] == ["kept"]
    assert llmlab_sdk.flush(10)
    assert [p.suffix for p in tmp_path.iterdir()] == [".bad"]


def test_a_new_spool_folder_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / "project"
    EventSpool(folder, max_bytes=2**20).write([{**answer_event(7), "timestamp": NOW}])
    assert folder.stat().st_mode & 0o777 == 0o700


# -- a burst beyond the queue goes to the spool ----------------------------------------------


def spool_files(home: Path) -> list[Path]:
    return sorted((home / "spool").glob("*/*.json"))


def test_a_burst_beyond_the_queue_goes_to_the_default_spool_and_nothing_is_dropped(
    ingest: IngestStub, configure_sdk: Configure, llmlab_home: Path
) -> None:
    configure_sdk(max_queue_size=20, batch_size=10)
    ingest.hold_requests()
    answer(0)
    assert ingest.wait_for_requests(1)  # the worker is stuck; the queue can only fill up

    for n in range(1, 500):
        answer(n)

    assert llmlab_sdk.stats()["dropped"] == 0
    assert ingest.wait_for_requests(1)
    ingest.release_requests()
    assert llmlab_sdk.flush(10)
    stats = llmlab_sdk.stats()
    assert input_tokens_received(ingest) == [10 + n for n in range(500)]
    assert set(ingest.state.receipts.values()) == {1}
    assert stats["dropped"] == 0 and stats["spooled"] >= 470
    assert stats["resent_from_spool"] == stats["spooled"]
    assert (llmlab_home / "spool").is_dir() and spool_files(llmlab_home) == []


def test_memory_stays_bounded_while_the_burst_goes_to_disk(
    ingest: IngestStub, configure_sdk: Configure, llmlab_home: Path
) -> None:
    configure_sdk(max_queue_size=10, batch_size=10)
    ingest.hold_requests()
    answer(0)
    assert ingest.wait_for_requests(1)

    for n in range(1, 5_000):
        answer(n)
    held_in_memory = llmlab_sdk.stats()["queued"]

    # The queue, as many again waiting for the spool writer, and two batches being written.
    assert held_in_memory <= 10 + 10 + 2 * 10
    assert sum(len(json.loads(p.read_text())["events"]) for p in spool_files(llmlab_home)) > 4_900
    ingest.release_requests()
    assert llmlab_sdk.flush(10)
    assert len(ingest.sent_events()) == 5_000


def test_beyond_the_spool_bound_the_drop_policy_applies_and_counts(
    ingest: IngestStub, configure_sdk: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    configure_sdk(max_queue_size=10, batch_size=100, spool_max_mb=1)
    ingest.hold_requests()
    answer(0)
    assert ingest.wait_for_requests(1)

    calls = 8_000  # ~190 bytes each on disk: half of them fill the megabyte
    for n in range(1, calls):
        answer(n)
    llmlab_sdk.flush(0.5)  # let the writer reach the bound
    dropped = llmlab_sdk.stats()["dropped"]
    ingest.release_requests()
    assert llmlab_sdk.flush(20)

    stats = llmlab_sdk.stats()
    assert 0 < dropped < calls
    assert stats["dropped"] == dropped
    assert len(ingest.sent_events()) == calls - dropped
    spool_full_warnings = [r for r in caplog.records if "spool holds" in r.message]
    assert len(spool_full_warnings) == 1


def test_an_unwritable_spool_folder_turns_the_spool_off_with_one_warning(
    ingest: IngestStub,
    configure_sdk: Configure,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("LLMLAB_HOME", str(not_a_folder))
    configure_sdk(max_queue_size=5, batch_size=5)
    ingest.hold_requests()
    answer(0)
    assert ingest.wait_for_requests(1)

    for n in range(1, 100):
        answer(n)  # never raises, however the spool fails
    ingest.release_requests()
    assert llmlab_sdk.flush(10)

    stats = llmlab_sdk.stats()
    warnings = [r.message for r in caplog.records if "spool is off" in r.message]
    assert len(warnings) == 1 and str(not_a_folder) in warnings[0]
    assert stats["dropped"] > 0 and stats["spooled"] == 0
    assert len(ingest.sent_events()) == 100 - stats["dropped"]


def test_a_few_events_beyond_the_queue_are_flushed_too(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    configure_sdk(max_queue_size=3, batch_size=50, flush_interval_ms=60_000)
    for n in range(5):  # two fewer than a batch past the queue: no writer is woken by size
        answer(n)

    assert llmlab_sdk.flush(5)
    assert input_tokens_received(ingest) == [10 + n for n in range(5)]
    assert llmlab_sdk.stats()["dropped"] == 0

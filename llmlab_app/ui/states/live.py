"""Pacing of the 5-second refresh that pages ask for while they are open."""

from __future__ import annotations

LIVE_INTERVAL_S = 5
# Ticks queued in the browser while the websocket was down arrive in a burst on reconnect;
# only the first of them does any work.
MIN_GAP_S = LIVE_INTERVAL_S - 1


def poll_is_due(last_poll_at: float, now: float) -> bool:
    return now - last_poll_at >= MIN_GAP_S

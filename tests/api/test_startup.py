"""What the app's start-up sets for the whole process."""

from __future__ import annotations

import gc


def test_startup_freezes_loaded_objects_and_collects_young_objects_less_often(client):
    from llmlab_app.api.main import YOUNG_GC_THRESHOLD

    assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    assert gc.get_freeze_count() > 10_000

"""Opaque cursors for newest-first pages ordered by (timestamp, id): stable while new rows
arrive, since a new row sorts before every cursor already handed out."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_

from llmlab_app.errors import InvalidInput


def encode_cursor(timestamp: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([timestamp.isoformat(), str(row_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(stamp), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("invalid cursor") from exc


def older_than(cursor: str, timestamp_column: Any, id_column: Any) -> Any:
    """The condition selecting the rows after `cursor` in newest-first order."""
    stamp, row_id = decode_cursor(cursor)
    return or_(timestamp_column < stamp, and_(timestamp_column == stamp, id_column < row_id))

"""The date decisions expire against, in one place, importable without the catalog's schema
(the verdict cache keys on it before anything else is loaded)."""

from __future__ import annotations

import datetime as dt
import os


def today() -> dt.date:
    """In UTC (so the verdict is the same in every time zone at the same instant):
    SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()

"""Cold start of the API function, called explicitly by functions/api/app.py.

`begin()` (first thing the API module does) pauses Python's cyclic garbage collector and makes two
Powertools packages load only the parts the API uses (lazy_exports.py). Loading Powertools, pydantic
and botocore builds ~90,000 long-lived objects and no garbage to speak of; meanwhile the collector
would run full passes over the growing heap (~25 ms of a cold start). `complete()` (the module's
last statement) freezes what the import built (gc.freeze: out of the collector's view for good) and
resumes collection, so later passes only scan objects made since.
"""

from __future__ import annotations

import gc

from omotenashi.http import lazy_exports

_paused = False


def begin() -> None:
    """Pause collection for the import. Only the first call pauses: the local stack and tests load
    the API module more than once in one process, and the collector was frozen then already."""
    global _paused
    if gc.get_freeze_count() == 0 and gc.isenabled():
        gc.disable()
        _paused = True
    lazy_exports.install()  # before Powertools' event handler loads: see lazy_exports.py


def complete() -> None:
    """Freeze everything loaded so far and resume garbage collection (if begin() paused it)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()

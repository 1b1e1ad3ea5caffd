"""HTTP plumbing shared by the API function: request guard, error bodies, resolver factory.

Cold start: importing this package pauses Python's cyclic garbage collector until the API module
has finished loading (`startup_complete`, called at the end of functions/api/app.py). Loading
Powertools, pydantic and botocore builds ~90,000 long-lived objects and no garbage to speak of;
meanwhile the collector would run full passes over the growing heap (~25 ms of a cold start,
each pass finding a few hundred unreachable objects). `startup_complete` then freezes what the
import built (gc.freeze: moved out of the collector's view for good) and resumes collection, so
later passes, during the first and every warm request, only scan objects made since. It also
makes two Powertools packages load only the parts the API uses (lazy_exports.py). Only the API
function imports this package (functions/api/app.py imports it first, before Powertools).
"""

from __future__ import annotations

import gc

from omotenashi.http import lazy_exports

_paused = gc.isenabled()
if _paused:
    gc.disable()
lazy_exports.install()  # before Powertools' event handler loads: see lazy_exports.py


def startup_complete() -> None:
    """Freeze everything loaded so far and resume garbage collection. Idempotent: the first call
    (at the end of the API module's import) does it; the local stack and tests, which load the
    API module more than once in one process, freeze only once."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()

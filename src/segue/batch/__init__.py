"""`segue batch`: render soundtrack asset libraries (states × variations × formats × stems) on Ray.

A job file says what to make; :mod:`.job` reads it, :mod:`.assets` expands it into assets with an
inputs hash each, :mod:`.manifest` records what is done (SQLite), :mod:`.work` makes one asset with the
same pipeline functions as ``segue compose``, :mod:`.runner` spreads the work over Ray actors and
:mod:`.index` writes the game-facing index (JSON, CSV). See docs/batch.md.
"""

from segue.batch.errors import BatchError

__all__ = ["BatchError"]

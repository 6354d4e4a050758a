"""Command-line entry point: ``python -m segue.style.train [FOLDER] [--out MODEL]``.

The training code lives in :mod:`segue.style.training`; this module only runs its ``main`` so
that ``python -m segue.style.train`` keeps working (``segue.style.train`` the *function* is
exported by the package).
"""

from segue.style.training import main

if __name__ == "__main__":
    raise SystemExit(main())

"""The one error a user can fix in a batch job (a bad job file, Ray missing, an output folder)."""


class BatchError(ValueError):
    """A job that cannot run as written; the CLI prints it as one line and exits with status 2."""

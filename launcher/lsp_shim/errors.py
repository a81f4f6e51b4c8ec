"""The one exception type the shim turns into a one-line message instead of a traceback."""


class ShimError(Exception):
    """A problem the user can fix; str() is the whole one-line message including the fix."""

    exit_code = 2

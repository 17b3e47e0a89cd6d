"""The base of every error a user can fix by themselves: ``str(exc)`` is the Chinese message to show.

The CLI prints it without a traceback (exit code 2). One base, so the CLI catches them all without
importing the modules that raise them (the portal's import alone takes seconds).
"""


class UserFacingError(Exception):
    """A problem the user can fix; ``str(exc)`` is the Chinese message to print."""

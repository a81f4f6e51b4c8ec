"""The one error type `configure` reports to the user."""

from __future__ import annotations


class ConfigureError(Exception):
    """A problem the user can fix; its message is one line naming the problem and the fix.

    `main` prints it and exits 2; nothing has been written when it is raised, because every
    file's new text is computed before any file is replaced.
    """

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix

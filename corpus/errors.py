from __future__ import annotations


class CorpusError(ValueError):
    """A corpus file or manifest is malformed; the message names file and line."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")

"""The strict reader of the project's hand-written JSON Lines data (passage
questions, renderings): one model per line, every problem a `file:line: reason`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Entry = TypeVar("Entry", bound=BaseModel)


def read_entries(
    path: Path, model: type[Entry], key: Callable[[Entry], str], error: type[ValueError], what: str
) -> dict[str, Entry]:
    """Entries by `key`, in file order; a malformed line or a repeated key raises `error`."""
    entries: dict[str, Entry] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = model.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc.msg
            raise error(f"{path}:{number}: {reason}") from None
        if key(entry) in entries:
            raise error(f"{path}:{number}: {what.format(key=key(entry))} appears twice")
        entries[key(entry)] = entry
    return entries

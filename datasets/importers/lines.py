"""Physical lines of an upload, read in blocks, so that every line is accounted for and none is held too long.

The CSV and JSON Lines readers pull their lines from a `LineSource`. It reads the text a block of whole
lines at a time (csv.reader then walks a list in C, with no Python work per line), keeps the blocks
from the one holding the current record's first line on, so that a record found broken can be read
again from its second line, and never holds a line longer than MAX_LINE_CHARS: such a line is skipped
in pieces and reported (LineTooLong), every time a re-read reaches it.
"""

from __future__ import annotations

import io
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

BLOCK_CHARS = 64 * 1024
# Forty times the longest product field (a 100,000-character description), so real rows with big
# attribute columns fit, while a runaway line or quote costs a few MB, not the whole file.
MAX_LINE_CHARS = 4 * 1024 * 1024


@dataclass(slots=True)
class LineCount:
    """How far a parse got, in physical lines (items for a JSON array), as of the last record it yielded.

    `read` lines were consumed; `skipped` of them are no record (header, blank lines, the second and
    later lines of a multi-line record). Every record yielded, row or RowError, stands for one line,
    so records + skipped == read.
    """

    read: int = 0
    skipped: int = 0


class LineTooLong(Exception):
    """Line `line` is longer than MAX_LINE_CHARS; it was skipped without being held."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class RecordTooLong(Exception):
    """The record being read has run past a limit no real record reaches; `last` is the last line read."""

    def __init__(self, last: int, limit: str) -> None:
        super().__init__(last, limit)
        self.last = last
        self.limit = limit


# (number of its first line, its lines or None for a line too long to hold, its length in characters)
_Block = tuple[int, list[str] | None, int]


class LineSource:
    """The lines of a text stream, from any line of the current record on.

    `counts.read + 1` is the first line of the record being read (the readers keep `counts` current);
    blocks before it are let go. With `max_record_lines` / `max_record_chars`, a record still open
    past them raises RecordTooLong when the next block is needed.
    """

    def __init__(self, text: TextIO, counts: LineCount, *, max_record_lines: int = 0, max_record_chars: int = 0):
        self._text = text
        self._counts = counts
        self._max_lines = max_record_lines
        self._max_chars = max_record_chars
        self._kept: deque[_Block] = deque()
        self._next_line = 1  # number of the first line not read from the stream yet
        self._carry = ""  # a character read ahead to finish a CRLF that was not one
        self._eof = False

    def lines(self, first: int) -> Iterator[str]:
        """Every line from line `first` on; raises LineTooLong or RecordTooLong where the lines reach one."""
        return itertools.chain.from_iterable(self._blocks(first))

    def _blocks(self, first: int) -> Iterator[list[str]]:
        for start, lines, _ in list(self._kept):  # a re-read: replay what is kept
            count = 1 if lines is None else len(lines)
            if start + count <= first:
                continue
            self._check(max(start, first))
            if lines is None:
                raise LineTooLong(start)
            yield lines[first - start :] if start < first else lines
        while not self._eof:
            self._check(self._next_line)
            for start, lines, _ in self._read():
                if lines is None:
                    raise LineTooLong(start)
                yield lines

    def _check(self, upcoming: int) -> None:
        """Let go of the blocks before the current record; refuse to go on with a record past the limits."""
        record = self._counts.read + 1
        kept = self._kept
        while len(kept) > 1 and kept[1][0] <= record:
            kept.popleft()
        if self._max_lines and upcoming - record > self._max_lines:
            raise RecordTooLong(upcoming - 1, f"{self._max_lines:,} lines")
        if self._max_chars and upcoming > record:
            chars = sum(size for start, _, size in kept if start < upcoming)
            if chars > self._max_chars:
                raise RecordTooLong(upcoming - 1, f"{self._max_chars:,} characters")

    def _read(self) -> list[_Block]:
        """The next blocks, kept at once (a reader may be dropped between two): whole lines, then the
        line the read stopped in (None if it is too long to hold)."""
        block = self._carry + self._text.read(BLOCK_CHARS)
        self._carry = ""
        if not block:
            self._eof = True
            return []
        while block[-1] == "\r":  # the "\n" of a CRLF may start the next read
            after = self._text.read(1)
            if not after:
                break
            block += after
        cut = max(block.rfind("\n"), block.rfind("\r")) + 1
        blocks: list[_Block] = []
        if cut:
            blocks.append(self._keep(io.StringIO(block[:cut], newline="").readlines(), cut))
        if cut < len(block):
            partial = block[cut:]
            rest = self._text.readline(MAX_LINE_CHARS + 1 - len(partial))
            if len(partial) + len(rest) > MAX_LINE_CHARS:
                self._skip_line((rest or partial)[-1])
                blocks.append(self._keep(None, 0))
            else:
                line = partial + rest
                blocks.append(self._keep([line], len(line)))
        return blocks

    def _keep(self, lines: list[str] | None, size: int) -> _Block:
        block = (self._next_line, lines, size)
        self._kept.append(block)
        self._next_line += 1 if lines is None else len(lines)
        return block

    def _skip_line(self, last: str) -> None:
        """Read past the end of an over-long line, a block at a time, without keeping it."""
        while last not in "\r\n":
            piece = self._text.readline(BLOCK_CHARS)
            if not piece:
                return
            last = piece[-1]
        if last == "\r":
            after = self._text.read(1)
            if after != "\n":
                self._carry = after

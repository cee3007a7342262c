"""CSV files in and out, shared by every import and export.

Reading: the file is opened from disk and read record by record (never whole). Before the
first record we decide three things and refuse the file with a plain explanation when we
cannot: the encoding (UTF-8, with or without a byte-order mark; anything else is refused
rather than guessed, because a wrong guess silently corrupts names and prices), the
delimiter (comma, semicolon or tab, from the header line: spreadsheets in many locales save
semicolons), and the header (every required column present, none unknown, none twice).
Records then come out numbered as a spreadsheet numbers rows (the header is row 1); a
record with the wrong number of fields is a problem of that row, and a malformed record
(an unbalanced quote) ends the reading with a problem naming where it started.

Writing: ``csv_chunks`` turns rows into text chunks for a streaming response or a file;
text that a spreadsheet would run as a formula is defused.
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from storesync.core.errors import ValidationError
from storesync.core.money import to_minor

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
SNIFF_BYTES = 64 * 1024
MAX_FIELD_CHARS = 64 * 1024  # bounds memory when a quote is never closed


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (row, column), the value, and what is wrong."""

    row: int | None
    column: str | None
    message: str
    value: str = ""
    fatal: bool = False  # the file could not be read past this point

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        prefix = ", ".join(where)
        shown = f" (value {self.value[:60]!r})" if self.value else ""
        return f"{prefix}: {self.message}{shown}" if prefix else f"{self.message}{shown}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value[:200],
                "message": self.message}


class CsvRejected(ValidationError):
    """The file cannot be read as the expected CSV at all (encoding, delimiter, header)."""

    code = "invalid_csv"

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message, field="file")
        self.problems = list(problems) or [Problem(None, None, message)]


@dataclass(frozen=True)
class Columns:
    """The columns a file may have: required, optional, and accepted-but-ignored ones
    (read-only columns of our own exports, so an export can be edited and imported back)."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional + self.ignored


def header_key(name: str) -> str:
    """``" Compare At Price"`` -> ``"compare_at_price"``: case, spaces and dashes do not matter."""
    return "_".join(name.replace("\ufeff", "").strip().lower().replace("-", " ").split())


# How spreadsheet workbooks begin: .xlsx/.ods are ZIP archives, .xls an OLE2 compound file.
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _detect_encoding(head: bytes) -> str:
    if head.startswith(_WORKBOOK_MAGIC):
        raise CsvRejected("the file is a spreadsheet workbook (such as .xlsx), not CSV; in the "
                          "spreadsheet choose Save as → \"CSV UTF-8\" and upload that file")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvRejected("the file is UTF-16; save it as \"CSV UTF-8\" and upload it again")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise CsvRejected(
            f"the file is not UTF-8 (byte 0x{head[exc.start]:02x} at position {exc.start}); it "
            "looks like another encoding such as Windows-1252 — save it as \"CSV UTF-8\" and "
            "upload it again") from None
    return "utf-8"


def _sniff_delimiter(header_line: str, columns: Columns) -> str:
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] > 0 or len(columns.required) <= 1:
        return best
    others = sorted({ch for ch in header_line if ch in "|:^~"})
    hint = f" (it seems to use {' '.join(repr(o) for o in others)})" if others else ""
    raise CsvRejected(
        "the header row has no comma, semicolon or tab between column names" + hint +
        "; save the file as CSV with commas, semicolons or tabs",
        [Problem(1, None, "cannot tell the columns apart: use a comma, semicolon or tab "
                          "between them" + hint, header_line[:200])])


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def _check_header(names: list[str], columns: Columns) -> list[str]:
    keys = [columns.aliases.get(header_key(n), header_key(n)) for n in names]
    problems = []
    seen: set[str] = set()
    for raw, key in zip(names, keys, strict=True):
        if key not in columns.known:
            problems.append(Problem(1, raw.strip() or "(empty)",
                                    "unknown column; the columns are " + ", ".join(columns.known)))
        elif key in seen:
            problems.append(Problem(1, raw.strip(), "this column appears twice"))
        seen.add(key)
    for key in columns.required:
        if key not in seen:
            problems.append(Problem(1, key, "required column is missing"))
    if problems:
        summary = "; ".join(str(p) for p in problems[:3])
        raise CsvRejected(f"the header row does not match: {summary}", problems)
    return keys


@dataclass(frozen=True)
class Record:
    row: int
    values: dict[str, str]


class CsvSource:
    """A CSV file on disk, checked (encoding, delimiter, header) when opened.

    Iterating yields ``Record`` for each data row and ``Problem`` for a row that cannot be a
    record; after a malformed record (or undecodable bytes) it yields one ``Problem`` and stops.
    Each iteration reads the file again from the start, so imports can validate first and
    write second without holding rows in memory.
    """

    def __init__(self, path: Path, columns: Columns) -> None:
        self.path = Path(path)
        self.columns = columns
        with self.path.open("rb") as raw:
            head = raw.read(SNIFF_BYTES)
        if not head.strip():
            raise CsvRejected("the file is empty")
        self.encoding = _detect_encoding(head)
        text = head.decode(self.encoding, errors="ignore")
        header_line = text.splitlines()[0] if text.splitlines() else ""
        self.delimiter = _sniff_delimiter(header_line, columns)
        with self._open() as stream:
            try:
                names = next(self._reader(stream), [])
            except csv.Error as exc:
                raise CsvRejected(f"the header row is malformed: {exc}") from None
        self.keys = _check_header(names, columns)

    def _open(self) -> IO[str]:
        return io.TextIOWrapper(self.path.open("rb"), encoding=self.encoding, newline="")

    def _reader(self, stream: IO[str]) -> Iterator[list[str]]:
        csv.field_size_limit(MAX_FIELD_CHARS)
        return csv.reader(stream, delimiter=self.delimiter, strict=True)

    def __iter__(self) -> Iterator[Record | Problem]:
        width = len(self.keys)
        with self._open() as stream:
            reader = self._reader(stream)
            row = 1
            try:
                next(reader, None)
                for fields in reader:
                    row += 1
                    if not any(f.strip() for f in fields):
                        continue
                    if len(fields) != width:
                        yield Problem(row, None, f"has {len(fields)} fields but the header has "
                                      f"{width}; a value with the delimiter in it needs quotes")
                        continue
                    yield Record(row, {k: v.strip() for k, v in zip(self.keys, fields,
                                                                    strict=True)
                                       if k not in self.columns.ignored})
            except csv.Error as exc:
                yield Problem(row + 1, None, f"malformed CSV ({exc}): an unbalanced quote? "
                              "Rows after this one were not read", fatal=True)
            except UnicodeDecodeError:
                yield Problem(row + 1, None, "the file stops being UTF-8 here; save it as "
                              "\"CSV UTF-8\". Rows after this one were not read", fatal=True)


class ProblemLog:
    """Counts every problem, keeps the first ``keep`` in memory and spools all to disk."""

    def __init__(self, *, keep: int = 100) -> None:
        self.keep = keep
        self.count = 0
        self.first: list[Problem] = []
        # Lives as long as the log (closed by ``close``), so no ``with`` block.
        self._spool = tempfile.TemporaryFile(  # noqa: SIM115
            "w+", encoding="utf-8", newline="")
        self._writer = csv.writer(self._spool)
        self._writer.writerow(["row", "column", "value", "problem"])

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(problem)
        self._writer.writerow([problem.row or "", problem.column or "",
                               defuse(problem.value), problem.message])

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def save(self, path: Path) -> Path:
        """Write the full report (a CSV: row, column, value, problem) to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._spool.seek(0)
        with path.open("w", encoding="utf-8", newline="") as out:
            shutil.copyfileobj(self._spool, out)
        return path

    def close(self) -> None:
        self._spool.close()


class RowCheck:
    """Parses one record's cells into typed values, recording a ``Problem`` per bad cell."""

    def __init__(self, record: Record) -> None:
        self.row = record.row
        self.values = record.values
        self.problems: list[Problem] = []

    def fail(self, column: str | None, message: str, value: str = "") -> None:
        self.problems.append(Problem(self.row, column, message, value))

    def text(self, column: str, *, required: bool = False, max_length: int = 255) -> str:
        value = self.values.get(column, "")
        if required and not value:
            self.fail(column, "a value is required")
        elif len(value) > max_length:
            self.fail(column, f"longer than {max_length} characters", value)
            return value[:max_length]
        return value

    def integer(self, column: str, *, minimum: int | None = 0, required: bool = False,
                maximum: int = 2_000_000_000) -> int | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.fail(column, "a whole number is required")
            return None
        try:
            number = int(value.replace("_", "x"))  # int() accepts 1_000; a CSV should not
        except ValueError:
            self.fail(column, "not a whole number", value)
            return None
        if minimum is not None and number < minimum:
            self.fail(column, f"must be at least {minimum}", value)
        elif abs(number) > maximum:
            self.fail(column, "too large", value)
        return number

    def money(self, column: str, currency: str, *, required: bool = False) -> int | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.fail(column, "an amount is required")
            return None
        try:
            minor = to_minor(value, currency, field=column)
        except ValidationError as exc:
            hint = "; use a point for decimals and no thousands separator (1499.50)" \
                if "," in value else ""
            self.fail(column, exc.message + hint, value)
            return None
        if minor < 0:
            self.fail(column, "cannot be negative", value)
        return minor


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV
    injection); plain numbers such as ``-5`` are left alone."""
    if value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
               rows_per_chunk: int = 500) -> Iterator[str]:
    """The header, then the rows, as text chunks of about ``rows_per_chunk`` rows each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow([defuse(v) if isinstance(v, str) else ("" if v is None else v)
                         for v in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()

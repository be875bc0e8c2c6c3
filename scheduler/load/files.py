"""Files: reading an input file safely (never a folder, a pipe or a huge file) and a
CSV or .xlsx sheet as strings, rows numbered as a spreadsheet shows them."""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from scheduler.errors import Problem


@dataclass
class Table:
    """One input sheet: cells as strings, rows numbered as a spreadsheet shows them."""

    file: str  # the file name in the input folder, e.g. "cities.csv"
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row, column -> stripped text)
    overflow: dict[int, str]  # row -> first non-empty cell beyond the header's columns


MAX_FILE_BYTES = 50 * 1024 * 1024  # far above any conference; a bigger file is a mistake
MAX_UNPACKED_BYTES = 500 * 1024 * 1024  # what a workbook's zip may unpack to


def read_input_file(path: Path) -> bytes | str:
    """The bytes of an input file, or why they cannot be read (the file is named by the
    caller). A folder, a pipe, a device or a dangling link is refused before it is
    opened, so reading never blocks."""
    try:
        if path.is_symlink() and not path.exists():
            return f"is a link to {os.readlink(path)}, which does not exist"
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            return "is a folder, not a file"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a pipe, socket or device); put the file itself there"
        if info.st_size > MAX_FILE_BYTES:
            return f"is {info.st_size // 2**20} MB large: at most {MAX_FILE_BYTES // 2**20} MB"
        # O_NONBLOCK: should a pipe take the file's place after the check, open() and
        # read() return at once instead of waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return "is not a regular file (a pipe, socket or device)"
            data = file.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        return "cannot be read: permission denied (check the file's permissions)"
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    if len(data) > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // 2**20} MB"
    return data


_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def wide_unicode(data: bytes) -> str | None:
    """The name "UTF-16" or "UTF-32" when the bytes are so encoded (by their byte-order mark, or
    by the zero bytes of mostly-ASCII text without one), else None."""
    for bom, name in _UNICODE_BOMS:
        if data.startswith(bom):
            return name
    head = data[:400]
    if len(head) >= 8 and head.count(0) * 3 >= len(head):
        return "UTF-32" if head.count(0) * 4 >= len(head) * 3 else "UTF-16"
    return None


def _decode_problem(file: str, data: bytes, error: UnicodeDecodeError, encoding: str) -> Problem:
    line = data[: error.start].count(b"\n") + 1
    byte = data[error.start : error.start + 1].hex()
    return Problem(
        file,
        line,
        None,
        f"line {line} holds a byte (0x{byte}) that is not valid {encoding}. Save the file "
        'as "CSV UTF-8" (Excel: File > Save As > CSV UTF-8 (comma delimited)), or name '
        'its encoding in conference.toml, e.g. [inputs] encoding = "cp1254"',
    )


def _sniff_delimiter(header_line: str) -> str:
    """Excel in German and Turkish locales writes ';'; elsewhere ','."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_csv(path: Path, encoding: str | None) -> Table | Problem:
    """Read a CSV file as strings; a Problem when it cannot be read or decoded."""
    data = read_input_file(path)
    if isinstance(data, str):
        return Problem(path.name, None, None, f"{path.name} {data}")
    codec = encoding or "utf-8"
    wide = wide_unicode(data)
    if wide and not codecs.lookup(codec).name.startswith(wide.lower()):
        return Problem(
            path.name,
            None,
            None,
            f'{path.name} is saved as {wide} (Excel\'s "Unicode Text"); save it as '
            '"CSV UTF-8" (Excel: File > Save As > CSV UTF-8 (comma delimited))',
        )
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        return _decode_problem(path.name, data, error, codec)
    text = text.removeprefix("\ufeff")  # the BOM Excel writes in "CSV UTF-8"
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        return Problem(path.name, reader.line_num, None, f"not a readable CSV file: {error}")
    mixed = _mixed_separators(path.name, records, delimiter)
    return mixed or _table(path.name, records)


def _mixed_separators(file: str, records: list[list[str]], delimiter: str) -> Problem | None:
    """A Problem at the first row that is separated by the other separator than the
    header (a file pasted together from two spreadsheets)."""
    other = "," if delimiter == ";" else ";"
    header = [cell for cell in (records[0] if records else []) if cell.strip()]
    if len(header) < 2:
        return None
    for number, record in enumerate(records[1:], start=2):
        cells = [cell for cell in record if cell.strip()]
        if len(cells) == 1 and len(record) < len(header) and other in cells[0]:
            return Problem(
                file,
                number,
                None,
                f"this row is separated by {other!r} but the header row by {delimiter!r}: "
                "use one separator in the whole file (save it again as CSV)",
            )
    return None


def _xlsx_text(value: Any) -> str:
    """A cell as the text an organiser sees; 2.0 becomes "2" so ids and numbers read alike."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path) -> Table | Problem:
    """Read the first sheet of an Excel workbook as strings."""
    import openpyxl  # imported here: only needed for .xlsx inputs

    data = read_input_file(path)
    if isinstance(data, str):
        return Problem(path.name, None, None, f"{path.name} {data}")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return Problem(
            path.name, None, None, "not an Excel workbook (.xlsx): the file is not a zip archive"
        )
    try:
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        return Problem(path.name, None, None, f"cannot open as an Excel workbook (.xlsx): {error}")
    if unpacked > MAX_UNPACKED_BYTES:
        return Problem(
            path.name,
            None,
            None,
            f"unpacks to {unpacked // 2**20} MB: at most {MAX_UNPACKED_BYTES // 2**20} MB "
            "(is it really a table of a conference?)",
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            records = [
                [_xlsx_text(value) for value in row]
                for row in sheet.iter_rows(min_row=1, values_only=True)
            ]
        finally:
            workbook.close()
    except Exception as error:  # noqa: BLE001  # a damaged workbook fails anywhere in openpyxl
        return Problem(path.name, None, None, f"cannot open as an Excel workbook (.xlsx): {error}")
    return _table(path.name, records)


def _table(file: str, records: list[list[str]]) -> Table | Problem:
    if not records or not any(cell.strip() for cell in records[0]):
        return Problem(file, 1, None, "the first row must be the header row (column names)")
    header = [cell.strip() for cell in records[0]]
    # Trailing empty header cells come from spreadsheets with formatted empty columns.
    while header and not header[-1]:
        header.pop()
    rows: list[tuple[int, dict[str, str]]] = []
    overflow: dict[int, str] = {}
    for number, record in enumerate(records[1:], start=2):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue  # blank lines, and the ";;;;" rows Excel leaves at the end
        rows.append(
            (number, {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)})
        )
        extra = [cell for cell in cells[len(header) :] if cell]
        if extra:
            overflow[number] = extra[0]
    return Table(file, header, rows, overflow)

#!/usr/bin/python3
"""Opens an export the way a customer's tools would and checks it against the CSV export and the API.

Used by tests/integration/export_test.cpp and tests/e2e/export.test.mjs. Needs Debian's
python3-openpyxl; --libreoffice needs libreoffice-calc-nogui (soffice).

usage: xlsx_check.py --xlsx FILE [--csv FILE] [--api FILE.json] [--total N] [--libreoffice]

Prints one JSON object: {"ok", "errors", "rows", "header", "neutralised", "non_ascii",
"customers", "first_row"}; exits 0 when every check passed, 1 otherwise.
"""
import argparse
import csv
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import openpyxl
from openpyxl.utils import get_column_letter

NUMBER_COLUMNS = {"On hand"}
DATE_COLUMNS = {"Expires", "Last movement", "Received"}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NEGATIVE = re.compile(r"-[0-9]+(\.[0-9]+)?")

errors = []


def fail(message):
    if len(errors) < 50:
        errors.append(message)


def neutralise(text):
    """What the portal writes for a text cell (SPEC §7): a formula start gets an apostrophe."""
    if text and text.startswith(TRIGGERS) and not PLAIN_NEGATIVE.fullmatch(text):
        return "'" + text
    return text


def number_text(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) else repr(value)


def as_text(value):
    """A cell as the CSV export writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, (int, float)):
        return number_text(value)
    return value


def read_xlsx(path, total):
    wb = openpyxl.load_workbook(path)
    if len(wb.worksheets) != 1:
        fail(f"expected one worksheet, found {len(wb.worksheets)}")
    ws = wb.worksheets[0]
    props = wb.properties
    if props.creator != "Customer Portal":
        fail(f"author is {props.creator!r}")
    if not props.title:
        fail("no title")
    if props.created is None:
        fail("no creation date")

    rows = list(ws.iter_rows())
    if not rows:
        fail("empty sheet")
        return ws, [], []
    header = [c.value for c in rows[0]]
    for c in rows[0]:
        if not isinstance(c.value, str) or not c.value:
            fail(f"header cell {c.coordinate} is {c.value!r}")
        if not c.font.b:
            fail(f"header cell {c.coordinate} is not bold")
    data = rows[1:]
    if total is not None and len(data) != total:
        fail(f"{len(data)} data rows, the API says {total}")
    if ws.freeze_panes != "A2":
        fail(f"frozen panes at {ws.freeze_panes!r}, not below the header")
    last = f"{get_column_letter(len(header))}{len(data) + 1}"
    if ws.auto_filter.ref != f"A1:{last}":
        fail(f"autofilter {ws.auto_filter.ref!r}, not A1:{last}")
    for i in range(1, len(header) + 1):
        width = ws.column_dimensions[get_column_letter(i)].width
        if not width or not 6 <= width <= 62:
            fail(f"column {get_column_letter(i)} width {width}")

    values = []
    for row in data:
        out = []
        for name, cell in zip(header, row):
            v = cell.value
            if cell.data_type == "f":
                fail(f"{cell.coordinate} is a formula: {v!r}")
            if v is None:
                pass
            elif name in NUMBER_COLUMNS:
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    fail(f"{cell.coordinate} ({name}) is not a number: {v!r}")
            elif name in DATE_COLUMNS:
                if not isinstance(v, datetime.datetime) or not cell.is_date or "yy" not in cell.number_format:
                    fail(f"{cell.coordinate} ({name}) is not a date cell: {v!r} {cell.number_format!r}")
            elif not isinstance(v, str):
                fail(f"{cell.coordinate} ({name}) is not text: {v!r}")
            out.append(v)
        out += [None] * (len(header) - len(out))
        values.append(out)
    return ws, header, values


def check_text_cells(values):
    neutralised = non_ascii = 0
    for row in values:
        for v in row:
            if not isinstance(v, str):
                continue
            if v.startswith(TRIGGERS) and not PLAIN_NEGATIVE.fullmatch(v):
                fail(f"formula-like text not neutralised: {v!r}")
            if v.startswith("'") and v[1:].startswith(TRIGGERS):
                neutralised += 1
            if any(ord(ch) > 127 for ch in v):
                non_ascii += 1
    return neutralised, non_ascii


def parse_csv(path):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        fail("the CSV has no UTF-8 byte-order mark")
    if not raw.endswith(b"\r\n"):
        fail("the CSV does not end with CRLF")
    text = raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def compare_rows(label, header, expected, got_header, got_rows):
    if got_header != header:
        fail(f"{label} header {got_header} differs from {header}")
    if len(got_rows) != len(expected):
        fail(f"{label} has {len(got_rows)} rows, the workbook {len(expected)}")
    for i, (want, got) in enumerate(zip(expected, got_rows)):
        want_text = [as_text(v) for v in want]
        if got != want_text:
            fail(f"{label} row {i + 2}: {got} != {want_text}")


def compare_api(path, header, values):
    api = json.load(open(path, encoding="utf-8"))
    if len(api["columns"]) != len(header):
        fail(f"API columns {api['columns']} vs header {header}")
    for i, api_row in enumerate(api["rows"]):
        if i >= len(values):
            fail(f"the API has more rows than the workbook ({len(values)})")
            break
        for name, a, x in zip(header, api_row, values[i]):
            if a is None or a == "":
                ok = x is None
            elif name in NUMBER_COLUMNS:
                ok = isinstance(x, (int, float)) and float(x) == float(a)
            elif name in DATE_COLUMNS:
                ok = isinstance(x, datetime.datetime) and x.date().isoformat() == a
            else:
                ok = x == neutralise(a)
            if not ok:
                fail(f"row {i + 2} column {name}: workbook {x!r}, API {a!r}")
    return len(api["rows"])


def libreoffice_rows(path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        fail("LibreOffice (soffice) is not installed")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        # Its own profile: no clash with another LibreOffice, nothing left in $HOME.
        profile = "file://" + os.path.join(tmp, "profile")
        filter_options = "csv:Text - txt - csv (StarCalc):44,34,76,1"  # comma, quote, UTF-8
        result = subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
             "--convert-to", filter_options, "--outdir", tmp, path],
            capture_output=True, text=True, timeout=300)
        out = os.path.join(tmp, os.path.splitext(os.path.basename(path))[0] + ".csv")
        if result.returncode != 0 or not os.path.exists(out):
            fail(f"LibreOffice could not convert the workbook: {result.stdout} {result.stderr}")
            return None
        text = open(out, encoding="utf-8-sig", newline="").read()
        return list(csv.reader(io.StringIO(text, newline="")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--xlsx", required=True)
    parser.add_argument("--csv")
    parser.add_argument("--api")
    parser.add_argument("--total", type=int)
    parser.add_argument("--libreoffice", action="store_true")
    args = parser.parse_args()

    summary = {}
    try:
        _, header, values = read_xlsx(args.xlsx, args.total)
        neutralised, non_ascii = check_text_cells(values)
        summary.update(rows=len(values), header=header, neutralised=neutralised, non_ascii=non_ascii,
                       first_row=[as_text(v) for v in values[0]] if values else [])
        if "Customer" in header:
            k = header.index("Customer")
            summary["customers"] = sorted({row[k] for row in values if row[k] is not None})
        if args.csv:
            parsed = parse_csv(args.csv)
            compare_rows("CSV", header, values, parsed[0] if parsed else [], parsed[1:])
        if args.api:
            summary["api_rows_compared"] = compare_api(args.api, header, values)
        if args.libreoffice:
            converted = libreoffice_rows(args.xlsx)
            if converted is not None:
                compare_rows("LibreOffice CSV", header, values, converted[0] if converted else [], converted[1:])
                summary["libreoffice_rows"] = max(0, len(converted) - 1)
    except Exception as e:  # a file a reader cannot open is a failed check, not a crash
        fail(f"{type(e).__name__}: {e}")
    summary["errors"] = errors
    summary["ok"] = not errors
    json.dump(summary, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())

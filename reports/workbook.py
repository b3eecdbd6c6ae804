"""report.xlsx from what exports.workbook_contents gives, every cell made safe there: its own
module, which the process writing the workbook of a large audit imports alone, with xlsxwriter and
pyarrow only (not pandas, the report's model, the rules or Scrapy)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import xlsxwriter

#: Excel's limits on a sheet name
SHEET_NAME_LENGTH = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")
#: a sheet's rows made Python texts at a time: a whole sheet's (100,000 URLs and evidence) held
#: tens of MiB more in the process writing the workbook
TEXTS_ROWS = 8192


def sheet_names(rule_ids: list[str]) -> list[str]:
    """Unique, valid sheet names for the rules ("Summary" is taken)."""
    taken = {"summary"}
    names = []
    for rule_id in rule_ids:
        base = _SHEET_NAME_FORBIDDEN.sub("-", rule_id)[:SHEET_NAME_LENGTH] or "rule"
        name, n = base, 2
        while name.lower() in taken:
            suffix = f"~{n}"
            name, n = base[:SHEET_NAME_LENGTH - len(suffix)] + suffix, n + 1
        taken.add(name.lower())
        names.append(name)
    return names


def _write_texts(sheet: Any, rows: pa.RecordBatch, header_format: Any) -> None:
    """A rule's sheet: its text cells straight to write_string (write_row would ask each cell's
    type), missing ones left blank; 100,000 rows a sheet, TEXTS_ROWS of them Python texts at a time."""
    sheet.write_row(0, 0, rows.schema.names, header_format)
    write_string = sheet.write_string
    for start in range(0, rows.num_rows, TEXTS_ROWS):
        columns = [column.to_pylist() for column in rows.slice(start, TEXTS_ROWS).columns]
        for offset, row in enumerate(zip(*columns), start=start + 1):
            for column, text in enumerate(row):
                if text is not None:
                    write_string(offset, column, text)


def write_workbook_of(path: Path, summary_sheet: tuple[list[tuple[str, Any]], list[str], list[list[Any]]],
                      rule_sheets: list[tuple[str, str, int]], sheets_file: str) -> Path:
    """report.xlsx from workbook_contents: the summary sheet's facts (label, value) and rules
    table (header, rows), and per fired rule in the table's order (its sheet's name, the CSV of
    its findings, how many), with the rows its sheet shows read from ``sheets_file``."""
    facts, rules_header, rules = summary_sheet
    # Formulas and links are never made from text: a crawled "=HYPERLINK(...)" stays text.
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "constant_memory": True}
    with xlsxwriter.Workbook(str(path), options) as book, pa.OSFile(sheets_file) as source:
        shown_rows = pa.ipc.open_file(source)
        bold = book.add_format({"bold": True})
        header = book.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1})
        sheet = book.add_worksheet("Summary")
        sheet.set_column(0, 0, 34)
        sheet.set_column(1, 5, 16)
        for row, (label, value) in enumerate(facts):
            sheet.write(row, 0, label, bold)
            sheet.write(row, 1, value)
        sheet.write_row(len(facts) + 1, 0, rules_header, header)
        for offset, row in enumerate(rules, start=len(facts) + 2):
            sheet.write_row(offset, 0, row)

        for sheet_number, (name, csv_name, findings) in enumerate(rule_sheets):
            shown = shown_rows.get_batch(sheet_number)
            rule_sheet = book.add_worksheet(name)
            rule_sheet.set_column(0, 1, 70)
            # the rule's own columns (id, severity, title...) are the same on every row: the
            # sheet's name and the summary's table say them once
            _write_texts(rule_sheet, shown, header)
            if findings > shown.num_rows:
                rule_sheet.write_string(shown.num_rows + 1, 0, f"... and {findings - shown.num_rows:,} more: "
                                        f"{csv_name} has all {findings:,}", bold)
    return path

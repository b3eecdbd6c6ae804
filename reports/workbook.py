"""report.xlsx from what exports.workbook_contents gives: its own module, which the process
writing the workbook of a large audit imports alone (not the report's model, rules or Scrapy)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import xlsxwriter

from .safe import is_str_dtype, neutralise, spreadsheet_safe

#: Excel's limits on a sheet name
SHEET_NAME_LENGTH = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def _sheet_names(rule_ids: list[str]) -> list[str]:
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


def _cell(value: Any) -> Any:
    """A value xlsxwriter can write: NA as blank, numpy scalars as Python ones."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _write_table(sheet: Any, frame: pd.DataFrame, header_format: Any, first_row: int = 0) -> None:
    sheet.write_row(first_row, 0, list(frame.columns), header_format)
    if all(is_str_dtype(frame[name].dtype) for name in frame.columns):
        # a rule's sheet: text cells straight to write_string (write_row would ask each cell's
        # type), missing ones left blank as write_row leaves them; 100,000 rows a sheet
        columns = [frame[name].to_numpy(dtype=object, na_value=None).tolist() for name in frame.columns]
        write_string = sheet.write_string
        for offset, row in enumerate(zip(*columns), start=first_row + 1):
            for column, text in enumerate(row):
                if text is not None:
                    write_string(offset, column, text)
        return
    for offset, row in enumerate(frame.itertuples(index=False, name=None), start=first_row + 1):
        sheet.write_row(offset, 0, [_cell(v) for v in row])


def write_workbook_of(path: Path, summary_sheet: tuple[list[tuple[str, Any]], pd.DataFrame],
                      rule_sheets: list[tuple[str, int]], sheets_file: str) -> Path:
    """report.xlsx from workbook_contents: the summary sheet's facts and rules table, and
    (the CSV of its findings, how many) per fired rule in the table's order, with the rows its sheet shows
    read from ``sheets_file``."""
    facts, rules = summary_sheet
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
            sheet.write(row, 1, neutralise(value) if isinstance(value, str) else _cell(value))
        _write_table(sheet, spreadsheet_safe(rules), header, first_row=len(facts) + 1)

        names = _sheet_names(list(rules["rule"]))
        for sheet_number, ((csv_name, findings), name) in enumerate(zip(rule_sheets, names)):
            shown = shown_rows.get_batch(sheet_number).to_pandas()
            rule_sheet = book.add_worksheet(name)
            rule_sheet.set_column(0, 1, 70)
            # the rule's own columns (id, severity, title...) are the same on every row: the
            # sheet's name and the summary's table say them once
            _write_table(rule_sheet, spreadsheet_safe(shown), header)
            if findings > len(shown):
                rule_sheet.write_string(len(shown) + 1, 0, f"... and {findings - len(shown):,} more: "
                                        f"{csv_name} has all {findings:,}", bold)
    return path

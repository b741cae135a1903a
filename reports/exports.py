"""A report's sections as a file: CSV and XLSX the way core.exports writes every console export
(BOM for Excel, formulas neutralised), and PDF with ReportLab.

A report has several tables (a ranking has four), so CSV puts each under its title, XLSX gives
each a sheet, PDF a heading. The PDF uses ReportLab's built-in Adobe CID font for Simplified
Chinese (STSong-Light): the reader's PDF viewer supplies the glyphs, so no font file ships and
both languages print."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from core.exports import XLSX, _xlsx_cell, safe_csv_cell

FORMATS = ("csv", "xlsx", "pdf")
PDF_FONT = "STSong-Light"


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float):
        return value
    return str(value)


def report_file(title: str, sections, fmt: str, *, subtitle: str = "") -> tuple[bytes, str]:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([safe_csv_cell(str(title)), safe_csv_cell(subtitle)])
        for section in sections:
            writer.writerow([])
            writer.writerow([safe_csv_cell(str(section.title))])
            writer.writerow([safe_csv_cell(str(h)) for h in section.headers])
            writer.writerows([safe_csv_cell(_plain(v)) for v in row] for row in section.rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        for index, section in enumerate(sections, start=1):
            sheet = workbook.create_sheet(f"{index} {section.title}"[:31].replace("/", "-"))
            sheet.append([_xlsx_cell(sheet, str(h)) for h in section.headers])
            for row in section.rows:
                sheet.append([_xlsx_cell(sheet, _plain(v)) for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), XLSX
    if fmt == "pdf":
        return _pdf(title, sections, subtitle), "application/pdf"
    raise ValueError(f"unknown export format {fmt!r}")


def _pdf(title, sections, subtitle) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.lib.utils import escapeOnce
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "Normal"):
        styles[name].fontName = PDF_FONT
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm
    )
    story = [Paragraph(escapeOnce(str(title)), styles["Title"])]
    if subtitle:
        story.append(Paragraph(escapeOnce(subtitle), styles["Normal"]))
    for section in sections:
        story += [Spacer(1, 4 * mm), Paragraph(escapeOnce(str(section.title)), styles["Heading2"])]
        data = [[str(h) for h in section.headers]] + [[_cell(v) for v in row] for row in section.rows]
        if len(data) == 1:
            data.append(["—"] + [""] * (len(section.headers) - 1))
        table = LongTable(data, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), PDF_FONT, 7 if len(section.headers) > 12 else 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c4")),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story.append(table)
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    document.build(
        story,
        onFirstPage=lambda canvas, doc: _footer(canvas, stamp),
        onLaterPages=lambda canvas, doc: _footer(canvas, stamp),
    )
    return buffer.getvalue()


def _footer(canvas, stamp):
    canvas.saveState()
    canvas.setFont(PDF_FONT, 7)
    canvas.drawRightString(canvas._pagesize[0] - 36, 20, f"{stamp} · {canvas.getPageNumber()}")
    canvas.restoreState()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent <= -2 else f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def report_response(title, sections, fmt: str, *, filename: str, subtitle: str = "") -> HttpResponse:
    content, content_type = report_file(title, sections, fmt, subtitle=subtitle)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response

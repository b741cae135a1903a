"""A partner's monthly statement: every accrual earned in the month with the order's figures it
was computed from, what refunds took back and which payout wrote it off, then the month's totals.
As XLSX (through core.exports, like every export) or PDF (ReportLab, with its built-in CJK font so
Chinese names print without shipping a font file)."""

from __future__ import annotations

import calendar
import datetime
import io
from decimal import Decimal

from django.utils.translation import gettext as _

from accounting.ledger import total
from accounting.models import Accrual, Withdrawal


def month_range(month: str) -> tuple[datetime.date, datetime.date]:
    """'2026-11' -> (first day, last day); ValueError for anything else."""
    year, number = (int(part) for part in month.split("-"))
    if not (2000 <= year <= 2100 and 1 <= number <= 12):
        raise ValueError(month)
    return datetime.date(year, number, 1), datetime.date(year, number, calendar.monthrange(year, number)[1])


def statement_headers() -> list[str]:
    return [
        _("Date"),
        _("Order"),
        _("Site"),
        _("Device"),
        _("Rule"),
        _("Basis"),
        _("Basis amount"),
        _("Share"),
        _("Reversed"),
        _("Status"),
        _("Written off"),
        _("Paid by"),
    ]


def statement_rows(partner, month: str) -> tuple[list[list], dict]:
    first, last = month_range(month)
    accruals = (
        Accrual.objects.filter(partner=partner, earned_on__gte=first, earned_on__lte=last)
        .select_related("order", "site", "device", "rule")
        .prefetch_related("write_offs__withdrawal")
        .order_by("earned_on", "pk")
    )
    rows = []
    for accrual in accruals:
        rows.append(
            [
                accrual.earned_on.isoformat(),
                accrual.order.number,
                str(accrual.site or ""),
                str(accrual.device or ""),
                f"{accrual.rule.code} v{accrual.rule.version}",
                str(accrual.get_basis_display()),
                accrual.basis_amount,
                accrual.amount,
                accrual.reversed_amount,
                str(accrual.get_status_display()),
                accrual.written_off,
                ", ".join(w.withdrawal.number for w in accrual.write_offs.all()),
            ]
        )
    totals = {
        "accrued": total(accruals, "amount"),
        "reversed": total(accruals, "reversed_amount"),
        "written_off": total(accruals, "written_off"),
    }
    totals["net"] = totals["accrued"] - totals["reversed"]
    totals["paid_out"] = total(
        Withdrawal.objects.filter(
            partner=partner, status=Withdrawal.Status.PAID, paid_at__date__gte=first, paid_at__date__lte=last
        )
    )
    return rows, totals


def _totals_rows(totals: dict) -> list[list]:
    return [
        [_("Accrued"), totals["accrued"]],
        [_("Reversed by refunds"), totals["reversed"]],
        [_("Net earnings"), totals["net"]],
        [_("Written off"), totals["written_off"]],
        [_("Withdrawals paid"), totals["paid_out"]],
    ]


def statement_xlsx(partner, month: str) -> bytes:
    from core.exports import table_file

    rows, totals = statement_rows(partner, month)
    blank = [""] * (len(statement_headers()) - 2)
    rows = rows + [[""] * len(statement_headers())] + [[*pair, *blank] for pair in _totals_rows(totals)]
    content, _type = table_file(statement_headers(), rows, "xlsx", sheet=f"{month}")
    return content


def statement_pdf(partner, month: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    rows, totals = statement_rows(partner, month)
    styles = getSampleStyleSheet()
    styles["Title"].fontName = font
    styles["Normal"].fontName = font
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=f"{partner.name} {month}")

    def cell(value):
        return f"{value:.2f}" if isinstance(value, Decimal) else str(value)

    table = Table([statement_headers()] + [[cell(v) for v in row] for row in rows], repeatRows=1)
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 7),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("ALIGN", (6, 1), (8, -1), "RIGHT"),
        ]
    )
    table.setStyle(style)
    summary = Table([[label, cell(value)] for label, value in _totals_rows(totals)])
    summary.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    story = [
        Paragraph(
            _("Statement of %(partner)s for %(month)s") % {"partner": partner.name, "month": month}, styles["Title"]
        ),
        Spacer(1, 6),
        table,
        Spacer(1, 12),
        summary,
    ]
    document.build(story)
    return buffer.getvalue()

"""EVA-DTS (DEX/UCS) audit parsing.

One segment per line, fields separated by `*`. We read the blocks operators reconcile with
(DXS/ST/ID1/ID4/ID5/VA1/CA2/DA2/PA1/PA2/EA*/SE/DXE) and keep every other segment as it came, so a
later version can read more without re-collecting files. Money is in the machine's smallest unit;
ID4's first field gives the decimal places. A missing envelope, trailing junk, NUL bytes (which
some telemetry boxes pad a file with) and a PA1 without a selection number are tolerated with a
warning; a file with no audit data, or a known field that is not a number, is refused with the
line it is on. A payment block the machine does not send (no CA2, no DA2) is unknown, not zero
(ADR 0009).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

KNOWN = {"DXS", "ST", "ID1", "ID4", "ID5", "VA1", "CA2", "DA2", "PA1", "PA2", "EA1", "EA2", "EA3", "SE", "DXE"}
SEGMENT = re.compile(r"^[A-Z]{1,3}[0-9]{0,3}$")
MAX_BYTES = 2_000_000


class DexError(ValueError):
    pass


@dataclass
class Selection:
    selection: str
    price: int = 0  # smallest unit
    name: str = ""
    count: int = 0  # paid vends since initialisation (PA2 field 1)
    value: int = 0  # value of paid vends since initialisation (PA2 field 2)


@dataclass
class DexAudit:
    machine_serial: str = ""
    model: str = ""
    decimals: int = 2
    currency: str = ""
    read_at: datetime.datetime | None = None
    vends_value: int = 0
    vends_count: int = 0
    # None: the machine sent no CA2 (DA2) block, so its cash (cashless) takings are unknown.
    cash_value: int | None = None
    cash_count: int | None = None
    cashless_value: int | None = None
    cashless_count: int | None = None
    selections: dict[str, Selection] = field(default_factory=dict)
    events: list[list[str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    segment_count: int = 0

    def money(self, smallest_units: int | None) -> Decimal | None:
        """The amount in currency units, exact: 1235 with 3 decimal places is 1.235."""
        if smallest_units is None:
            return None
        return Decimal(smallest_units).scaleb(-self.decimals)

    @property
    def selection_value_total(self) -> int:
        return sum(s.value for s in self.selections.values())

    def reconcile(self) -> None:
        """Cross-check the totals; anything that does not tie out becomes a warning."""
        if self.selections and self.selection_value_total != self.vends_value:
            self.warnings.append(
                f"sum of PA2 values {self.selection_value_total} differs from the VA1 value {self.vends_value}"
            )
        if self.cash_value is None or self.cashless_value is None:
            return  # a block the machine does not send is unknown, not zero: nothing to tie out
        paid = self.cash_value + self.cashless_value
        if (self.cash_value or self.cashless_value) and paid != self.vends_value:
            self.warnings.append(f"CA2 + DA2 values {paid} differ from the VA1 value {self.vends_value}")
        counts = self.cash_count + self.cashless_count
        if (self.cash_count or self.cashless_count) and counts != self.vends_count:
            self.warnings.append(f"vend counts do not tie out: CA2 + DA2 counts {counts}, VA1 count {self.vends_count}")


def _int(fields: list[str], index: int, line: int, tag: str) -> int:
    value = fields[index].strip() if index < len(fields) else ""
    if value == "":
        return 0
    if not value.lstrip("-").isdigit():
        raise DexError(f"line {line}: {tag} field {index} is not a number: {value[:20]!r}")
    return int(value)


def parse(content: bytes | str) -> DexAudit:
    if isinstance(content, bytes):
        if len(content) > MAX_BYTES:
            raise DexError("the file is larger than 2 MB")
        text = content.decode("latin-1")
    else:
        text = content
    audit = DexAudit()
    nul_bytes = text.count("\x00")
    if nul_bytes:
        # PostgreSQL text and jsonb cannot hold NUL; the bytes as received are kept apart (DexRead.raw).
        text = text.replace("\x00", "")
        audit.warnings.append(f"{nul_bytes} NUL bytes removed before reading")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    seen_dxs = seen_dxe = False
    st_line = se_value = None
    current: Selection | None = None
    skipped_pa1: list[int] = []  # lines of PA1 segments with an empty selection field
    last_pa1 = 0
    recognised = 0
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        if not seen_dxs and line.startswith("<") and ">DXS*" in line:
            # Telemetry boxes (N&W) put their own `<…|…>` header on the DXS line.
            audit.warnings.append(
                f"line {number}: a header before DXS ignored: {line[: line.index('>DXS*') + 1][:30]!r}"
            )
            line = line[line.index(">DXS*") + 1 :]
        tag, _sep, rest = line.partition("*")
        fields = [tag, *rest.split("*")] if _sep else [tag]
        if not SEGMENT.match(tag):
            if seen_dxe:
                audit.warnings.append(f"line {number}: trailing data after DXE ignored")
                break
            audit.warnings.append(f"line {number}: not a DEX segment, skipped: {line[:30]!r}")
            continue
        if seen_dxe:
            audit.warnings.append(f"line {number}: segment after DXE ignored")
            break
        audit.segment_count += 1
        if tag not in KNOWN:
            audit.unknown.append(line)
            continue
        recognised += 1
        if tag == "DXS":
            seen_dxs = True
        elif tag == "DXE":
            seen_dxe = True
        elif tag == "ST":
            st_line = audit.segment_count
        elif tag == "SE":
            se_value = _int(fields, 1, number, tag)
            if st_line is not None and se_value != audit.segment_count - st_line + 1:
                audit.warnings.append(
                    f"SE says {se_value} segments, the transaction set has {audit.segment_count - st_line + 1}"
                )
        elif tag == "ID1":
            audit.machine_serial = fields[1].strip()[:40] if len(fields) > 1 else ""
            audit.model = fields[2].strip()[:40] if len(fields) > 2 else ""
        elif tag == "ID4":
            decimals = _int(fields, 1, number, tag)
            if not 0 <= decimals <= 4:
                raise DexError(f"line {number}: ID4 gives {decimals} decimal places")
            audit.decimals = decimals
            audit.currency = fields[3].strip()[:3] if len(fields) > 3 else ""
        elif tag == "ID5":
            audit.read_at = _read_at(fields, number, audit)
        elif tag == "VA1":
            audit.vends_value, audit.vends_count = _int(fields, 1, number, tag), _int(fields, 2, number, tag)
        elif tag == "CA2":
            audit.cash_value, audit.cash_count = _int(fields, 1, number, tag), _int(fields, 2, number, tag)
        elif tag == "DA2":
            audit.cashless_value, audit.cashless_count = _int(fields, 1, number, tag), _int(fields, 2, number, tag)
        elif tag == "PA1":
            selection = fields[1].strip() if len(fields) > 1 else ""
            if not selection:
                skipped_pa1.append(number)
                current = None  # its PA2 belongs to no selection we can name
                continue
            last_pa1 = number
            current = audit.selections.setdefault(selection, Selection(selection=selection))
            current.price = _int(fields, 2, number, tag)
            current.name = fields[3].strip()[:60] if len(fields) > 3 else ""
        elif tag == "PA2":
            if current is None:
                if not (skipped_pa1 and skipped_pa1[-1] > last_pa1):
                    audit.warnings.append(f"line {number}: PA2 without a PA1 before it, skipped")
                continue
            current.count, current.value = _int(fields, 1, number, tag), _int(fields, 2, number, tag)
        elif tag.startswith("EA"):
            audit.events.append(fields)
    if not recognised or (not audit.vends_count and not audit.selections and not audit.machine_serial):
        raise DexError("no DEX audit data found")
    if skipped_pa1:
        shown = ", ".join(str(n) for n in skipped_pa1[:5]) + (", …" if len(skipped_pa1) > 5 else "")
        audit.warnings.append(
            f"{len(skipped_pa1)} PA1 segments without a selection number (lines {shown}): "
            "those selections and their PA2 counters were skipped, the rest of the file was read"
        )
    if not seen_dxs:
        audit.warnings.append("the DXS envelope header is missing")
    if not seen_dxe:
        audit.warnings.append("the DXE envelope trailer is missing")
    audit.reconcile()
    return audit


# ID5 dates are YYMMDD in the standard, YYYYMMDD in many machines (Animo, Sielaff); times HHMM or HHMMSS.
DATE_FORMATS = {6: "%y%m%d", 8: "%Y%m%d"}
TIME_FORMATS = {4: "%H%M", 6: "%H%M%S"}


def _read_at(fields: list[str], number: int, audit: DexAudit) -> datetime.datetime | None:
    date = fields[1].strip() if len(fields) > 1 else ""
    time = (fields[2].strip() if len(fields) > 2 else "") or "0000"
    time = time[:6] if len(time) >= 6 else time[:4].ljust(4, "0")  # HHMMSS or HHMM
    try:
        if len(date) not in DATE_FORMATS:
            raise ValueError(date)
        return datetime.datetime.strptime(date + time, DATE_FORMATS[len(date)] + TIME_FORMATS[len(time)])
    except ValueError:
        audit.warnings.append(f"line {number}: ID5 date {date!r} {time!r} is not a date; read time unknown")
        return None

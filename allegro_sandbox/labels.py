"""Label, protocol and ZPL files as WzA sends them: one page (or ZPL block) per parcel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# mm; A6 is the label printers' size, A4 holds four labels (with cut lines if asked)
PAGE = {"A6": (105.0, 148.0), "A4": (210.0, 297.0)}


def _pdf(orientation: str = "P", size: tuple[float, float] = PAGE["A6"]) -> FPDF:
    pdf = FPDF(orientation=orientation, unit="mm", format=size)
    pdf.set_auto_page_break(False)
    pdf.set_compression(False)  # the text stays readable to a plain PDF reader
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    return pdf


def _address_lines(addr: dict[str, Any]) -> list[str]:
    lines = [addr.get("company") or "", addr.get("name") or ""]
    lines += [addr.get("street") or "", f"{addr.get('postalCode', '')} {addr.get('city', '')}"]
    lines += [addr.get("countryCode") or "", f"tel. {addr.get('phone', '')}"]
    if addr.get("point"):
        lines.append(f"Punkt: {addr['point']}")
    return [line.strip() for line in lines if line and line.strip()]


def _label_block(pdf: FPDF, x: float, y: float, w: float, sh: Any, index: int) -> None:
    pkg = sh.input["packages"][index]
    waybill = sh.waybills[index]
    pdf.set_xy(x, y)
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(w, 8, f"{sh.carrier}  {index + 1}/{len(sh.waybills)}", new_x="LMARGIN")
    pdf.set_xy(x, y + 10)
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(w, 4, "Nadawca:")
    pdf.set_xy(x, y + 14)
    pdf.multi_cell(w, 3.5, "\n".join(_address_lines(sh.input["sender"])))
    pdf.set_xy(x, y + 42)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(w, 4, "Odbiorca:")
    pdf.set_xy(x, y + 47)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(w, 4.5, "\n".join(_address_lines(sh.input["receiver"])))
    pdf.set_xy(x, y + 85)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(w, 9, waybill)
    pdf.set_xy(x, y + 96)
    pdf.set_font("DejaVu", "", 9)
    if pkg.get("textOnLabel"):
        pdf.multi_cell(w, 4, pkg["textOnLabel"])
    if sh.input.get("referenceNumber"):
        pdf.set_xy(x, y + 118)
        pdf.cell(w, 4, f"Ref: {sh.input['referenceNumber']}")
    cod = sh.input.get("cashOnDelivery")
    if cod:
        pdf.set_xy(x, y + 124)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(w, 5, f"POBRANIE {cod['amount']} {cod['currency']}")


def label_pdf(shipments: list[Any], page_size: str, cut_line: bool) -> bytes:
    parcels = [(sh, i) for sh in shipments for i in range(len(sh.waybills))]
    if page_size == "A4":
        pdf = _pdf(size=PAGE["A4"])
        for n, (sh, i) in enumerate(parcels):
            slot = n % 4
            if slot == 0:
                pdf.add_page()
                if cut_line:
                    pdf.dashed_line(105, 0, 105, 297)
                    pdf.dashed_line(0, 148.5, 210, 148.5)
            _label_block(pdf, 5 + 105 * (slot % 2), 5 + 148.5 * (slot // 2), 95, sh, i)
    else:
        pdf = _pdf()
        for sh, i in parcels:
            pdf.add_page()
            _label_block(pdf, 5, 5, 95, sh, i)
    return bytes(pdf.output())


def label_zpl(shipments: list[Any]) -> bytes:
    blocks = []
    for sh in shipments:
        rcv = sh.input["receiver"]
        for i, waybill in enumerate(sh.waybills):
            text = sh.input["packages"][i].get("textOnLabel") or ""
            lines = [
                "^XA",
                "^CI28",
                f"^FO30,30^A0N,40,40^FD{sh.carrier} {i + 1}/{len(sh.waybills)}^FS",
                f"^FO30,100^A0N,30,30^FD{rcv.get('name') or rcv.get('company') or ''}^FS",
                f"^FO30,140^A0N,30,30^FD{rcv.get('street', '')}^FS",
                f"^FO30,180^A0N,30,30^FD{rcv.get('postalCode', '')} {rcv.get('city', '')}^FS",
                f"^FO30,260^BCN,120,Y,N,N^FD{waybill}^FS",
                f"^FO30,440^A0N,26,26^FD{text}^FS",
                "^XZ",
            ]
            blocks.append("\n".join(lines))
    return ("\n".join(blocks) + "\n").encode()


def protocol_pdf(shipments: list[Any], seller_name: str, day: str) -> bytes:
    pdf = _pdf(size=PAGE["A4"])
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.set_xy(10, 10)
    pdf.cell(190, 8, f"Protokół nadania przesyłek — {day}")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_xy(10, 20)
    pdf.cell(190, 6, f"Nadawca: {seller_name}")
    y = 32.0
    parcels = [(s, w) for s in shipments for w in s.waybills]
    for n, (sh, waybill) in enumerate(parcels, start=1):
        if y > 280:
            pdf.add_page()
            y = 10.0
        rcv = sh.input["receiver"]
        pdf.set_xy(10, y)
        pdf.cell(
            190, 6, f"{n}. {sh.carrier} {waybill} — {rcv.get('name', '')}, {rcv.get('city', '')}"
        )
        y += 6
    pdf.set_xy(10, y + 10)
    pdf.cell(190, 6, f"Liczba paczek: {sum(len(sh.waybills) for sh in shipments)}")
    return bytes(pdf.output())

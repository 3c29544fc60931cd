"""The look every .docx the product prints shares (GB/T 9704 公文 page, fonts, the table style) and the
table row whose field titles are its column headers: imported by the reports and by the notices
(督办单, 通报) without the reports' pandas and charts."""

from __future__ import annotations

from typing import Any, ClassVar

from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from pydantic import BaseModel, ConfigDict

BODY_FONT, HEADING_FONT, TITLE_FONT, TABLE_FONT, LATIN_FONT = "仿宋", "黑体", "宋体", "宋体", "Times New Roman"
TABLE_STYLE = "表格文字"


class ReportTableRow(BaseModel):
    """A table row whose field titles are the Chinese column headers."""

    model_config = ConfigDict(frozen=True)
    table_title: ClassVar[str] = ""

    @classmethod
    def columns(cls) -> list[tuple[str, str]]:
        fields = [(name, f.title or name) for name, f in cls.model_fields.items()]
        computed = [(name, f.title or name) for name, f in cls.model_computed_fields.items()]
        return fields + computed

    @classmethod
    def headers(cls) -> list[str]:
        return [title for _, title in cls.columns()]

    def cells(self) -> list[Any]:
        return [getattr(self, name) for name, _ in self.columns()]


def set_fonts(rpr_owner: Any, east_asian: str, latin: str = LATIN_FONT) -> None:
    """Set Latin and East Asian fonts; Word ignores font.name for Chinese text."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)  # theme fonts would override the names
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asian)


def setup_page_and_styles(document: DocxDocument) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    # GB/T 9704 公文 margins
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = document.styles["Normal"]
    normal.font.size = Pt(16)  # 三号
    set_fonts(normal.element, BODY_FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    for name, size in (("Heading 1", 16), ("Heading 2", 14)):
        style = document.styles[name]
        style.font.size, style.font.bold, style.font.italic = Pt(size), False, False
        style.font.color.rgb = RGBColor(0, 0, 0)
        set_fonts(style.element, HEADING_FONT)
    # Table text as a style: the cells then carry no formatting of their own (a province-wide
    # annex has tens of thousands of cells; per-run formatting made it several times slower).
    cell_style = document.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cell_style.base_style = normal
    cell_style.font.size = Pt(10.5)  # 五号
    set_fonts(cell_style.element, TABLE_FONT)
    cell_style.paragraph_format.first_line_indent = Pt(0)
    cell_style.paragraph_format.line_spacing = 1.0
    cell_style.paragraph_format.space_after = Pt(0)

"""Safe files: .xlsx archives are measured before anything parses them; attachments are judged by
their content, not their name; file names lose bidi and control characters.

The builders here (a real workbook, a decompression bomb made of it, small valid files of each
attachment type) are shared with tests/integration/test_upload_fuzz.py."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib

import openpyxl
import pytest

from domain.errors import Invalid
from exchange.errors import ImportProblem
from exchange.parsing import XLSX_MAX_CELLS, check_xlsx_archive
from services.attachments import Upload, check_uploads, safe_filename

# --- builders ------------------------------------------------------------------------------------


def workbook_bytes(rows: int = 3, columns: int = 3) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([f"列{c}" for c in range(columns)])
    for r in range(rows):
        sheet.append([f"值{r}-{c}" for c in range(columns)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_of(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand from (name, raw deflate data, crc32, inflated size): the only way to
    put a stream we built ourselves (a bomb) into an archive."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0))
        out.write(encoded + data)
        central.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(encoded)
    directory = central.getvalue()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), out.tell(), 0)
    return out.getvalue() + directory + end


def _deflated(data: bytes) -> tuple[str, bytes, int, int]:
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    return "", compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def bomb_member(name: str, inflated_mb: int) -> tuple[str, bytes, int, int]:
    """A deflate stream that inflates to `inflated_mb` MB of shared-string XML: one full-flushed
    1 MB block (it refers to nothing before itself) repeated, then an empty final block."""
    block = b"<si><t>A</t></si>" * (1024 * 1024 // 17)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(inflated_mb):
        crc = zlib.crc32(block, crc)
    return name, one * inflated_mb + b"\x03\x00", crc, len(block) * inflated_mb


def xlsx_with(replaced: dict[str, tuple[str, bytes, int, int]], base: bytes | None = None) -> bytes:
    """A real workbook whose members named in `replaced` are swapped for (or added as) the given
    streams; an added sharedStrings part is declared where Excel declares it, so openpyxl reads it."""
    with zipfile.ZipFile(io.BytesIO(base or workbook_bytes())) as book:
        parts = {info.filename: book.read(info) for info in book.infolist()}
    if "xl/sharedStrings.xml" in replaced and "xl/sharedStrings.xml" not in parts and "xl/workbook.xml" in parts:
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId99"/></Relationships>',
        )
    members = [replaced.get(name) or (name, *_deflated(data)[1:]) for name, data in parts.items()]
    members += [member for name, member in replaced.items() if name not in parts]
    return zip_of(members)


def xlsx_bomb(inflated_mb: int = 900) -> bytes:
    return xlsx_with({"xl/sharedStrings.xml": bomb_member("xl/sharedStrings.xml", inflated_mb)})


def sheet_xml(dimension: str, cells: int) -> bytes:
    per_row = 1000
    body = "".join(
        f'<row r="{r + 1}">'
        + "".join(f"<c><v>{r * c}</v></c>" for c in range(min(per_row, cells - r * per_row)))
        + "</row>"
        for r in range(-(-cells // per_row))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{body}</sheetData></worksheet>'
    ).encode()


def xlsx_with_sheet(xml: bytes) -> bytes:
    _, data, crc, size = _deflated(xml)
    return xlsx_with({"xl/worksheets/sheet1.xml": ("xl/worksheets/sheet1.xml", data, crc, size)})


PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\n"
    b"endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


# --- .xlsx archives --------------------------------------------------------------------------------


def test_a_real_workbook_passes():
    check_xlsx_archive(workbook_bytes(rows=200, columns=10), "台账.xlsx")


def test_a_decompression_bomb_is_refused_with_little_memory():
    bomb = xlsx_bomb(900)
    assert len(bomb) < 3 * 1024 * 1024  # a few MB on the wire, well under the 20 MB upload limit …
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:  # … 900 MB once inflated
        assert z.getinfo("xl/sharedStrings.xml").file_size >= 900_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ImportProblem) as refused:
            check_xlsx_archive(bomb, "项目台账.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()  # tracing left on would slow every later test in this process
    assert "「项目台账.xlsx」" in str(refused.value) and "拒绝导入" in str(refused.value)
    assert peak < 20 * 1024 * 1024  # refused from the zip directory: nothing was inflated


def test_a_highly_compressed_member_is_refused_even_under_the_total_limit():
    bomb = xlsx_with({"xl/sharedStrings.xml": bomb_member("xl/sharedStrings.xml", 30)})
    with pytest.raises(ImportProblem, match="压缩比异常"):
        check_xlsx_archive(bomb, "a.xlsx")


def test_too_many_members_are_refused():
    members = [_deflated(b"x")[1:] for _ in range(600)]
    archive = zip_of([(f"xl/media/{i}.bin", *m) for i, m in enumerate(members)])
    with pytest.raises(ImportProblem, match="内部文件"):
        check_xlsx_archive(archive, "a.xlsx")


def test_a_sheet_that_declares_a_huge_range_is_refused():
    """openpyxl pads every row of a read-only sheet to the declared width."""
    with pytest.raises(ImportProblem, match="范围超过"):
        check_xlsx_archive(xlsx_with_sheet(sheet_xml("A1:XFD1048576", 3)), "a.xlsx")


def test_a_sheet_with_too_many_cells_is_refused():
    with pytest.raises(ImportProblem, match="单元格超过"):
        check_xlsx_archive(xlsx_with_sheet(sheet_xml("A1", XLSX_MAX_CELLS + 10)), "a.xlsx")


def unreadable_zip_version(data: bytes) -> bytes:
    """The archive with its first directory entry claiming zip version 11.7 (one flipped byte, found by
    the upload fuzz): zipfile's reader raises NotImplementedError for it, not BadZipFile."""
    at = data.index(b"PK\x01\x02") + 6  # the entry's "version needed to extract"
    return data[:at] + struct.pack("<H", 117) + data[at + 2 :]


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        b"PK\x05\x06" + b"\x00" * 18,
        b"",
        pytest.param(unreadable_zip_version(workbook_bytes()), id="unreadable-zip-version"),
    ],
)
def test_a_broken_archive_is_an_import_problem(data):
    with pytest.raises(ImportProblem, match="不是有效的 Excel 文件"):
        check_xlsx_archive(data, "a.xlsx")


def test_a_member_that_does_not_inflate_is_an_import_problem():
    broken = xlsx_with({"xl/worksheets/sheet1.xml": ("xl/worksheets/sheet1.xml", b"\xff" * 64, 0, 1000)})
    with pytest.raises(ImportProblem, match="无法作为 Excel 文件打开"):
        check_xlsx_archive(broken, "a.xlsx")


# --- attachments -----------------------------------------------------------------------------------


def test_valid_files_of_every_type_pass():
    files = [
        Upload("报告.pdf", "", PDF),
        Upload("照片.png", "", PNG),
        Upload("照片.jpg", "", JPEG),
        Upload("台账.xlsx", "", workbook_bytes()),
        Upload("说明.docx", "", docx_bytes()),
        Upload("旧版.doc", "", OLE),
        Upload("说明.txt", "", "整改已完成，金额 <5 万元。".encode()),
        Upload("表.csv", "", "名称,金额\n甲,1\n".encode("gb18030")),
    ]
    assert [c.filename for c in check_uploads(files)] == [f.filename for f in files]


@pytest.mark.parametrize(
    "upload, why",
    [
        (Upload("说明.txt", "", b"hello <script>alert(1)</script>"), "网页或脚本"),
        (Upload("说明.txt", "", b"<HTML><body>x</body></HTML>"), "网页或脚本"),
        (Upload("说明.txt", "", "<html>".encode("gb18030")), "网页或脚本"),
        (Upload("图.txt", "", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'), "网页或脚本"),
        (Upload("表.csv", "", b'a,b\n1,"<iframe src=x>"\n'), "网页或脚本"),
        (Upload("表.csv", "", b"a,b\n1,javascript:alert(1)\n"), "网页或脚本"),
        (Upload("报告.pdf", "", b"%PDF-1.4\n<html><script>alert(1)</script></html>"), "网页或脚本"),
        (Upload("报告.pdf", "", PDF.replace(b"/Catalog", b"/Catalog /OpenAction << /S /JavaScript >>")), "脚本"),
        (Upload("报告.pdf", "", PDF.replace(b"/Catalog", b"/Catalog /Names << /EmbeddedFiles 3 0 R >>")), "嵌入"),
        (Upload("报告.pdf", "", b"<!DOCTYPE html><html>%PDF-1.4</html>"), "不符"),
        (Upload("图.svg", "", b"<svg onload=alert(1)/>"), "不支持"),
        (Upload("照片.png", "", PNG[:16] + b"<html><script>x</script>"), "网页或脚本"),
        (Upload("资料.zip", "", docx_bytes()), "压缩包"),
        (Upload("资料.7z", "", b"7z\xbc\xaf\x27\x1c"), "压缩包"),
        (Upload("说明.docx", "", xlsx_bomb(300)), "解压后超过"),
        (Upload("说明.docx", "", workbook_bytes()), "不是有效的文档"),
        (Upload("台账.xlsx", "", b"PK\x03\x04garbage"), "不是有效的文档"),
        (Upload("说明.docx", "", unreadable_zip_version(docx_bytes())), "不是有效的文档"),
        (Upload("说明.txt", "", b"\x00\x01binary"), "不是文本"),
    ],
)
def test_content_decides_not_the_name(upload, why):
    with pytest.raises(Invalid) as refused:
        check_uploads([upload])
    assert why in str(refused.value)


def test_a_macro_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/vbaProject.bin", b"\x00" * 10)
    with pytest.raises(Invalid, match="宏"):
        check_uploads([Upload("说明.docx", "", out.getvalue())])


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # RIGHT-TO-LEFT OVERRIDE: shown as "invoiceexe.pdf"
        ("报告\u2066\u2069.pdf", "报告.pdf"),
        ("a\u202a\u202b\u202c\u202d.pdf", "a.pdf"),
        ("tab\there\r\n.pdf", "tabhere.pdf"),
        ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
        ("a\x00b.txt", "ab.txt"),
    ],
)
def test_bidi_and_control_characters_are_stripped_from_names(raw, safe):
    assert safe_filename(raw) == safe


def test_a_spoofed_name_is_judged_by_its_real_extension():
    with pytest.raises(Invalid) as refused:
        check_uploads([Upload("报告\u202etxt.exe", "", b"MZ\x90\x00")])
    assert "不支持的文件类型" in str(refused.value) and "\u202e" not in str(refused.value)

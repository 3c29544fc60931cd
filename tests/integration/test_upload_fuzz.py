"""A seeded generator of a few hundred bad import files (.xlsx / .csv) and bad attachments, fed to
the real import service and the real attachment check: every one is refused with a user's message
(a domain.errors.UserError), none is accepted, nothing raises anything else — on SQLite and
PostgreSQL.

A handful of valid attachments ride along so that "everything refused" cannot pass by refusing
everything."""

from __future__ import annotations

import datetime as dt
import io
import random
import tracemalloc
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from domain.errors import UserError
from services.attachments import Upload, check_uploads
from services.imports import import_file, template
from tests.unit.test_upload_safety import (
    JPEG,
    OLE,
    PDF,
    PNG,
    bomb_member,
    docx_bytes,
    sheet_xml,
    workbook_bytes,
    xlsx_with,
    xlsx_with_sheet,
    zip_of,
)

SEED = 20201109
IMPORT_CASES = 240
ATTACHMENT_CASES = 300
KINDS = ("projects", "leads", "users")
AT = dt.datetime(2020, 6, 2, 3, 0, tzinfo=dt.UTC)

# --- bad import files, by class ------------------------------------------------------------------------


@cache
def _bomb(inflated_mb: int) -> tuple[str, bytes, int, int]:
    return bomb_member("xl/sharedStrings.xml", inflated_mb)


def _imp_bomb(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return xlsx_with({"xl/sharedStrings.xml": _bomb(rng.choice((150, 400, 900)))}, template(kind)), "拒绝导入"


def _imp_wide_range(rng: random.Random, kind: str) -> tuple[bytes, str]:
    column = rng.choice(("XFD", "ZZ", "AMJ", "CV"))
    return xlsx_with_sheet(sheet_xml(f"A1:{column}{rng.randint(30_000, 1_048_576)}", 3)), "拒绝导入"


def _imp_many_members(rng: random.Random, kind: str) -> tuple[bytes, str]:
    with zipfile.ZipFile(io.BytesIO(template(kind))) as book:
        members = [(i.filename, *_stored(book.read(i))) for i in book.infolist()]
    members += [(f"xl/media/image{i}.png", *_stored(b"x")) for i in range(rng.randint(501, 900))]
    return zip_of(members), "拒绝导入"


def _stored(data: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def _imp_truncated(rng: random.Random, kind: str) -> tuple[bytes, str]:
    data = template(kind)
    return data[: rng.randint(4, len(data) - 1)], ""


def _imp_flipped(rng: random.Random, kind: str) -> tuple[bytes, str]:
    data = bytearray(template(kind))
    for _ in range(rng.randint(1, 40)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data), ""


def _imp_header_only(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return template(kind), ""


def _imp_not_a_workbook(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return rng.choice((docx_bytes(), zip_of([]) if rng.random() < 0.5 else docx_bytes())), ""


def _imp_binary(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 4096))), ""


def _imp_csv_nul(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return "项目编号,项目名称\nA\x00,乙\n".encode() * rng.randint(1, 50), ""


def _imp_csv_wrong_headers(rng: random.Random, kind: str) -> tuple[bytes, str]:
    headers = ",".join(rng.choice(("姓名", "foo", "金额", "备注", "?", "")) for _ in range(rng.randint(1, 8)))
    return f"{headers}\n1,2,3\n".encode("gb18030"), ""


def _imp_csv_html(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return rng.choice((b"<html><table><tr><td>1</td></tr></table></html>", b"<!DOCTYPE html><p>x")), ""


def _imp_blank(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return rng.choice((b"", b" ", b"\n\n\n", b"\xef\xbb\xbf", "\u3000".encode())), ""


def _imp_legacy_xls(rng: random.Random, kind: str) -> tuple[bytes, str]:
    return OLE + bytes(rng.randrange(256) for _ in range(200)), ""


IMPORT_CLASSES: dict[str, tuple[Callable[[random.Random, str], tuple[bytes, str]], tuple[str, ...]]] = {
    "xlsx bomb": (_imp_bomb, (".xlsx",)),
    "xlsx declaring a huge range": (_imp_wide_range, (".xlsx",)),
    "xlsx with too many members": (_imp_many_members, (".xlsx",)),
    "truncated xlsx": (_imp_truncated, (".xlsx", ".csv")),
    "xlsx with flipped bytes": (_imp_flipped, (".xlsx",)),
    "template without data rows": (_imp_header_only, (".xlsx",)),
    "zip that is not a workbook": (_imp_not_a_workbook, (".xlsx", ".csv")),
    "binary noise": (_imp_binary, (".xlsx", ".csv")),
    "csv with NUL": (_imp_csv_nul, (".csv",)),
    "csv with wrong headers": (_imp_csv_wrong_headers, (".csv",)),
    "html as a table": (_imp_csv_html, (".csv", ".xlsx")),
    "blank file": (_imp_blank, (".csv", ".xlsx")),
    "legacy xls": (_imp_legacy_xls, (".xlsx", ".xls", ".csv")),
}


# --- bad attachments, by class ------------------------------------------------------------------------

MARKUP = (
    "<script>alert(1)</script>",
    "<html><body>",
    "<svg onload=alert(1)>",
    "<iframe src=//x>",
    "<!DOCTYPE html>",
    "javascript:alert(1)",
    "<img src=x onerror=alert(1)>",
    "< ScRiPt >",
    "<a href=x>点我</a>",
    "<?xml version='1.0'?>",
)


def _att_markup_text(rng: random.Random) -> Upload:
    words = ["整改", "完成", "台账", "金额", "项目", "联系人"]
    body = " ".join(rng.choice(words) for _ in range(rng.randint(0, 200)))
    at = rng.randint(0, len(body))
    text = body[:at] + rng.choice(MARKUP) + body[at:]
    return Upload(rng.choice(("说明.txt", "表.csv", "readme.TXT")), "", text.encode(rng.choice(("utf-8", "gb18030"))))


def _att_pdf_polyglot(rng: random.Random) -> Upload:
    return Upload(
        "报告.pdf",
        "application/pdf",
        b"%PDF-1." + str(rng.randint(0, 7)).encode() + b"\n" + rng.choice(MARKUP).encode() + PDF[8:],
    )


def _att_pdf_active(rng: random.Random) -> Upload:
    active = rng.choice(
        (
            b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
            b"/AA << /O << /S /Launch >> >>",
            b"/Names << /EmbeddedFiles 3 0 R >>",
            b"/RichMedia 4 0 R",
        )
    )
    at = rng.randint(len(PDF) // 2, len(PDF) - 8)
    return Upload("报告.pdf", "", PDF[:at] + b"\n" + active + b"\n" + PDF[at:])


def _att_archive(rng: random.Random) -> Upload:
    name = "资料" + rng.choice((".zip", ".rar", ".7z", ".gz", ".tar", ".ZIP"))
    return Upload(name, "", rng.choice((docx_bytes(), b"Rar!\x1a\x07\x00" + b"\x00" * 30, b"7z\xbc\xaf\x27\x1c")))


def _att_office_bomb(rng: random.Random) -> Upload:
    base = rng.choice((workbook_bytes(), docx_bytes()))
    bomb = xlsx_with({"xl/sharedStrings.xml": _bomb(rng.choice((150, 400, 900)))}, base)
    return Upload(rng.choice(("说明.docx", "台账.xlsx")), "", bomb)


def _att_wrong_magic(rng: random.Random) -> Upload:
    ext = rng.choice((".pdf", ".png", ".jpg", ".jpeg", ".doc", ".xls", ".wps", ".et", ".docx", ".xlsx", ".ofd"))
    data = rng.choice(
        (
            b"MZ\x90\x00" + bytes(50),
            b"<html>x</html>",
            bytes(rng.randrange(256) for _ in range(64)),
            b"GIF89a" + bytes(20),
        )
    )
    if data.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"\xd0\xcf", b"PK\x03\x04")):
        data = b"x" + data  # the noise happened to start like a real type
    return Upload("文件" + ext, "", data)


def _att_forbidden_type(rng: random.Random) -> Upload:
    ext = rng.choice((".exe", ".html", ".htm", ".svg", ".js", ".bat", ".xhtml", ".php", ".scr", ".hta", ".msi", ""))
    return Upload("文件" + ext, "", rng.choice((b"<svg/onload=alert(1)>", b"MZ\x90\x00", PDF)))


def _att_bidi_name(rng: random.Random) -> Upload:
    hidden = rng.choice(("\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u202b"))
    return Upload(
        f"报告{hidden}{rng.choice(('fdp', 'gpj', 'txt'))}.{rng.choice(('exe', 'scr', 'js', 'html'))}", "", b"MZ\x90\x00"
    )


def _att_macro(rng: random.Random) -> Upload:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr(rng.choice(("word/vbaProject.bin", "word/VBAPROJECT.BIN")), bytes(rng.randint(1, 99)))
    return Upload("说明.docx", "", out.getvalue())


def _att_empty_or_huge(rng: random.Random) -> Upload:
    if rng.random() < 0.8:
        return Upload("空.pdf", "", b"")
    return Upload("大.pdf", "", b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))


def _att_binary_text(rng: random.Random) -> Upload:
    return Upload(rng.choice(("说明.txt", "表.csv")), "", bytes(rng.randrange(256) for _ in range(64)) + b"\x00")


ATTACHMENT_CLASSES: dict[str, Callable[[random.Random], Upload]] = {
    "markup in a text file": _att_markup_text,
    "pdf that is really html": _att_pdf_polyglot,
    "pdf with active content": _att_pdf_active,
    "archive": _att_archive,
    "office file bomb": _att_office_bomb,
    "content unlike its extension": _att_wrong_magic,
    "forbidden type": _att_forbidden_type,
    "bidi-spoofed name": _att_bidi_name,
    "macro document": _att_macro,
    "empty or too large": _att_empty_or_huge,
    "binary as text": _att_binary_text,
}
VALID = [
    Upload("报告.pdf", "", PDF),
    Upload("照片.png", "", PNG),
    Upload("照片.jpg", "", JPEG),
    Upload("说明.docx", "", docx_bytes()),
    Upload("台账.xlsx", "", workbook_bytes()),
    Upload("说\u202e明.txt", "", "整改完成，金额 <5 万元".encode()),
]


# --- the run -------------------------------------------------------------------------------------------


def test_bad_files_are_all_refused_with_a_message(uow_factory, launched_campaign, actors, tmp_path):
    """A file that is not refused with a message is kept under tmp_path and named in the failure: the
    generated workbooks carry the time they were written, so a failing case is kept, not re-derived."""
    rng = random.Random(SEED)
    kept = tmp_path / "failing-inputs"
    internal: list[str] = []
    accepted: list[str] = []
    refused: Counter[str] = Counter()

    names = list(IMPORT_CLASSES)
    for n in range(IMPORT_CASES):
        name = names[n % len(names)]
        make, extensions = IMPORT_CLASSES[name]
        kind = rng.choice(KINDS)
        data, must_say = make(rng, kind)
        filename = f"fuzz-{n}{rng.choice(extensions)}"
        with uow_factory() as uow:
            try:
                import_file(
                    uow.session,
                    actor=actors["office"],
                    at=AT,
                    campaign_code=launched_campaign.code,
                    kind=kind,
                    data=data,
                    filename=filename,
                )
                accepted.append(f"{name}: {filename}")
            except UserError as exc:
                refused[name] += 1
                if must_say and must_say not in str(exc):
                    where = _keep(kept, filename, data)
                    internal.append(f"{name}: {where}: refused without saying {must_say!r}: {exc}")
            except Exception as exc:
                internal.append(f"{name}: {_keep(kept, filename, data)}: {type(exc).__name__}: {exc}")

    att_names = list(ATTACHMENT_CLASSES)
    for n in range(ATTACHMENT_CASES):
        name = att_names[n % len(att_names)]
        upload = ATTACHMENT_CLASSES[name](rng)
        try:
            check_uploads([upload])
            accepted.append(f"{name}: {upload.filename!r}")
        except UserError as exc:
            refused[name] += 1
            if any(c in str(exc) for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"):
                internal.append(f"{name}: the message echoes a bidi control: {exc!r}")
        except Exception as exc:
            # the attachment's own name may hold control characters: kept under its case number
            internal.append(f"{name}: {_keep(kept, f'attachment-{n}', upload.data)}: {type(exc).__name__}: {exc}")

    checked = check_uploads(VALID)  # the checker still takes real files

    assert internal == []
    assert accepted == []
    assert sum(refused.values()) == IMPORT_CASES + ATTACHMENT_CASES
    assert set(refused) == set(IMPORT_CLASSES) | set(ATTACHMENT_CLASSES)
    assert [c.filename for c in checked][-1] == "说明.txt"  # the bidi control is gone from the stored name


def _keep(folder: Path, filename: str, data: bytes) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / filename
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("extension", [".xlsx", ".csv"])
def test_a_bomb_is_refused_by_the_import_before_anything_inflates(uow_factory, launched_campaign, actors, extension):
    """Named after .csv too: the content, not the name, makes it a workbook."""
    bomb = xlsx_with({"xl/sharedStrings.xml": _bomb(900)}, template("projects"))
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match="拒绝导入"), uow_factory() as uow:
            import_file(
                uow.session,
                actor=actors["office"],
                at=AT,
                campaign_code=launched_campaign.code,
                kind="projects",
                data=bomb,
                filename=f"台账{extension}",
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()  # tracing left on would slow every later test in this worker
    assert peak < 50 * 1024 * 1024  # 900 MB once inflated: refused before any of it was

"""Attachments: checked whole before anything is stored, then stored content-addressed by sha256.

Rules: at most MAX_FILES files, each at most MAX_BYTES and together at most MAX_TOTAL_BYTES; only
office document, image, PDF and plain-text types. The type is checked by content, not by name:
- the bytes must start as the type the name claims, and the first KB must not read as a web page
  (an "%PDF" file that is really HTML is refused);
- text files (.txt, .csv) must decode as text and contain no HTML, SVG or script markup anywhere;
- PDFs must not carry JavaScript, launch actions or embedded files;
- Office Open XML files (.docx, .xlsx, .ofd) must be sound zips of their kind, within the same
  inflation limits as imports, without macros;
- archives (.zip, .rar, .7z …) are refused: a zip is not opened to be judged, the files inside
  are uploaded one by one instead.
File names lose any path, bidi controls (U+202A–U+202E, U+2066–U+2069 …) and other control or
format characters. One bad file rejects the whole upload.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from domain.errors import Invalid
from store.models import Attachment

MAX_FILES = 20
MAX_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
DEFAULT_DIR = Path("data") / "attachments"
ZIP_MAX_MEMBERS = 2000
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 200  # for members over 1 MB inflated; real office XML stays far below
ZIP_RATIO_FROM = 1024 * 1024

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
# extension -> (content type stored, magic prefixes; None = text)
TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".ofd": ("application/ofd", (_ZIP,)),
    ".doc": ("application/msword", (_OLE,)),
    ".wps": ("application/vnd.ms-works", (_OLE,)),
    ".xls": ("application/vnd.ms-excel", (_OLE,)),
    ".et": ("application/vnd.ms-excel", (_OLE,)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (_ZIP,)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
}
ARCHIVES = frozenset({".zip", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab", ".arj", ".lzh", ".z"})
# the part every Office Open XML file of that kind has
_OOXML_PART = {".docx": "word/", ".xlsx": "xl/", ".ofd": "ofd.xml"}

# Markup a browser would run or render: anywhere in a text file, in the first KB of anything else.
_MARKUP = re.compile(
    r"<\s*/?\s*(?:script|html|head|body|iframe|frame|frameset|svg|math|object|embed|applet|form|input|"
    r"img|image|video|audio|source|style|link|meta|base|title|div|span|table|a|p|b|br|font|h[1-6]|"
    r"!doctype|\?xml|xml)(?=[\s/>]|$)|<!--|javascript\s*:|vbscript\s*:|data\s*:\s*text/html",
    re.IGNORECASE,
)
# In binary heads only names of three letters or more: "<p" or "<a " turn up in image noise by chance.
_SNIFFED = re.compile(
    rb"<\s*(?:script|html|head|body|iframe|frame|svg|math|object|embed|applet|form|img|image|video|audio|style|"
    rb"link|meta|base|title|div|span|table|font|!doctype|\?xml|a\s+href)(?=[\s/>=])|<!--|javascript\s*:|vbscript\s*:",
    re.IGNORECASE,
)
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z])")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class AttachmentDTO:
    id: int
    sha256: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    data: bytes
    sha256: str


_UNSAFE = re.compile(r"[<>:\"/\\|?*]")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})  # controls, bidi/format, separators


def safe_filename(name: str) -> str:
    """A base name with no path, no bidi/control/format characters and no reserved characters;
    raises Invalid if nothing usable is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _REMOVED_CATEGORIES)
    name = _UNSAFE.sub("_", name).strip().strip(".").strip()
    if not name or set(name) <= {"_", " ", "."}:
        raise Invalid("附件文件名无效")
    stem, ext = os.path.splitext(name)
    if stem.upper() in {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}:
        name = f"_{name}"
    if len(name) > 150:
        name = stem[: 150 - len(ext)] + ext
    return name


def _decoded_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def _zip_problem(data: bytes, ext: str) -> str | None:
    """Why an Office Open XML file is not acceptable, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    # NotImplementedError: a directory entry claiming a zip version zipfile cannot read (one flipped byte)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        return "不是有效的文档（文件可能已损坏或被改名）"
    names = [m.filename.lower() for m in members]
    if len(members) > ZIP_MAX_MEMBERS or sum(m.file_size for m in members) > ZIP_MAX_UNCOMPRESSED:
        return f"解压后超过 {ZIP_MAX_UNCOMPRESSED // (1024 * 1024)}MB 或内部文件过多，拒绝接收"
    for m in members:
        if m.file_size > ZIP_RATIO_FROM and m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1):
            return "内部文件压缩比异常（可能是压缩炸弹），拒绝接收"
    part = _OOXML_PART[ext]
    if (ext != ".ofd" and "[content_types].xml" not in names) or not any(n.startswith(part) for n in names):
        return "不是有效的文档（文件可能已损坏或被改名）"
    if any(n.endswith("vbaproject.bin") for n in names):
        return "含有宏，拒绝接收（请另存为不含宏的文档）"
    return None


def _content_problem(ext: str, data: bytes) -> str | None:
    """Why these bytes are not an acceptable file of type `ext`, or None."""
    magic = TYPES[ext][1]
    if magic is None:
        text = _decoded_text(data)
        if text is None:
            return f"文件内容与扩展名 {ext} 不符（不是文本文件）"
        if _MARKUP.search(text):
            return "含有网页或脚本内容（HTML/SVG/脚本），拒绝接收"
        return None
    if not data.startswith(magic):
        return f"文件内容与扩展名 {ext} 不符（文件可能已损坏或被改名）"
    if _SNIFFED.search(data[:1024]):
        return "含有网页或脚本内容（HTML/SVG/脚本），拒绝接收"
    if ext == ".pdf" and _PDF_ACTIVE.search(data):
        return "PDF 含有脚本、启动操作或嵌入文件，拒绝接收"
    if ext in _OOXML_PART:
        return _zip_problem(data, ext)
    return None


def check_uploads(uploads: Iterable[Upload]) -> list[CheckedUpload]:
    """Validate every file; raise one Invalid naming every bad file, so nothing is stored."""
    uploads = list(uploads)
    if len(uploads) > MAX_FILES:
        raise Invalid(f"一次最多上传 {MAX_FILES} 个附件（本次 {len(uploads)} 个）")
    problems: list[str] = []
    out: list[CheckedUpload] = []
    total = 0
    seen: set[str] = set()
    for i, up in enumerate(uploads, start=1):
        try:
            name = safe_filename(up.filename)
        except Invalid:
            problems.append(f"第 {i} 个附件：文件名无效")
            continue
        shown = name  # never echo bidi or control characters back
        ext = os.path.splitext(name)[1].lower()
        data = bytes(up.data) if isinstance(up.data, (bytes, bytearray)) else b""
        total += len(data)
        if ext in ARCHIVES:
            problems.append(f"「{shown}」：不接收压缩包，请解压后逐个上传其中的文件")
            continue
        if ext not in TYPES:
            allowed = "、".join(sorted(TYPES))
            problems.append(f"「{shown}」：不支持的文件类型（允许 {allowed}）")
            continue
        if not data:
            problems.append(f"「{shown}」：是空文件")
            continue
        if len(data) > MAX_BYTES:
            problems.append(f"「{shown}」：超过 {MAX_BYTES // (1024 * 1024)}MB 的大小限制")
            continue
        problem = _content_problem(ext, data)
        if problem:
            problems.append(f"「{shown}」：{problem}")
            continue
        if name in seen:
            problems.append(f"「{shown}」：同名附件重复上传")
            continue
        seen.add(name)
        out.append(CheckedUpload(name, TYPES[ext][0], data, hashlib.sha256(data).hexdigest()))
    if total > MAX_TOTAL_BYTES and not problems:
        problems.append(f"附件合计超过 {MAX_TOTAL_BYTES // (1024 * 1024)}MB")
    if problems:
        raise Invalid("附件未通过检查，本次提交未保存：\n" + "\n".join(problems))
    return out


def blob_path(root: Path, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def store_blobs(root: Path | None, files: list[CheckedUpload]) -> None:
    """Write each content once (atomic rename); an existing blob with the same hash is reused."""
    root = Path(root or DEFAULT_DIR)
    for f in files:
        target = blob_path(root, f.sha256)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(f.data)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def add_rows(
    session: Session,
    files: list[CheckedUpload],
    *,
    submission_id: int | None = None,
    problem_event_id: int | None = None,
) -> list[Attachment]:
    rows = [
        Attachment(
            submission_id=submission_id,
            problem_event_id=problem_event_id,
            sha256=f.sha256,
            filename=f.filename,
            content_type=f.content_type,
            size=len(f.data),
        )
        for f in files
    ]
    session.add_all(rows)
    session.flush()
    return rows


def to_dto(a: Attachment) -> AttachmentDTO:
    return AttachmentDTO(a.id, a.sha256, a.filename, a.content_type, a.size)


def read_blob(root: Path | None, sha256: str) -> bytes:
    return blob_path(Path(root or DEFAULT_DIR), sha256).read_bytes()

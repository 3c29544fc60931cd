"""Attachments: checked whole before anything is stored, then stored content-addressed by sha256.

Rules: at most MAX_FILES files, each at most MAX_BYTES and together at most MAX_TOTAL_BYTES; only
office document, image and archive types, and the bytes must look like the type the name claims;
file names are reduced to a safe base name. One bad file rejects the whole upload.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy.orm import Session

from domain.errors import Invalid
from store.models import Attachment

MAX_FILES = 20
MAX_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
DEFAULT_DIR = Path("data") / "attachments"

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
    ".zip": ("application/zip", (_ZIP,)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
}


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


_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


def safe_filename(name: str) -> str:
    """A base name with no path, control or reserved characters; raises Invalid if nothing usable is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().strip(".").strip()
    if not name or set(name) <= {"_", " ", "."}:
        raise Invalid("附件文件名无效")
    stem, ext = os.path.splitext(name)
    if stem.upper() in {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}:
        name = f"_{name}"
    if len(name) > 150:
        name = stem[: 150 - len(ext)] + ext
    return name


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    for enc in ("utf-8-sig", "gb18030"):
        try:
            data.decode(enc)
            return True
        except UnicodeDecodeError:
            continue
    return False


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
        shown = up.filename or f"第 {i} 个附件"
        try:
            name = safe_filename(up.filename)
        except Invalid:
            problems.append(f"第 {i} 个附件：文件名无效")
            continue
        ext = os.path.splitext(name)[1].lower()
        data = up.data if isinstance(up.data, (bytes, bytearray)) else b""
        total += len(data)
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
        ctype, magic = TYPES[ext]
        ok = _looks_like_text(data) if magic is None else bytes(data).startswith(magic)
        if not ok:
            problems.append(f"「{shown}」：文件内容与扩展名 {ext} 不符（文件可能已损坏或被改名）")
            continue
        if name in seen:
            problems.append(f"「{shown}」：同名附件重复上传")
            continue
        seen.add(name)
        out.append(CheckedUpload(name, ctype, bytes(data), hashlib.sha256(data).hexdigest()))
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


def add_rows(session: Session, files: list[CheckedUpload], *, submission_id: int | None = None,
             problem_event_id: int | None = None) -> list[Attachment]:
    rows = [Attachment(submission_id=submission_id, problem_event_id=problem_event_id, sha256=f.sha256,
                       filename=f.filename, content_type=f.content_type, size=len(f.data)) for f in files]
    session.add_all(rows)
    session.flush()
    return rows


def to_dto(a: Attachment) -> AttachmentDTO:
    return AttachmentDTO(a.id, a.sha256, a.filename, a.content_type, a.size)


def read_blob(root: Path | None, sha256: str) -> bytes:
    return blob_path(Path(root or DEFAULT_DIR), sha256).read_bytes()

"""Import errors shown to office staff: plain Chinese, never a traceback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.errors import Invalid

# Long rejections are still fully available on ``.errors``; the text form is
# capped so a 5,000-row mistake does not flood a web page or a log line.
MAX_LISTED_ERRORS = 200


class RowError(BaseModel):
    """One problem in one spreadsheet row (header is row 1)."""

    model_config = ConfigDict(frozen=True)

    row_number: int
    column: str | None = None  # Chinese header; None when the row as a whole is wrong
    message: str

    def describe(self, filename: str) -> str:
        where = f"{filename}：第 {self.row_number} 行"
        if self.column:
            return f"{where}: 列「{self.column}」: {self.message}"
        return f"{where}: {self.message}"


class ImportProblem(Invalid):
    """The file as a whole cannot be read as the expected table."""

    def __init__(self, filename: str, message: str) -> None:
        super().__init__(message)
        self.filename = filename
        self.message = message

    def __str__(self) -> str:
        return self.message


class ImportRejected(ImportProblem):
    """Some rows are invalid; nothing from the file is imported (all or nothing)."""

    def __init__(self, filename: str, errors: Sequence[RowError], valid: Sequence[tuple[int, Any]] = ()) -> None:
        # Stable by row: within a row, errors keep the file's column order.
        self.errors: list[RowError] = sorted(errors, key=lambda e: e.row_number)
        # The rows that did validate, (row number, model): a caller can check its own rules on them
        # too and name every bad row of the file at once.
        self.valid: list[tuple[int, Any]] = list(valid)
        super().__init__(filename, self._render(filename))

    def _render(self, filename: str) -> str:
        rows = len({e.row_number for e in self.errors})
        lines = [
            f"「{filename}」有 {rows} 行数据不符合要求（共 {len(self.errors)} 处），整个文件未导入，请修改后重新上传："
        ]
        lines += [e.describe(filename) for e in self.errors[:MAX_LISTED_ERRORS]]
        hidden = len(self.errors) - MAX_LISTED_ERRORS
        if hidden > 0:
            lines.append(f"……另有 {hidden} 处错误未列出")
        return "\n".join(lines)

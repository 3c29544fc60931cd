"""The pure role rules every service call checks, and the attachment checks."""

from __future__ import annotations

import pytest

from domain.access import (
    SYSTEM,
    Actor,
    Role,
    can_act_for_department,
    can_administer,
    can_read_confidential,
    can_read_department,
    refusal,
)
from domain.errors import Forbidden, Invalid, UserError
from services.attachments import MAX_BYTES, Upload, check_uploads, safe_filename

OFFICE = Actor("o", Role.office)
LEADER = Actor("l", Role.leader)
ZJJ = Actor("z", Role.department, "zjj")


@pytest.mark.parametrize(
    "actor, read, act, admin, secret",
    [
        (OFFICE, True, False, True, True),
        (LEADER, True, False, False, False),
        (ZJJ, True, True, False, False),
        (SYSTEM, True, False, True, False),
    ],
)
def test_own_department(actor, read, act, admin, secret):
    assert can_read_department(actor, "zjj") is read
    assert can_act_for_department(actor, "zjj") is act
    assert can_administer(actor) is admin
    assert can_read_confidential(actor) is secret


def test_department_never_reaches_another():
    assert not can_read_department(ZJJ, "jyj")
    assert not can_act_for_department(ZJJ, "jyj")
    assert not can_act_for_department(Actor("n", Role.department, None), "zjj")


def test_refusal_message_is_plain_chinese_and_a_user_error():
    error = refusal(ZJJ, "审核材料", "只有牵头办公室可以审核。")
    assert isinstance(error, Forbidden) and isinstance(error, UserError)
    assert str(error) == "无权限：z（责任部门）不能审核材料。只有牵头办公室可以审核。"
    named = refusal(Actor("z", Role.department, "zjj", "区住建局联络员"), "审核材料")
    assert str(named) == "无权限：区住建局联络员（责任部门）不能审核材料。"


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\a\\报告.pdf", "报告.pdf"),
        ("a<b>.pdf", "a_b_.pdf"),
        ("CON.txt", "_CON.txt"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


@pytest.mark.parametrize("raw", ["", "..", "/", "  "])
def test_unusable_filename(raw):
    with pytest.raises(Invalid):
        safe_filename(raw)


def test_upload_checks_reject_the_whole_batch_naming_each_file():
    good = Upload("a.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    with pytest.raises(Invalid) as info:
        check_uploads(
            [
                good,
                Upload("b.docx", "", b"not a zip"),
                Upload("c.bat", "", b"echo"),
                Upload("d.pdf", "", b"%PDF-" + b"0" * MAX_BYTES),
            ]
        )
    text = str(info.value)
    assert "b.docx" in text and "c.bat" in text and "d.pdf" in text and "a.png" not in text
    assert [c.filename for c in check_uploads([good, Upload("n.csv", "", "名称,金额\n".encode("gb18030"))])] == [
        "a.png",
        "n.csv",
    ]

"""`campaign report / narrative / import / template / export` as users run them: messages, files, exit codes."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest

from cli.main import main
from services.spec_files import parse_spec
from tests.conftest import PASSWORD

CODE = "yanjiang-2020"
REGISTER = (
    "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"
    "Z-1,城东道路工程,zjj,2019-03-01,1200,甲建设公司,甲建设公司\n"
    "J-1,农村公路一期,jyj,2019-02-01,300,戊交通公司,戊交通公司\n"
)


@pytest.fixture
def cli(engine, users, monkeypatch, capsys):
    """Run the CLI in-process on the test database as a user; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CAMPAIGN_PASSWORD", PASSWORD)

    def run(*argv: str, user: str | None = "office") -> tuple[int, str, str]:
        if user:
            monkeypatch.setenv("CAMPAIGN_USER", user)
        else:
            monkeypatch.delenv("CAMPAIGN_USER", raising=False)
        code = main(list(argv))
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        return code, out.out, out.err

    return run


def test_template_import_report_and_export(cli, tmp_path):
    code, out, _ = cli("template", "projects", "--out", str(tmp_path / "t.xlsx"), user=None)
    assert code == 0 and "已保存空白模板" in out
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames == ["项目", "说明"]

    register = tmp_path / "项目.csv"
    register.write_bytes(REGISTER.encode("gbk"))
    code, out, _ = cli("import", "projects", str(register), "--campaign", CODE)
    assert code == 0 and "项目台账导入完成：新增 2 个，更新 0 个" in out

    reports = tmp_path / "reports"
    code, out, _ = cli(
        "narrative",
        "--campaign",
        CODE,
        "--period",
        "2020-06",
        "--department",
        "zjj",
        "--section",
        "practices",
        "--file",
        str(_text(tmp_path, "召开专题会议部署自查。")),
        user="dept_zjj",
    )
    assert code == 0 and "已保存「开展情况和主要做法」（第 1 版）" in out
    code, out, _ = cli(
        "report",
        "--campaign",
        CODE,
        "--period",
        "2020-06",
        "--department",
        "zjj",
        "--out",
        str(reports),
        user="dept_zjj",
    )
    assert code == 0 and "yanjiang-2020_2020-06_zjj.docx" in out
    document = docx.Document(reports / "yanjiang-2020_2020-06_zjj.docx")
    assert "召开专题会议部署自查。" in [p.text for p in document.paragraphs]
    assert (reports / "yanjiang-2020_2020-06_zjj.xlsx").is_file()
    code, out, _ = cli("report", "--campaign", CODE, "--period", "2020-06", "--out", str(reports), user="leader")
    assert code == 0 and (reports / "yanjiang-2020_2020-06_office-rollup.docx").is_file()

    code, out, _ = cli("export", "ledger", "--campaign", CODE, "--out", str(tmp_path / "ledger.xlsx"))
    assert code == 0 and openpyxl.load_workbook(tmp_path / "ledger.xlsx").sheetnames == ["整改台账"]
    code, out, _ = cli("export", "projects", "--campaign", CODE, "--out", str(tmp_path / "p.xlsx"), user="dept_jyj")
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert code == 0 and [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)] == ["J-1"]


def _text(folder, content: str):
    path = folder / "text.txt"
    path.write_text(content, encoding="utf-8")
    return path


def test_bad_input_is_a_message_and_exit_code_2(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(REGISTER + "Z-2,,zjj,2019-13-01,abc,,\n", encoding="utf-8")
    code, _out, err = cli("import", "projects", str(bad), "--campaign", CODE)
    assert (
        code == 2
        and "整个文件未导入" in err
        and "bad.csv：第 4 行: 列「项目名称」" in err
        and "第 4 行: 列「招标日期」" in err
    )
    code, _out, err = cli("report", "--campaign", CODE, "--period", "2020-06", "--department", "zjj", user="dept_jyj")
    assert code == 2 and "无权限" in err
    code, _out, err = cli("report", "--campaign", CODE, "--period", "2020-05", "--department", "zjj")
    assert code == 2 and "不在报送期间" in err
    code, _out, err = cli("import", "leads", str(bad), "--campaign", CODE, "--yaml-out", str(tmp_path / "x.yaml"))
    assert code == 2 and "--yaml-out 只用于导入部门" in err
    with pytest.raises(SystemExit) as stopped:
        cli("report", "--campaign", CODE, "--period", "2020-6")
    assert stopped.value.code == 2


def test_departments_import_writes_the_yaml_to_save_back(cli, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["代码", "名称", "类型", "标签"])
    book.active.append(["scjgj", "区市场监管局", "行业监管部门", "联席会议成员、行业监管"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = tmp_path / "部门.xlsx"
    source.write_bytes(buffer.getvalue())
    code, out, _ = cli("import", "departments", str(source), "--campaign", CODE)
    assert code == 0 and "部门导入完成：新增 1 个" in out and "--yaml-out" in out
    target = tmp_path / "yanjiang-2020.yaml"
    code, out, _ = cli("import", "departments", str(source), "--campaign", CODE, "--yaml-out", str(target))
    assert code == 0 and "未变 1 个" in out
    spec = parse_spec(target.read_text(encoding="utf-8"), str(target))
    assert spec.department("scjgj").tags == ("联席会议成员", "行业监管")

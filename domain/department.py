"""The department kind's one vocabulary (the YAML's `kind`, the import's 类型 column, the boards)."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class DepartmentKind(StrEnum):
    office = "office"  # 联席会议办公室 / 监管办
    industry_regulator = "industry_regulator"  # 行业监管部门: 住建、交通、水务…
    police = "police"
    discipline = "discipline"  # 纪检监察
    trading_center = "trading_center"  # 公共资源交易中心
    purchaser = "purchaser"  # 采购单位 / 项目法人
    other = "other"


K = DepartmentKind
DEPARTMENT_KIND = Vocabulary(
    DepartmentKind,
    {
        K.office: "牵头办公室",
        K.industry_regulator: "行业监管部门",
        K.police: "公安机关",
        K.discipline: "纪检监察机关",
        K.trading_center: "公共资源交易中心",
        K.purchaser: "采购单位",
        K.other: "其他单位",
    },
    aliases={
        "联席会议办公室": K.office,
        "办公室": K.office,
        "牵头单位": K.office,
        "行业主管部门": K.industry_regulator,
        "监管部门": K.industry_regulator,
        "行业监管": K.industry_regulator,
        "公安": K.police,
        "公安分局": K.police,
        "纪委监委": K.discipline,
        "纪检监察": K.discipline,
        "纪委": K.discipline,
        "交易中心": K.trading_center,
        "其他": K.other,
        "其它": K.other,
        "项目法人": K.purchaser,
        "招标人": K.purchaser,
    },
)

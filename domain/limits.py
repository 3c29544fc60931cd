"""The one source of field limits: how long a code, a name or a text may be, and which numbers and dates are sane.

The campaign spec (domain.spec), the table columns (store.models `String(N)`) and the import rows
(exchange.rows) all take their widths from here, so a value one of them accepts fits the others on
every database (PostgreSQL refuses a too-long value or a NUL character that SQLite would store).
Lengths count characters (code points), as pydantic's `max_length` and PostgreSQL's varchar do.
"""

from __future__ import annotations

import unicodedata

# --- text widths (characters) ----------------------------------------------------------------
CODE_MAX = 40  # campaign id, department code, phase and task keys (the spec's `Code`)
LEDGER_CODE_MAX = 40  # problem (WT-nnnn) and lead (XS-nnnn) codes
PROJECT_CODE_MAX = 60  # a supervised project's code; also an assignment's period (a month or a project code)
USERNAME_MAX = 50  # login names, and every actor / submitted_by / reviewed_by column
PERSON_NAME_MAX = 50  # a person: contact name, user's full name, responsible person, whistle-blower
PHONE_MAX = 50
EMAIL_MAX = 200
NAME_MAX = 100  # a department's name, a phase's title, a holiday's name
TITLE_MAX = 200  # campaign title and issuer, task and report titles, project name, winning bidder
TAG_MAX = 30  # one department tag
TAGS_JOINED_MAX = 500  # a department's tags joined with 、 (the department.tags column)
ESCALATION_NAME_MAX = 20  # 预警 / 通报批评 / 约谈 / 问责
CATEGORY_MAX = 30  # a problem's or a lead's category
LEGAL_BASIS_MAX = 200  # one document number in `legal_basis`
DESCRIPTION_MAX = 2000  # a task's description (kept only inside the stored spec)
LONG_TEXT_MAX = 4000  # an imported lead's summary
FILENAME_MAX = 200  # an attachment's file name
PATH_MAX = 500  # a file path kept in a column: the YAML a campaign was launched from, a filed report
DOCUMENT_NUMBER_MAX = 40  # a numbered document: 督办单 雁督〔2020〕7号, 通报
DOCUMENT_PREFIX_MAX = 10  # the prefix of such a number in the YAML (雁督)
ENTITY_CODE_MAX = 40  # a market entity's code: 统一社会信用代码 (18), or an expert's name / 专家证号 (issue 14)
BID_IDENTIFIER_MAX = 128  # what a platform records with a bid: IP, MAC, file hash, author, account, manager
REASON_MAX = 300  # a short reason: why a bid was disqualified
RULE_ID_MAX = 20  # a red-flag rule id (C40-DEPOSIT, R024)

# --- numbers and dates -----------------------------------------------------------------------
SEED_LIMIT = 2**31  # sampling seeds are 0 <= seed < 2**31: a 32-bit INTEGER column on every database
YEAR_MIN = 2000  # a campaign starts and ends within YEAR_MIN..YEAR_MAX
YEAR_MAX = 2099
CAMPAIGN_YEARS_MAX = 10  # a campaign lasts at most this many years
CALENDAR_YEAR_MARGIN = 1  # calendar overrides may name the year before the start and the year after the end
DEPARTMENTS_MAX = 50_000  # a national campaign: every county's departments (~33,000), with room
PLANNED_ASSIGNMENTS_MAX = 2_000_000  # what one launch creates (33,000 departments x 30 tasks: ~1M, benchmarked)

# --- the campaign YAML file ------------------------------------------------------------------
SPEC_FILE_MAX_BYTES = 16 * 1024 * 1024  # 16 MB (33,000 departments take ~4 MB), checked before the file is read
SPEC_NESTING_MAX = 50  # mappings and lists inside each other (the spec itself needs six)
SPEC_NODES_MAX = 2_000_000  # YAML nodes after aliases are expanded (a billion-laughs file is refused)


# --- what a text may contain -----------------------------------------------------------------
# Bidi embeddings, overrides and isolates make a text read differently from what it holds.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Characters that show nothing: a name made only of these (and spaces) is blank.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u3164\u115f\u1160")
_MULTILINE_ALLOWED = frozenset("\n\t")


def unsafe_character(text: str, *, multiline: bool = False) -> str | None:
    """A description of the first character a stored text must not hold, or None if it is clean.

    Refused: NUL and other control characters (a line break or tab only where `multiline`), lone
    surrogates (not encodable as UTF-8), bidi controls, and the Unicode line/paragraph separators."""
    for position, char in enumerate(text, 1):
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            return f"第 {position} 个字符是不允许的控制字符 U+{ord(char):04X}"
    return None


def is_blank(text: str) -> bool:
    """True when nothing visible is left after removing spaces and zero-width characters."""
    return all(char.isspace() or char in _INVISIBLE or unicodedata.category(char) == "Cf" for char in text)

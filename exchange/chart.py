"""Horizontal grouped bar chart drawn with Pillow.

Plotly's static export needs kaleido + Chrome and matplotlib is not a
dependency, so the report chart is drawn directly; it only needs a CJK font.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_ENV = "EXCHANGE_CJK_FONT"  # explicit override for unusual servers
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "/System/Library/Fonts/PingFang.ttc",
)
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
_FONT_NAME_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback", "simhei", "simsun", "msyh")

WIDTH = 1600
BAR_HEIGHT = 26
GROUP_GAP = 26
MARGIN = 40
MAX_LABEL_PX = 380
GRID_STEPS = (0, 20, 40, 60, 80, 100)
INK, GRID, MUTED = (33, 33, 33), (220, 220, 220), (120, 120, 120)
REFERENCE_COLOR = (192, 0, 0)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # ratios 0..1; None = no base to compute from
    color: tuple[int, int, int]


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Path of a font that can draw Chinese, or None."""
    override = os.environ.get(FONT_ENV)
    if override and Path(override).is_file():
        return override
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    for folder in _FONT_DIRS:
        root = Path(folder)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            name = path.name.lower().replace("-", "").replace("_", "")
            if path.suffix.lower() in (".ttf", ".ttc", ".otf") and any(h in name for h in _FONT_NAME_HINTS):
                return str(path)
    return None


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = find_cjk_font()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:  # no CJK font: Chinese shows as boxes, but the chart is still produced
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return int(right - left)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, limit: int) -> str:
    if _text_width(draw, text, font) <= limit:
        return text
    while text and _text_width(draw, text + "…", font) > limit:
        text = text[:-1]
    return text + "…"


def bar_chart_png(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    reference: tuple[float, str] | None = None,
) -> bytes:
    """Grouped horizontal bars on a 0–100% axis, one group per category."""
    title_font, label_font, small_font = _font(36), _font(26), _font(22)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    labels = [_fit(probe, c, label_font, MAX_LABEL_PX) for c in categories]
    label_px = max((_text_width(probe, t, label_font) for t in labels), default=0)
    left = MARGIN + label_px + 20
    right = WIDTH - MARGIN - 110  # room for value labels
    top = MARGIN + 60 + 50  # title + legend
    group = max(len(series), 1) * BAR_HEIGHT + GROUP_GAP
    plot_height = max(len(categories), 1) * group
    height = top + plot_height + 60
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)

    draw.text((WIDTH // 2, MARGIN), title, font=title_font, fill=INK, anchor="mt")
    _legend(draw, series, reference, small_font, MARGIN + 60)
    _axis(draw, left, right, top, top + plot_height, small_font)
    if reference is not None:  # drawn before the bars so value labels stay readable
        _reference_line(draw, left + (right - left) * reference[0], top, top + plot_height)
    if not categories:
        draw.text(((left + right) // 2, top + group // 2), "暂无数据", font=label_font, fill=MUTED, anchor="mm")
    for index, label in enumerate(labels):
        y = top + index * group + GROUP_GAP // 2
        draw.text((left - 12, y + len(series) * BAR_HEIGHT / 2), label, font=label_font, fill=INK, anchor="rm")
        for offset, item in enumerate(series):
            value = item.values[index] if index < len(item.values) else None
            _bar(draw, left, right, y + offset * BAR_HEIGHT, value, item.color, small_font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _legend(draw: ImageDraw.ImageDraw, series: Sequence[Series], reference: tuple[float, str] | None,
            font: ImageFont.ImageFont, y: int) -> None:
    x = MARGIN
    for item in series:
        draw.rectangle((x, y + 4, x + 22, y + 26), fill=item.color)
        draw.text((x + 30, y + 15), item.label, font=font, fill=INK, anchor="lm")
        x += 30 + _text_width(draw, item.label, font) + 40
    if reference is not None:
        for dx in range(0, 24, 8):
            draw.line((x + dx, y + 15, x + dx + 4, y + 15), fill=REFERENCE_COLOR, width=3)
        draw.text((x + 30, y + 15), reference[1], font=font, fill=INK, anchor="lm")


def _axis(draw: ImageDraw.ImageDraw, left: int, right: int, top: int, bottom: int,
          font: ImageFont.ImageFont) -> None:
    for step in GRID_STEPS:
        x = left + (right - left) * step / 100
        draw.line((x, top, x, bottom), fill=GRID, width=1)
        draw.text((x, bottom + 10), f"{step}%", font=font, fill=MUTED, anchor="mt")
    draw.line((left, top, left, bottom), fill=INK, width=2)


def _bar(draw: ImageDraw.ImageDraw, left: int, right: int, y: float, value: float | None,
         color: tuple[int, int, int], font: ImageFont.ImageFont) -> None:
    middle = y + BAR_HEIGHT / 2
    if value is None:
        draw.text((left + 8, middle), "无基数", font=font, fill=MUTED, anchor="lm")
        return
    end = left + (right - left) * min(max(value, 0.0), 1.0)  # over 100% is clipped, label stays true
    if end > left:
        draw.rectangle((left, y + 3, end, y + BAR_HEIGHT - 3), fill=color)
    draw.text((end + 8, middle), f"{value * 100:.1f}%", font=font, fill=INK, anchor="lm")


def _reference_line(draw: ImageDraw.ImageDraw, x: float, top: int, bottom: int) -> None:
    for y in range(top, bottom, 14):
        draw.line((x, y, x, min(y + 8, bottom)), fill=REFERENCE_COLOR, width=3)

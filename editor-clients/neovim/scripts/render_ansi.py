#!/usr/bin/env python3
"""Render terminal text with ANSI colours (`tmux capture-pane -e -p`) to a PNG.

    tmux capture-pane -e -p -t SESSION > pane.ansi
    python render_ansi.py pane.ansi out.png --cursor "$(tmux display -p -t SESSION '#{cursor_x},#{cursor_y}')"

Understands SGR sequences: reset, bold, dim, italic, underline, reverse, the 16 basic
colours, 256-colour (38;5;N / 48;5;N) and true colour (38;2;R;G;B / 48;2;R;G;B); other escape
sequences are skipped. Wide (East Asian) characters take two cells. Needs Pillow and a
monospace TrueType font (default: DejaVu Sans Mono from Debian's fonts-dejavu-core).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    (False, False): "DejaVuSansMono.ttf",
    (True, False): "DejaVuSansMono-Bold.ttf",
    (False, True): "DejaVuSansMono-Oblique.ttf",
    (True, True): "DejaVuSansMono-BoldOblique.ttf",
}
DEFAULT_FG = (0xD0, 0xD0, 0xD0)
DEFAULT_BG = (0x1C, 0x1C, 0x1C)
# The 16 basic colours (a muted xterm-like palette).
BASIC = [
    (0x1C, 0x1C, 0x1C), (0xCD, 0x31, 0x31), (0x0D, 0xBC, 0x79), (0xE5, 0xE5, 0x10),
    (0x24, 0x72, 0xC8), (0xBC, 0x3F, 0xBC), (0x11, 0xA8, 0xCD), (0xE5, 0xE5, 0xE5),
    (0x66, 0x66, 0x66), (0xF1, 0x4C, 0x4C), (0x23, 0xD1, 0x8B), (0xF5, 0xF5, 0x43),
    (0x3B, 0x8E, 0xEA), (0xD6, 0x70, 0xD6), (0x29, 0xB8, 0xDB), (0xFF, 0xFF, 0xFF),
]

ESCAPE = re.compile(r"\x1b\[([0-9;:?]*)([@-~])|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def color_256(n: int) -> tuple[int, int, int]:
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    level = 8 + 10 * (n - 232)
    return level, level, level


@dataclass(frozen=True)
class Style:
    fg: tuple[int, int, int] | None = None  # None: the default colour
    bg: tuple[int, int, int] | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False


def apply_sgr(style: Style, params: str) -> Style:
    codes = [int(p) if p.isdigit() else 0 for p in re.split(r"[;:]", params)] if params else [0]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            style = Style()
        elif code == 1:
            style = replace(style, bold=True)
        elif code == 2:
            style = replace(style, dim=True)
        elif code == 3:
            style = replace(style, italic=True)
        elif code == 4:
            style = replace(style, underline=True)
        elif code == 7:
            style = replace(style, reverse=True)
        elif code == 22:
            style = replace(style, bold=False, dim=False)
        elif code == 23:
            style = replace(style, italic=False)
        elif code == 24:
            style = replace(style, underline=False)
        elif code == 27:
            style = replace(style, reverse=False)
        elif 30 <= code <= 37:
            style = replace(style, fg=BASIC[code - 30])
        elif 90 <= code <= 97:
            style = replace(style, fg=BASIC[code - 90 + 8])
        elif code == 39:
            style = replace(style, fg=None)
        elif 40 <= code <= 47:
            style = replace(style, bg=BASIC[code - 40])
        elif 100 <= code <= 107:
            style = replace(style, bg=BASIC[code - 100 + 8])
        elif code == 49:
            style = replace(style, bg=None)
        elif code in (38, 48) and i + 1 < len(codes):
            if codes[i + 1] == 5 and i + 2 < len(codes):
                color = color_256(codes[i + 2])
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                color = tuple(codes[i + 2 : i + 5])
                i += 4
            else:
                color = None
            style = replace(style, **{"fg" if code == 38 else "bg": color})
        i += 1
    return style


def parse(text: str) -> list[list[tuple[str, Style]]]:
    """Lines of cells (character, style); a wide character is followed by an empty cell."""
    rows: list[list[tuple[str, Style]]] = []
    style = Style()
    for raw in text.split("\n"):
        row: list[tuple[str, Style]] = []
        pos = 0
        for match in ESCAPE.finditer(raw):
            row.extend(cells(raw[pos : match.start()], style))
            if match.group(2) == "m":
                style = apply_sgr(style, match.group(1))
            pos = match.end()
        row.extend(cells(raw[pos:], style))
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def cells(text: str, style: Style) -> list[tuple[str, Style]]:
    out = []
    for ch in text:
        if ch == "\r" or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        out.append((ch, style))
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            out.append(("", style))
    return out


def render(rows, cols: int, lines: int, font_size: int, cursor: tuple[int, int] | None, cursor_shape: str,
           padding: int, font_dir: Path) -> Image.Image:
    fonts = {key: ImageFont.truetype(str(font_dir / name), font_size) for key, name in FONTS.items()}
    regular = fonts[(False, False)]
    ascent, descent = regular.getmetrics()
    cell_w = round(regular.getlength("M"))
    cell_h = ascent + descent + 2
    image = Image.new("RGB", (cols * cell_w + 2 * padding, lines * cell_h + 2 * padding), DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(rows[:lines]):
        for x, (ch, style) in enumerate(row[:cols]):
            fg, bg = style.fg or DEFAULT_FG, style.bg or DEFAULT_BG
            if style.reverse:
                fg, bg = bg, fg
            if style.dim:
                fg = tuple((c + b) // 2 for c, b in zip(fg, bg))
            left, top = padding + x * cell_w, padding + y * cell_h
            wide = ch != "" and unicodedata.east_asian_width(ch) in ("W", "F")
            if bg != DEFAULT_BG:
                draw.rectangle([left, top, left + cell_w * (2 if wide else 1) - 1, top + cell_h - 1], fill=bg)
            if ch.strip():
                draw.text((left, top + 1), ch, font=fonts[(style.bold, style.italic)], fill=fg)
            if style.underline:
                draw.line([left, top + cell_h - 2, left + cell_w - 1, top + cell_h - 2], fill=fg)
    if cursor is not None:
        x, y = cursor
        left, top = padding + x * cell_w, padding + y * cell_h
        if cursor_shape == "bar":
            draw.rectangle([left, top + 1, left + 1, top + cell_h - 2], fill=DEFAULT_FG)
        elif cursor_shape == "block":
            draw.rectangle([left, top, left + cell_w - 1, top + cell_h - 1], outline=DEFAULT_FG)
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="ANSI text (`tmux capture-pane -e -p`), - for stdin")
    parser.add_argument("output", help="the PNG to write")
    parser.add_argument("--cols", type=int, help="width in cells (default: the longest line)")
    parser.add_argument("--lines", type=int, help="height in cells (default: the number of lines)")
    parser.add_argument("--font-size", type=int, default=16)
    parser.add_argument("--font-dir", type=Path, default=FONT_DIR, help="folder with DejaVuSansMono*.ttf")
    parser.add_argument("--cursor", help="X,Y cell of the cursor, 0-based (`tmux display -p '#{cursor_x},#{cursor_y}'`)")
    parser.add_argument("--cursor-shape", choices=("bar", "block", "none"), default="bar")
    parser.add_argument("--padding", type=int, default=12)
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text(encoding="utf-8", errors="replace")
    rows = parse(text)
    cols = args.cols or max((len(r) for r in rows), default=1)
    lines = args.lines or max(len(rows), 1)
    cursor = tuple(int(v) for v in args.cursor.split(",")) if args.cursor else None
    image = render(rows, cols, lines, args.font_size, cursor, args.cursor_shape, args.padding, args.font_dir)
    image.save(args.output)
    print(f"{args.output}: {image.width}x{image.height} px, {cols}x{lines} cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())

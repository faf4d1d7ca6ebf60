"""Draw the integration's brand images (icon, logo; @2x; transparent PNG).

Run with any Python that has Pillow: ``.venv/bin/python scripts/make_brand.py``.
The drawing is ours: a meter dial with a lightning bolt, the optical eye on top.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
BRAND = ROOT / "custom_components" / "wattwaechter" / "brand"
GREEN = (46, 125, 50, 255)
LIGHT_GREEN = (129, 199, 132, 255)
YELLOW = (255, 193, 7, 255)
DARK = (33, 33, 33, 255)
WHITE = (250, 250, 250, 255)


def icon(size: int) -> Image.Image:
    """Draw a round meter face with a bolt, at 4x and scaled down for smooth edges."""
    big = size * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    pad = big // 16
    draw.ellipse((pad, pad, big - pad, big - pad), fill=GREEN)
    ring = big // 9
    draw.ellipse(
        (pad + ring, pad + ring, big - pad - ring, big - pad - ring), fill=WHITE
    )
    # Dial ticks along the upper arc.
    center = big / 2
    inner = big / 2 - pad - ring * 1.25
    outer = big / 2 - pad - ring * 0.55
    for step in range(9):
        angle = math.radians(200 + step * 17.5)
        x1, y1 = center + inner * math.cos(angle), center + inner * math.sin(angle)
        x2, y2 = center + outer * math.cos(angle), center + outer * math.sin(angle)
        draw.line(
            (x1, y1, x2, y2), fill=LIGHT_GREEN if step < 6 else GREEN, width=big // 40
        )
    # The bolt.
    s = big / 256
    bolt = [
        (140, 56),
        (84, 140),
        (122, 140),
        (104, 206),
        (172, 112),
        (132, 112),
        (152, 56),
    ]
    draw.polygon(
        [(x * s, y * s) for x, y in bolt], fill=YELLOW, outline=DARK, width=int(3 * s)
    )
    return img.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int) -> Image.Image:
    """Draw the icon with the product name beside it."""
    mark = icon(height)
    font_size = int(height * 0.42)
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", font_size)
    except OSError:
        font = ImageFont.load_default(size=font_size)
    text = "WattWächter"
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    width = height + height // 6 + (right - left) + height // 8
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste(mark, (0, 0), mark)
    draw = ImageDraw.Draw(img)
    y = (height - (bottom - top)) // 2 - top
    draw.text((height + height // 6, y), text, font=font, fill=GREEN)
    return img


def main() -> None:
    """Write every image."""
    BRAND.mkdir(parents=True, exist_ok=True)
    icon(256).save(BRAND / "icon.png", optimize=True)
    icon(512).save(BRAND / "icon@2x.png", optimize=True)
    logo(128).save(BRAND / "logo.png", optimize=True)
    logo(256).save(BRAND / "logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()

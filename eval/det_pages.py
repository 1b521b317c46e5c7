"""The rendered pages of the ocr-det evaluation set (eval/make-inputs.py): DejaVu text laid out
as pages, columns, a table, a poster, rotated and low-contrast pages, and captions on skimage
photos, each text line's box recorded as ground truth. Deterministic, like make-inputs.py."""
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"


def det_size(w, h, limit=960):
    """Width and height of the detector input for a w x h image (see det_preprocess in make-inputs.py)."""
    ratio = min(1.0, limit / max(w, h))
    return max(32, int(round(w * ratio / 32)) * 32), max(32, int(round(h * ratio / 32)) * 32)


# ------------------------------------------------------------ ocr-det ------
# The detector's evaluation set: rendered pages (fonts, sizes, colours, layouts, a table, slight
# rotation, low contrast), a real scanned page and captions/signs drawn on skimage photos. Other
# text, fonts and images than the calibration page (CALIB_LINES, CALIB_FONTS, skimage text()).
# Each rendered text line's box is recorded as ground truth.

_fonts = {}


def dejavu(name, size):
    if (name, size) not in _fonts:
        _fonts[name, size] = ImageFont.truetype(os.path.join(FONT_DIR, name), size)
    return _fonts[name, size]


class TextCanvas:
    """An RGB image that records the box (PIL textbbox) of every text line drawn on it."""

    def __init__(self, img):
        self.img = img
        self.draw = ImageDraw.Draw(img)
        self.boxes = []

    def text(self, xy, line, font, fill, stroke_width=0, stroke_fill=None):
        self.draw.text(xy, line, font=font, fill=fill, stroke_width=stroke_width, stroke_fill=stroke_fill)
        self.boxes.append(self.draw.textbbox(xy, line, font=font, stroke_width=stroke_width))

    def rotate(self, degrees, background):
        """Rotates the image counter-clockwise about its centre (same size); each box becomes the
        axis-aligned bounding box of its rotated corners."""
        self.img = self.img.rotate(degrees, resample=Image.BICUBIC, fillcolor=background)
        self.draw = ImageDraw.Draw(self.img)
        cx, cy = self.img.width / 2, self.img.height / 2
        c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        rotated = []
        for x0, y0, x1, y1 in self.boxes:
            pts = [(cx + (x - cx) * c + (y - cy) * s, cy - (x - cx) * s + (y - cy) * c)
                   for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
            rotated.append((min(p[0] for p in pts), min(p[1] for p in pts),
                            max(p[0] for p in pts), max(p[1] for p in pts)))
        self.boxes = rotated

    def gt_boxes(self):
        """The boxes in the detector input's pixels (det_preprocess resizes), clipped to it."""
        rw, rh = det_size(*self.img.size)
        sx, sy = rw / self.img.width, rh / self.img.height
        out = []
        for x0, y0, x1, y1 in self.boxes:
            b = [max(0.0, x0 * sx), max(0.0, y0 * sy), min(rw, x1 * sx), min(rh, y1 * sy)]
            if b[2] > b[0] and b[3] > b[1]:
                out.append([round(v, 1) for v in b])
        return out


def wrap(text, font, width):
    """Greedy word wrap of text into lines no wider than width pixels."""
    lines, cur = [], ""
    for word in text.split():
        cand = f"{cur} {word}".strip()
        if cur and font.getlength(cand) > width:
            lines.append(cur)
            cur = word
        else:
            cur = cand
    return lines + ([cur] if cur else [])


BODY = ("Weight-only quantization stores each block of thirty-two weights as small integers with "
        "one scale, and sometimes a zero point, per block. The activations stay in floating point, "
        "so the runtime dequantizes the weights on the fly before every matrix product. Smaller "
        "blocks follow the local range of the weights more closely but cost more scales. A "
        "detector is sensitive to the first layers, where few channels see the whole image, while "
        "the wide middle layers tolerate four bits well. We measured every configuration on the "
        "same inputs and report the figures below, together with the time each run took. The "
        "reference is always the floating-point model on the same images, never a label, so a figure "
        "close to one means the quantized model sees what the original saw, not that either is right.")


def render_page(lines):
    """The original evaluation page (pixels unchanged since the first evaluation)."""
    page = TextCanvas(Image.new("RGB", (800, 600), (250, 248, 240)))
    font, big = dejavu("DejaVuSerif.ttf", 22), dejavu("DejaVuSans-Bold.ttf", 34)
    page.text((40, 30), "Evaluation report", font=big, fill=(20, 20, 20))
    y = 100
    for i, line in enumerate(lines):
        page.text((40 + (i % 3) * 12, y), line, font=font, fill=(0, 0, 0))
        y += 42
    page.draw.rectangle((40, y + 10, 760, y + 60), outline=(0, 0, 0), width=2)
    page.text((55, y + 22), "Total: 3 models, 10 configurations", font=font, fill=(0, 0, 120))
    return page


def render_columns():
    page = TextCanvas(Image.new("RGB", (800, 600), (255, 255, 255)))
    page.text((40, 28), "Notes on compressing a text detector", font=dejavu("DejaVuSans-Bold.ttf", 28), fill=(30, 30, 30))
    body = dejavu("DejaVuSans.ttf", 16)
    lines = wrap(BODY, body, 330)
    half = (len(lines) + 1) // 2
    for col, chunk in enumerate((lines[:half], lines[half:])):
        for i, line in enumerate(chunk):
            page.text((40 + col * 380, 96 + 27 * i), line, font=body, fill=(20, 20, 20))
    page.draw.line((400, 96, 400, 96 + 27 * half), fill=(180, 180, 180), width=1)
    foot = dejavu("DejaVuSans.ttf", 11)
    for i, line in enumerate(["1. Blocks run along the reduction axis of each weight.",
                              "2. Sizes include scales and zero points."]):
        page.text((40, 500 + 17 * i), line, font=foot, fill=(60, 60, 60))
    page.text((360, 560), "page 3 of 12", font=dejavu("DejaVuSerif-Italic.ttf", 14), fill=(90, 90, 90))
    return page


def render_table():
    page = TextCanvas(Image.new("RGB", (736, 544), (252, 252, 252)))
    page.text((32, 24), "Model size by configuration", font=dejavu("DejaVuSans-Bold.ttf", 26), fill=(10, 10, 10))
    rows = [("config", "size MB", "ratio", "SQNR dB"),
            ("fp32", "4.75", "1.000", "exact"), ("int8 b64", "1.31", "0.276", "38.4"),
            ("int4 b32", "0.82", "0.173", "17.9"), ("int4 b128", "0.69", "0.145", "12.6"),
            ("mixed 0.20", "0.95", "0.200", "24.1"), ("gptq b32", "0.82", "0.173", "22.3")]
    xs, top, rh = [32, 232, 392, 532, 704], 84, 56
    page.draw.rectangle((xs[0], top, xs[-1], top + rh), fill=(210, 225, 245))
    for r, row in enumerate(rows):
        y = top + r * rh
        for c, cell in enumerate(row):
            font = dejavu("DejaVuSans-Bold.ttf", 18) if r == 0 else dejavu("DejaVuSansMono.ttf", 18)
            page.text((xs[c] + 14, y + 17), cell, font=font, fill=(0, 0, 0))
    for r in range(len(rows) + 1):
        page.draw.line((xs[0], top + r * rh, xs[-1], top + r * rh), fill=(120, 120, 120), width=1)
    for x in xs:
        page.draw.line((x, top, x, top + len(rows) * rh), fill=(120, 120, 120), width=1)
    return page


def render_poster():
    page = TextCanvas(Image.new("RGB", (640, 800), (24, 36, 72)))
    page.text((40, 40), "OPEN DAY", font=dejavu("DejaVuSans-Bold.ttf", 72), fill=(250, 210, 60))
    page.text((44, 136), "Saturday, 14 June, 10:00 to 16:00", font=dejavu("DejaVuSerif-Italic.ttf", 28), fill=(255, 255, 255))
    page.draw.rectangle((0, 210, 640, 290), fill=(200, 40, 40))
    page.text((40, 228), "Robots, radios and rockets", font=dejavu("DejaVuSansCondensed-Bold.ttf", 36), fill=(255, 255, 255))
    page.draw.rectangle((40, 330, 600, 560), fill=(245, 240, 225))
    card = dejavu("DejaVuSerif.ttf", 20)
    for i, line in enumerate(["Workshop A: soldering for beginners", "Workshop B: build a weather station",
                              "Talk: how small can a model get?", "Lunch in the courtyard at noon"]):
        page.text((60, 352 + 50 * i), line, font=card, fill=(40, 30, 20))
    small = dejavu("DejaVuSansMono.ttf", 14)
    for i, line in enumerate(["Free entry. Children under 12 with an adult.", "Tram 4 or 7 to Science Park, then 5 min walk."]):
        page.text((40, 610 + 26 * i), line, font=small, fill=(200, 205, 220))
    page.text((40, 700), "sciencepark.example.org", font=dejavu("DejaVuSans-Oblique.ttf", 40), fill=(140, 200, 255))
    return page


def render_rotated(degrees, font_name, size, background, ink, lines):
    page = TextCanvas(Image.new("RGB", (800, 600), background))
    font = dejavu(font_name, size)
    for i, line in enumerate(lines):
        page.text((60, 70 + int(size * 2.1) * i), line, font=font, fill=ink)
    page.rotate(degrees, background)
    return page


def render_low_contrast():
    """A faded copy: grey ink about 30 levels above a grey, slightly noisy background."""
    page = TextCanvas(Image.new("RGB", (800, 600), (196, 194, 186)))
    page.text((40, 36), "Maintenance log, pump station 2", font=dejavu("DejaVuSans-Bold.ttf", 26), fill=(156, 154, 148))
    font = dejavu("DejaVuSans.ttf", 19)
    for i, line in enumerate(["07:10 inlet filter cleaned, pressure normal", "08:45 valve V3 sticking, oiled and tested",
                              "11:20 backup generator run for 15 minutes", "13:05 flow meter reads 42.7 litres per second",
                              "15:30 alarm test passed, logbook signed", "17:00 handed over to the evening shift"]):
        page.text((40, 110 + 44 * i), line, font=font, fill=(166, 164, 158))
    noise = np.random.RandomState(2026).normal(0, 5, (600, 800, 1))
    a = np.clip(np.asarray(page.img, np.float32) + noise, 0, 255).astype(np.uint8)
    page.img = Image.fromarray(a)
    return page


def photo(name, scale):
    from skimage import data
    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    return TextCanvas(img.resize((round(img.width * scale), round(img.height * scale)), Image.BICUBIC))


def render_astronaut():
    page = photo("astronaut", 1.5)  # 768x768
    page.draw.rectangle((0, 650, 768, 768), fill=(15, 15, 15))
    page.text((24, 664), "Crew portrait before the flight", font=dejavu("DejaVuSans.ttf", 32), fill=(255, 255, 255))
    page.text((24, 716), "Archive photo, scanned from a print", font=dejavu("DejaVuSerif-Italic.ttf", 22), fill=(210, 210, 210))
    return page


def render_coffee():
    page = photo("coffee", 1.5)  # 900x600
    page.draw.rectangle((540, 30, 880, 230), fill=(30, 60, 45), outline=(120, 90, 50), width=6)
    page.text((565, 50), "TODAY'S SPECIAL", font=dejavu("DejaVuSans-Bold.ttf", 28), fill=(240, 240, 230))
    chalk = dejavu("DejaVuSansMono.ttf", 24)
    for i, line in enumerate(["Flat white   3.20", "Cappuccino   3.50", "Lemon cake   2.80"]):
        page.text((565, 100 + 38 * i), line, font=chalk, fill=(235, 235, 220))
    page.text((30, 520), "Cafe Aurora", font=dejavu("DejaVuSerif-BoldItalic.ttf", 44), fill=(255, 250, 240),
              stroke_width=2, stroke_fill=(60, 30, 10))
    return page


def render_chelsea():
    page = photo("chelsea", 2.0)  # 902x600
    font = dejavu("DejaVuSans-Bold.ttf", 50)
    for y, line in ((20, "WHEN THE MODEL"), (510, "FITS IN FOUR BITS")):
        x = (902 - font.getlength(line)) / 2
        page.text((x, y), line, font=font, fill=(255, 255, 255), stroke_width=3, stroke_fill=(0, 0, 0))
    return page


def render_rocket():
    page = photo("rocket", 1.5)  # 960x640
    page.draw.rectangle((40, 40, 480, 110), fill=(250, 205, 40), outline=(20, 20, 20), width=4)
    page.text((60, 52), "LAUNCH PAD 39A", font=dejavu("DejaVuSans-Bold.ttf", 38), fill=(20, 20, 20))
    page.text((40, 560), "Launch window opens at 06:42 UTC", font=dejavu("DejaVuSans.ttf", 28), fill=(255, 255, 255),
              stroke_width=1, stroke_fill=(40, 40, 40))
    return page

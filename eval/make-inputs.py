#!/usr/bin/python3
"""Generate the real evaluation inputs of the onnx-opt harness, deterministically.

Run with Debian's interpreter (needs python3-numpy python3-pil python3-skimage,
fonts-dejavu-core, espeak-ng, sox):

    /usr/bin/python3 eval/make-inputs.py [--out DIR] [--only ocr,wake,isnet] [--calibration]

Writes raw little-endian float32 tensors (*.f32) and DIR/inputs.json describing
them (shape, label, preprocessing). DIR defaults to
${ONNX_OPT_MODEL_CACHE:-~/.cache/onnx-opt/models}/inputs. Nothing here is
committed; everything is rebuilt bit-identically from fonts, espeak-ng and
skimage.data. --calibration writes the (smaller, different) calibration sets of
eval/sensitivity.js to <cache>/calib instead.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave

try:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
except ImportError as e:  # pragma: no cover
    sys.exit(f"make-inputs: error: {e}; run with /usr/bin/python3 and apt-get install python3-numpy python3-pil python3-skimage")
from det_pages import (FONT_DIR, TextCanvas, dejavu, det_size, photo, render_astronaut,
                       render_chelsea, render_coffee, render_columns, render_low_contrast, render_page,
                       render_poster, render_rocket, render_rotated, render_table)

FONTS = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf"]
SIZES = [28, 40]

# Text lines for recognition / direction classification. Only characters that are
# in ppocr_keys_v1.txt (checked at run time).
LINES = [
    "Quantization keeps one scale per block",
    "The quick brown fox jumps over the lazy dog",
    "Invoice 2024-07-15 total 1,284.50 EUR",
    "ONNX Runtime 1.30 on two cores",
    "Meet me at 10:45 near gate B12",
    "Weights: fp32 to int4, block size 32",
    "Call +44 20 7946 0958 before Friday",
    "Pack my box with five dozen liquor jugs",
]

WAKE_TEXTS = [
    ("hey jarvis", True),
    ("hey jarvis, turn on the lights", True),
    ("the weather is nice today", False),
    ("please open the kitchen window", False),
    ("how are you doing this morning", False),
]
VOICES = ["en-us", "en-gb"]

ISNET_IMAGES = ["astronaut", "coffee", "chelsea"]


# Calibration set (--calibration): other text, faces, phrases and images than the evaluation
# set, so that eval/sensitivity.js measures on inputs the evaluation does not score.
CALIB_LINES = [
    "Shipping label 48213 to Lyon, France",
    "Battery at 37 percent, charge soon",
    "Minutes of the board meeting, March 3",
    "Zero point and scale per output channel",
]
CALIB_FONTS = ["DejaVuSerif-Bold.ttf", "DejaVuSansMono-Bold.ttf"]  # not used by the evaluation
CALIB_WAKE_TEXTS = [
    ("hey jarvis, what time is it", True, "en-us"),
    ("good evening, see you tomorrow", False, "en-gb"),
    ("the train leaves at seven", False, "en-us"),
]
CALIB_ISNET_IMAGES = ["rocket"]


def default_out():
    cache = os.environ.get("ONNX_OPT_MODEL_CACHE") or os.path.expanduser("~/.cache/onnx-opt/models")
    return os.path.join(cache, "inputs")


class Writer:
    def __init__(self, out):
        self.out = out
        os.makedirs(out, exist_ok=True)

    def tensor(self, name, arr):
        arr = np.ascontiguousarray(arr, dtype="<f4")
        path = os.path.join(self.out, name + ".f32")
        arr.tofile(path)
        return {"file": name + ".f32", "shape": list(arr.shape),
                "sha256": hashlib.sha256(arr.tobytes()).hexdigest()[:16]}

    def png(self, name, img):
        img.save(os.path.join(self.out, name + ".png"))


# ---------------------------------------------------------------- OCR ------
def render_line(text, font_file, size):
    font = ImageFont.truetype(os.path.join(FONT_DIR, font_file), size)
    left, top, right, bottom = font.getbbox(text)
    pad = size // 3
    img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), (255, 255, 255))
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=(0, 0, 0))
    return img


def norm_half(img):
    """PP-OCR rec/cls normalisation: (x/255 - 0.5)/0.5, CHW, float32."""
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - 0.5) / 0.5
    return a.transpose(2, 0, 1)


def rec_preprocess(img, img_h=48, min_w=320):
    """PaddleOCR resize_norm_img for recognition: height 48, keep the aspect
    ratio, pad right with zeros (after normalisation) to max(320, ceil to 8)."""
    w, h = img.size
    rw = int(math.ceil(img_h * w / h))
    pw = max(min_w, (rw + 7) // 8 * 8)
    a = norm_half(img.resize((rw, img_h), Image.BILINEAR))
    out = np.zeros((3, img_h, pw), np.float32)
    out[:, :, :rw] = a
    return out[None]


def cls_preprocess(img, img_h=48, img_w=192):
    """PaddleOCR classifier preprocessing: height 48, width min(192, ceil(48*ratio))
    (longer lines are squeezed to 192), pad right with zeros."""
    w, h = img.size
    rw = min(img_w, int(math.ceil(img_h * w / h)))
    a = norm_half(img.resize((rw, img_h), Image.BILINEAR))
    out = np.zeros((3, img_h, img_w), np.float32)
    out[:, :, :rw] = a
    return out[None]


def det_preprocess(img, limit=960):
    """PaddleOCR DB preprocessing: limit the longer side to 960, round both sides
    to multiples of 32, BGR, ImageNet mean/std."""
    rw, rh = det_size(*img.size, limit)
    a = np.asarray(img.convert("RGB").resize((rw, rh), Image.BILINEAR), dtype=np.float32)[:, :, ::-1] / 255.0
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    a = (a - mean) / std
    return a.transpose(2, 0, 1)[None]


def make_det(w):
    """The ocr-det evaluation items: (name, image, description, ground-truth canvas or None)."""
    from skimage import data
    pages = [
        ("det_page", render_page(LINES), "rendered page 800x600", True),
        ("det_columns", render_columns(), "two-column page, DejaVu Sans 16, header 28, footnotes 11", True),
        ("det_table", render_table(), "table 7x4 with grid, Sans Mono 18, bold header", True),
        ("det_poster", render_poster(), "poster 640x800, sizes 14-72, coloured text and bands", True),
        ("det_rotated_ccw3", render_rotated(3, "DejaVuSerif.ttf", 22, (246, 244, 236), (10, 10, 10), [
            "Please keep this door closed at all times", "Deliveries between 8 and 11 only",
            "Ring the bell once and wait", "Parcels can be left with the neighbours at 14",
            "Thank you for your patience"]), "page rotated 3 degrees counter-clockwise, Serif 22", True),
        ("det_rotated_cw4", render_rotated(-4, "DejaVuSans-Oblique.ttf", 24, (232, 236, 240), (30, 30, 90), [
            "Room 204: seminar on signal processing", "Room 206: reading group, chapter 7",
            "Room 210: closed for repairs until May"]), "page rotated 4 degrees clockwise, Sans Oblique 24, blue ink", True),
        ("det_low_contrast", render_low_contrast(), "low-contrast page: grey ink 30 levels above a grey background, noise", True),
        ("det_astronaut", render_astronaut(), "skimage astronaut x1.5 with a caption bar", False),
        ("det_coffee", render_coffee(), "skimage coffee x1.5 with a chalkboard sign and an outlined name", False),
        ("det_chelsea", render_chelsea(), "skimage chelsea x2 with outlined meme text", False),
        ("det_rocket", render_rocket(), "skimage rocket x1.5 with a sign and a caption", False),
    ]
    det = []
    for name, page, source, complete in pages:
        w.png(name, page.img)
        e = w.tensor(name, det_preprocess(page.img))
        e.update(source=source, gt_boxes=page.gt_boxes(), gt_complete=complete)
        det.append(e)
        if name == "det_page":  # the scanned page stays second, as before
            sk = Image.fromarray(data.page()).convert("RGB")
            sk = sk.resize((sk.width * 2, sk.height * 2), Image.BICUBIC)
            w.png("det_skimage_page", sk)
            e = w.tensor("det_skimage_page", det_preprocess(sk))
            e.update(source="skimage.data.page() upscaled 2x (scan, no ground truth)")
            det.append(e)
    return det


def make_ocr(w, keys_path):
    keys = None
    if keys_path and os.path.exists(keys_path):
        with open(keys_path, encoding="utf-8") as f:
            keys = set(line.rstrip("\n") for line in f)
        keys.add(" ")
        for line in LINES:
            missing = [c for c in line if c not in keys]
            if missing:
                sys.exit(f"make-inputs: error: characters {missing!r} of {line!r} are not in {keys_path}")
    rec, cls = [], []
    k = 0
    for font in FONTS:
        for size in SIZES:
            for li, text in enumerate(LINES):
                # Each (font,size) pair gets every other line, alternating, to keep
                # the set at 32 lines while covering every line with every font.
                if (li + FONTS.index(font) + SIZES.index(size)) % 2:
                    continue
                img = render_line(text, font, size)
                name = f"line{k:02d}"
                w.png(name, img)
                e = w.tensor(f"rec_{name}", rec_preprocess(img))
                e.update(label=text, font=font, size=size)
                rec.append(e)
                for rot in (0, 180):
                    im = img if rot == 0 else img.rotate(180)
                    e = w.tensor(f"cls_{name}_{rot}", cls_preprocess(im))
                    e.update(label=0 if rot == 0 else 1, rotation=rot, text=text)
                    cls.append(e)
                k += 1
    det = make_det(w)
    return {
        "ocr-rec": {"input": "x", "items": rec,
                    "preprocess": "height 48, aspect kept, (x/255-0.5)/0.5, zero pad right to max(320, ceil8)",
                    "metric": "CER of CTC greedy decode vs label"},
        "ocr-cls": {"input": "x", "items": cls,
                    "preprocess": "48x192, (x/255-0.5)/0.5, zero pad right; label 0=upright 1=rotated 180",
                    "metric": "accuracy"},
        "ocr-det": {"input": "x", "items": det, "threshold": 0.3,
                    "preprocess": "longer side <= 960, multiples of 32, BGR, ImageNet mean/std",
                    "metric": "mask IoU at 0.3 vs fp32; boxes (components of the map at 0.3, unclipped): "
                              "F1 vs fp32 boxes and recall/F1 vs gt_boxes at IoU 0.5 (eval/det-metric.js)",
                    "gt_boxes": "per item: [x0, y0, x1, y1] of each rendered text line (PIL textbbox, rotated: "
                                "bounding box of the rotated corners) in preprocessed-image pixels; "
                                "gt_complete false: the photo may hold other text (recall only)"},
    }


# --------------------------------------------------------------- wake ------
def speak(text, voice, tmp):
    raw = os.path.join(tmp, "raw.wav")
    res = os.path.join(tmp, "16k.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", raw, text], check=True)
    subprocess.run(["sox", "-D", raw, "-r", "16000", "-c", "1", "-b", "16", res], check=True)  # -D: no (random) dither
    with wave.open(res) as f:
        assert f.getframerate() == 16000 and f.getsampwidth() == 2
        pcm = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32)
    return pcm


def wake_clip(text, voice, tmp, rng):
    """Spoken text normalised to a peak of about -6 dBFS, with 1 s of lead-in and 1 s of tail
    and faint seeded noise so that silence is not digital zero."""
    pcm = speak(text, voice, tmp)
    pcm = pcm * (16384.0 / max(1.0, float(np.abs(pcm).max())))
    sil = np.zeros(16000, np.float32)
    clip = np.concatenate([sil, pcm, sil])
    clip += rng.normal(0, 8.0, clip.shape).astype(np.float32)
    return np.clip(np.round(clip), -32768, 32767).astype(np.float32)


def make_wake(w):
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            sys.exit(f"make-inputs: error: '{tool}' not found (apt-get install espeak-ng sox)")
    rng = np.random.RandomState(1234)
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            for ti, (text, truth) in enumerate(WAKE_TEXTS):
                clip = wake_clip(text, voice, tmp, rng)
                name = f"wake_{voice}_{ti}"
                e = w.tensor(name, clip[None])
                e.update(text=text, voice=voice, label=int(truth), seconds=round(clip.size / 16000, 3))
                items.append(e)
    return {"wakeword": {"input": "samples", "items": items, "threshold": 0.5,
                         "preprocess": "16 kHz mono, float32 in int16 scale; mel/10+2, windows of 76 mel frames step 8, head over 16 embeddings",
                         "metric": "decision (max score >= 0.5) accuracy vs truth and flips vs fp32"}}


# -------------------------------------------------------------- isnet ------
def make_isnet(w):
    from skimage import data
    items = []
    for name in ISNET_IMAGES:
        img = Image.fromarray(getattr(data, name)()).convert("RGB")
        img = img.resize((1024, 1024), Image.BILINEAR)
        a = (np.asarray(img, np.float32) - 128.0) / 256.0
        e = w.tensor(f"isnet_{name}", a.transpose(2, 0, 1)[None])
        e.update(source=f"skimage.data.{name}()")
        items.append(e)
    return {"isnet": {"input": "input", "items": items, "threshold": 0.5,
                      "preprocess": "RGB bilinear 1024x1024, (x-128)/256 (as @imgly/background-removal)",
                      "metric": "mask IoU at 0.5 vs fp32 (first output)"}}


def calibration_page(size, font, ink, paper, repeats, dims):
    """CALIB_LINES repeated down a page, indented in a cycle of three."""
    img = Image.new("RGB", dims, paper)
    d = ImageDraw.Draw(img)
    f = dejavu(font, size)
    y = 20
    for i, line in enumerate(CALIB_LINES * repeats):
        if y + size > dims[1] - 10:
            break
        d.text((30 + (i % 3) * 15, y), line, font=f, fill=ink)
        y += int(size * 1.9)
    return img


def calibration_det_extra():
    """More ocr-det calibration images (GPTQ's Hessians of the deep 15x20 feature maps need more
    than two images' worth of positions): pages in other sizes and colours, and captions on
    skimage photos the evaluation does not use."""
    out = [
        ("calib_det_mono_small", calibration_page(16, "DejaVuSansMono-Bold.ttf", (30, 30, 30), (245, 245, 245), 4, (720, 540)),
         "rendered page, 16 px mono bold"),
        ("calib_det_dark", calibration_page(28, "DejaVuSerif-Bold.ttf", (240, 240, 200), (25, 35, 60), 2, (720, 540)),
         "rendered page, light text on dark blue"),
        ("calib_det_big", calibration_page(44, "DejaVuSerif-Bold.ttf", (120, 10, 10), (255, 250, 230), 2, (960, 640)),
         "rendered page, 44 px serif bold"),
    ]
    for name, scale in (("camera", 1.5), ("coins", 1.6), ("horse", 1.0)):
        c = photo(name, scale)
        width, height = c.img.size
        c.draw.rectangle((0, height - 90, width, height), fill=(240, 240, 240))
        c.text((20, height - 80), CALIB_LINES[0], font=dejavu("DejaVuSansMono-Bold.ttf", 26), fill=(0, 0, 0))
        c.text((20, height - 40), CALIB_LINES[1], font=dejavu("DejaVuSerif-Bold.ttf", 24), fill=(60, 0, 0))
        out.append((f"calib_det_{name}", c.img, f"skimage.data.{name}() x{scale} with a two-line caption"))
    return out


def make_calibration(w, keys_path):
    """Small calibration sets with the same preprocessing and manifest layout as the evaluation
    sets (so eval/run.js and eval/sensitivity.js read them with --inputs DIR)."""
    from skimage import data
    keys = None
    if keys_path and os.path.exists(keys_path):
        with open(keys_path, encoding="utf-8") as f:
            keys = set(line.rstrip("\n") for line in f) | {" "}
    rec, cls = [], []
    for fi, font in enumerate(CALIB_FONTS):
        for li, text in enumerate(CALIB_LINES):
            if keys is not None and any(c not in keys for c in text):
                sys.exit(f"make-inputs: error: {text!r} has characters missing from {keys_path}")
            img = render_line(text, font, 34)
            name = f"calib_line{fi}{li}"
            e = w.tensor(f"rec_{name}", rec_preprocess(img))
            e.update(label=text, font=font, size=34)
            rec.append(e)
            for rot in (0, 180):
                e = w.tensor(f"cls_{name}_{rot}", cls_preprocess(img if rot == 0 else img.rotate(180)))
                e.update(label=0 if rot == 0 else 1, rotation=rot, text=text)
                cls.append(e)
    font = ImageFont.truetype(os.path.join(FONT_DIR, CALIB_FONTS[0]), 24)
    page = Image.new("RGB", (640, 480), (255, 255, 250))
    d = ImageDraw.Draw(page)
    for i, line in enumerate(CALIB_LINES * 2):
        d.text((30 + (i % 2) * 20, 30 + 52 * i), line, font=font, fill=(10, 10, 60))
    det = [dict(w.tensor("calib_det_page", det_preprocess(page)), source="rendered page 640x480")]
    sk = Image.fromarray(data.text()).convert("RGB")
    det.append(dict(w.tensor("calib_det_skimage_text", det_preprocess(sk.resize((sk.width * 2, sk.height * 2), Image.BICUBIC))),
                    source="skimage.data.text() upscaled 2x"))
    for name, img, source in calibration_det_extra():
        det.append(dict(w.tensor(name, det_preprocess(img)), source=source))
    wake = []
    rng = np.random.RandomState(4321)
    with tempfile.TemporaryDirectory() as tmp:
        for ti, (text, truth, voice) in enumerate(CALIB_WAKE_TEXTS):
            clip = wake_clip(text, voice, tmp, rng)
            e = w.tensor(f"calib_wake_{ti}", clip[None])
            e.update(text=text, voice=voice, label=int(truth), seconds=round(clip.size / 16000, 3))
            wake.append(e)
    isnet = []
    for name in CALIB_ISNET_IMAGES:
        img = Image.fromarray(getattr(data, name)()).convert("RGB").resize((1024, 1024), Image.BILINEAR)
        a = (np.asarray(img, np.float32) - 128.0) / 256.0
        isnet.append(dict(w.tensor(f"calib_isnet_{name}", a.transpose(2, 0, 1)[None]), source=f"skimage.data.{name}()"))
    return {
        "ocr-rec": {"input": "x", "items": rec, "purpose": "calibration"},
        "ocr-cls": {"input": "x", "items": cls, "purpose": "calibration"},
        "ocr-det": {"input": "x", "items": det, "threshold": 0.3, "purpose": "calibration"},
        "wakeword": {"input": "samples", "items": wake, "threshold": 0.5, "purpose": "calibration"},
        "isnet": {"input": "input", "items": isnet, "threshold": 0.5, "purpose": "calibration"},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=default_out())
    ap.add_argument("--only", default="ocr,wake,isnet")
    ap.add_argument("--keys", default=None, help="ppocr_keys_v1.txt (default: <cache>/ocr-keys.txt)")
    ap.add_argument("--calibration", action="store_true",
                    help="write the calibration sets of eval/sensitivity.js (default --out <cache>/calib)")
    args = ap.parse_args()
    if args.calibration and args.out == default_out():
        args.out = os.path.join(os.path.dirname(default_out()), "calib")
    keys = args.keys or os.path.join(os.path.dirname(os.path.abspath(args.out)), "ocr-keys.txt")
    w = Writer(args.out)
    manifest_path = os.path.join(args.out, "inputs.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f).get("sets", {})
    parts = set(args.only.split(","))
    if args.calibration:
        manifest.update(make_calibration(w, keys))
        parts = set()
    if "ocr" in parts:
        manifest.update(make_ocr(w, keys))
    if "wake" in parts:
        manifest.update(make_wake(w))
    if "isnet" in parts:
        manifest.update(make_isnet(w))
    with open(manifest_path, "w") as f:
        json.dump({"generator": "eval/make-inputs.py", "format": "raw little-endian float32 (.f32)",
                   "sets": manifest}, f, indent=1)
    n = sum(len(v["items"]) for v in manifest.values())
    print(f"make-inputs: wrote {n} inputs in {len(manifest)} sets to {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes N PNG photos for the onnx-opt-calibrate benchmark: crops and flips of the images
python3-skimage ships (no download), each W x H pixels. Usage: make-images.py OUT_DIR N W H"""
import os
import sys

import numpy as np
from PIL import Image
import skimage.data as data

out, n, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
names = ["astronaut", "camera", "chelsea", "coffee", "coins", "horse", "page", "text", "rocket",
         "immunohistochemistry", "hubble_deep_field", "motorcycle", "retina", "logo", "moon"]
images = []
for name in names:
    fn = getattr(data, name, None) or (lambda: data.stereo_motorcycle()[0])
    try:
        a = fn()
    except Exception:  # an image this skimage version does not ship
        continue
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    images.append(Image.fromarray(a[..., :3].astype(np.uint8)).convert("RGB"))
rng = np.random.default_rng(0)
for i in range(n):
    img = images[i % len(images)]
    scale = rng.uniform(0.6, 1.0)
    cw, ch = int(img.width * scale), int(img.height * scale)
    x0, y0 = rng.integers(0, img.width - cw + 1), rng.integers(0, img.height - ch + 1)
    crop = img.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.BILINEAR)
    if i // len(images) % 2:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    crop.save(os.path.join(out, f"img{i:03d}.png"))

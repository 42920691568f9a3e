"""Fractal images: Mandelbrot and Julia sets rendered with numpy, encoded as PNG with Pillow.

A fractal is its ``Parameters`` (the window of the complex plane, the iteration limit, the
image size, and for a Julia set its constant); rendering the same parameters gives the same
PNG bytes, so a fractal's md5 identifies its image.
"""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

KINDS = ("mandelbrot", "julia")
DEFAULT_SIZE = (256, 256)
DEFAULT_ITERATIONS = (64, 256)
# Julia constants with interesting sets (c on or near the Mandelbrot set's edge).
JULIA_CONSTANTS = (-0.8 + 0.156j, -0.4 + 0.6j, 0.285 + 0.01j, -0.70176 - 0.3842j, 0.355 + 0.355j)


@dataclass(frozen=True)
class Parameters:
    kind: str
    width: int
    height: int
    iterations: int
    xa: float
    xb: float
    ya: float
    yb: float
    c_real: float = 0.0
    c_imag: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def random_parameters(rng: random.Random, size: tuple[int, int] = DEFAULT_SIZE) -> Parameters:
    """A random window onto a random Mandelbrot or Julia set, as faafo's producer picks them."""
    kind = rng.choice(KINDS)
    zoom = rng.uniform(0.3, 1.0)
    if kind == "mandelbrot":
        cx, cy, span, c = rng.uniform(-1.0, -0.4), rng.uniform(-0.4, 0.4), 3.0 * zoom, 0j
    else:
        cx, cy, span, c = 0.0, 0.0, 3.2 * zoom, rng.choice(JULIA_CONSTANTS)
    aspect = size[1] / size[0]
    return Parameters(
        kind, size[0], size[1], rng.randint(*DEFAULT_ITERATIONS),
        cx - span / 2, cx + span / 2, cy - span * aspect / 2, cy + span * aspect / 2, c.real, c.imag,
    )  # fmt: skip


def escape_counts(p: Parameters) -> np.ndarray:
    """How many iterations each pixel's point takes to leave the radius-2 disc (``iterations`` if never)."""
    x = np.linspace(p.xa, p.xb, p.width)
    y = np.linspace(p.ya, p.yb, p.height)
    plane = x[np.newaxis, :] + 1j * y[:, np.newaxis]
    if p.kind == "mandelbrot":
        z, c = np.zeros_like(plane), plane
    else:
        z, c = plane, np.full_like(plane, complex(p.c_real, p.c_imag))
    counts = np.full(plane.shape, p.iterations, dtype=np.int32)
    inside = np.ones(plane.shape, dtype=bool)
    for i in range(p.iterations):
        z[inside] = z[inside] ** 2 + c[inside]
        escaped = inside & (np.abs(z) > 2.0)
        counts[escaped] = i
        inside &= ~escaped
        if not inside.any():
            break
    return counts


def render_png(p: Parameters) -> bytes:
    """The fractal as a PNG: escape counts mapped onto a blue-to-gold palette, the set in black."""
    counts = escape_counts(p)
    t = counts / p.iterations
    rgb = np.stack([9 * (1 - t) * t**3, 15 * (1 - t) ** 2 * t**2, 8.5 * (1 - t) ** 3 * t], axis=-1)
    pixels = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG")
    return out.getvalue()

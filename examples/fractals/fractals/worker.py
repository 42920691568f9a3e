"""The worker: renders fractals and records them, as faafo's worker does for each task the
producer queues; here a command makes ``count`` of them at once."""

from __future__ import annotations

import hashlib
import random
import socket
import time
import uuid as uuids

from .db import Database, Fractal, now
from .render import random_parameters, render_png
from .storage import ImageStore


def make_fractals(db: Database, images: ImageStore, count: int, seed: int | None = None) -> list[Fractal]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        parameters = random_parameters(rng)
        started = time.monotonic()
        png = render_png(parameters)
        duration = time.monotonic() - started
        fractal = Fractal(
            str(uuids.UUID(int=rng.getrandbits(128), version=4)),
            parameters, hashlib.md5(png).hexdigest(), len(png), round(duration, 3), socket.gethostname(), now(),
        )  # fmt: skip
        images.put(fractal.uuid, png)
        db.add(fractal)
        made.append(fractal)
    return made

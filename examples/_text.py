"""Finding the text files of the sequence examples, as microtensor.data finds MNIST.

Searched in order: the --data directory (only that one, when given), then `$MICROTENSOR_DATA/text`,
then the per-user cache (`~/.cache/microtensor/text`). With --download a missing file is fetched
from its public URL into the data root and checked against its SHA-256 before it is saved.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

# the module (microtensor.data.mnist the attribute is the MNIST function): its cache and fetch helpers
_data = importlib.import_module("microtensor.data.mnist")

# name -> (public URL, SHA-256, where it comes from)
TEXTS = {
    "tiny_shakespeare.txt": (
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        "about 1 MB of Shakespeare's plays (public domain), the char-rnn 'tiny Shakespeare' selection",
    ),
    "names.txt": (
        "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
        "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
        "32,033 first names from the US Social Security Administration's public baby-name records",
    ),
}


def text_dirs(data_dir: str | None) -> list[Path]:
    """The directories searched for the text files, in order."""
    if data_dir is not None:
        return [Path(data_dir)]
    dirs = []
    if os.environ.get(_data.DATA_ENV):
        dirs.append(Path(os.environ[_data.DATA_ENV]) / "text")
    dirs.append(_data.cache_dir() / "text")
    return dirs


def find_text(name: str, data_dir: str | None = None, download: bool = False) -> str:
    """The contents of the text file `name`, found (or with download=True fetched) as described above."""
    for d in text_dirs(data_dir):
        if (d / name).is_file():
            return (d / name).read_text(encoding="utf-8")
    url, sha256, what = TEXTS[name]
    if not download:
        searched = ", ".join(str(d) for d in text_dirs(data_dir))
        raise SystemExit(
            f"{name} ({what}) not found in {searched}; run with --download to fetch it from {url} "
            f"(SHA-256 checked), or --data DIR"
        )
    dest = (Path(data_dir) if data_dir else _data.data_root() / "text") / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    _data._fetch(url, dest, sha256, 60.0, None)
    return dest.read_text(encoding="utf-8")

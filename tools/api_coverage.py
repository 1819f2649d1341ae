"""Which of PyTorch's public names microtensor has: a coverage report for porting.

    python tools/api_coverage.py            # print the summary
    python tools/api_coverage.py --write    # regenerate docs/api_coverage.md (the published page)
    python tools/api_coverage.py --check    # exit 1 if docs/api_coverage.md is out of date

Needs torch installed (it is the list being compared against). For each
namespace (torch, torch.Tensor, torch.nn, torch.nn.functional, torch.optim,
torch.optim.lr_scheduler, torch.autograd, torch.utils.data, torch.nn.init,
torch.distributions) it
lists PyTorch's public names (no leading underscore; modules, dtypes and
typing helpers excluded) and whether microtensor has the same name in the
matching place. Having a name is not proof of identical semantics: the parity
tests and the ports corpus check that.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "api_coverage.md"
REGENERATE = "python tools/api_coverage.py --write"

NAMESPACES = [
    ("torch", "microtensor"),
    ("torch.Tensor", "microtensor.Tensor"),
    ("torch.nn", "microtensor.nn"),
    ("torch.nn.functional", "microtensor.nn.functional"),
    ("torch.nn.init", "microtensor.nn.init"),
    ("torch.optim", "microtensor.optim"),
    ("torch.optim.lr_scheduler", "microtensor.optim.lr_scheduler"),
    ("torch.autograd", "microtensor.autograd"),
    ("torch.utils.data", "microtensor.utils.data"),
    ("torch.distributions", "microtensor.distributions"),
]


def resolve(path: str):
    """A module, or a class inside a module ('torch.Tensor')."""
    try:
        return importlib.import_module(path)
    except ImportError:
        mod, _, attr = path.rpartition(".")
        return getattr(importlib.import_module(mod), attr)


def public_names(obj) -> list[str]:
    """Public callables and classes of a module or class (what a program calls), sorted."""
    names = []
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            value = getattr(obj, name)
        except Exception:
            continue
        if inspect.ismodule(value) or type(value).__module__ == "typing":
            continue
        if not (callable(value) or isinstance(value, property) or inspect.isdatadescriptor(value)):
            continue
        names.append(name)
    return sorted(names)


def coverage() -> list[tuple[str, list[str], list[str]]]:
    """(namespace, names microtensor has, names it lacks) for every namespace."""
    rows = []
    for theirs, ours in NAMESPACES:
        want = public_names(resolve(theirs))
        try:
            have_obj = resolve(ours)
        except (ImportError, AttributeError):
            have_obj = None
        have = [n for n in want if have_obj is not None and hasattr(have_obj, n)]
        rows.append((theirs, have, [n for n in want if n not in set(have)]))
    return rows


def _share(have: int, total: int) -> str:
    return f"{100 * have / max(total, 1):.0f}%"


def markdown(rows, torch_version: str | None = None) -> str:
    """The published page (docs/api_coverage.md): a summary table, then each namespace's names."""
    if torch_version is None:
        import torch

        torch_version = torch.__version__.split("+")[0]
    have_all = sum(len(have) for _, have, _ in rows)
    total_all = sum(len(have) + len(lack) for _, have, lack in rows)
    lines = [
        "# PyTorch API coverage",
        "",
        f"Which of PyTorch {torch_version}'s public names microtensor has, namespace by namespace:",
        f"{have_all} of {total_all} ({_share(have_all, total_all)}). A name counts as present when",
        "microtensor has the same name in the matching place (`torch.nn.Linear` ->",
        "`microtensor.nn.Linear`); whether it behaves the same is checked by the PyTorch parity tests",
        "and the [ports corpus](porting.md#the-ports-corpus), not by this table. Public means no",
        "leading underscore; submodules, dtypes and typing helpers are not counted.",
        "",
        f"This page is generated: after adding names, regenerate it with `{REGENERATE}`",
        "(needs torch installed). The test suite fails while the page is out of date.",
        "",
        "| namespace | present | of PyTorch's | share |",
        "| --- | ---: | ---: | ---: |",
    ]
    for ns, have, lack in rows:
        total = len(have) + len(lack)
        anchor = ns.replace(".", "").lower()  # the id MkDocs gives the section's heading
        lines.append(f"| [`{ns}`](#{anchor}) | {len(have)} | {total} | {_share(len(have), total)} |")
    lines.append(f"| all | {have_all} | {total_all} | {_share(have_all, total_all)} |")
    for ns, have, lack in rows:
        lines += ["", f"## `{ns}`", ""]
        lines.append(f"**Missing** ({len(lack)}): " + (", ".join(f"`{n}`" for n in lack) or "none"))
        lines.append("")
        lines.append(f"**Present** ({len(have)}): " + (", ".join(f"`{n}`" for n in have) or "none"))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write",
        nargs="?",
        const=PAGE,
        type=Path,
        metavar="PATH",
        help="write the Markdown page (default docs/api_coverage.md)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the published page is out of date")
    args = parser.parse_args(argv)
    rows = coverage()
    for ns, have, lack in rows:
        total = len(have) + len(lack)
        print(f"{ns:28s} {len(have):4d} / {total:4d}  ({_share(len(have), total)})")
    page = markdown(rows)
    if args.write:
        args.write.write_text(page, encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    if args.check and (not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != page):
        print(f"{PAGE.name} is out of date: run `{REGENERATE}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The documentation: every public name has a docstring, and the site builds with warnings as errors.

The docstring walk covers the namespaces a PyTorch user calls (microtensor.*, Tensor's methods and
properties, nn, nn.functional, nn.init, optim, lr_scheduler, data / utils.data, autograd, ...) and
every public method, property and attribute of the classes found there (their base classes too).
Its failure message lists exactly the names that lack one.

The site (mkdocs.yml, docs/) is built with `mkdocs build --strict`, as `make docs` does. Without
MkDocs the build test skips, except under CI (the CI environment variable set), where the `[dev]`
extra installs it and a missing MkDocs is a failure, so the build cannot silently stop being tested.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The public namespaces, as PyTorch's (torch -> microtensor, ...).
NAMESPACES = [
    "microtensor",
    "microtensor.nn",
    "microtensor.nn.functional",
    "microtensor.nn.init",
    "microtensor.nn.utils",
    "microtensor.optim",
    "microtensor.optim.lr_scheduler",
    "microtensor.data",
    "microtensor.utils.data",
    "microtensor.autograd",
    "microtensor.testing",
    "microtensor.onnx",
    "microtensor.cuda",
    "microtensor.accelerator",
    "microtensor.backends.mps",
    "microtensor.distributions",
    "microtensor.distributions.constraints",
    "microtensor.distributions.kl",
    "microtensor.distributions.transforms",
]
# Namespaces that other parts of the PyTorch surface add; walked as soon as they exist.
LATER_NAMESPACES = [
    "microtensor.linalg",
    "microtensor.special",
    "microtensor.fft",
    "microtensor.autograd.functional",
    "microtensor.nn.utils.rnn",
    "microtensor.nn.utils.parametrize",
]


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "microtensor"


def _member_doc(cls: type, name: str, raw) -> str | None:
    """The docstring a user sees for cls.name: its own, or the one of the same name on a base class."""
    target = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
    doc = inspect.getdoc(target)
    if doc and doc.strip():
        return doc
    for base in cls.__mro__[1:]:
        if name in vars(base):
            inherited = vars(base)[name]
            inherited = inherited.__func__ if isinstance(inherited, staticmethod | classmethod) else inherited
            doc = inspect.getdoc(inherited)
            if doc and doc.strip():
                return doc
    return None


def _is_member(raw) -> bool:
    """A method, property, slot or other attribute descriptor (not a plain class-level value)."""
    return (
        inspect.isfunction(raw)
        or isinstance(raw, staticmethod | classmethod | property)
        or inspect.ismemberdescriptor(raw)
        or inspect.isgetsetdescriptor(raw)
    )


def undocumented(modules: list[types.ModuleType]) -> list[str]:
    """Every public function, class and class member reachable from `modules` that has no docstring,
    as sorted qualified names ('microtensor.Tensor.foo', 'microtensor.nn.Bar (class)')."""
    missing: set[str] = set()
    seen_classes: set[int] = set()
    for module in modules:
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name, None)
            if obj is None or inspect.ismodule(obj) or not _ours(obj):
                continue
            where = f"{module.__name__}.{name}"
            if inspect.isclass(obj):
                for cls in obj.__mro__:  # its microtensor base classes too (their public members)
                    if id(cls) in seen_classes or not _ours(cls):
                        continue
                    seen_classes.add(id(cls))
                    shown = where if cls is obj else f"{cls.__module__}.{cls.__qualname__}"
                    if not (cls.__dict__.get("__doc__") or "").strip() and not cls.__name__.startswith("_"):
                        missing.add(f"{shown} (class)")
                    for member, raw in vars(cls).items():
                        if member.startswith("_") or not _is_member(raw):
                            continue
                        if not _member_doc(cls, member, raw):
                            missing.add(f"{shown}.{member}")
            elif callable(obj) and not (inspect.getdoc(obj) or "").strip():
                missing.add(where)
    return sorted(missing)


def _public_modules() -> list[types.ModuleType]:
    modules = [importlib.import_module(name) for name in NAMESPACES]
    for name in LATER_NAMESPACES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as e:
            if e.name != name:  # the namespace exists but fails to import: a real error
                raise
    return modules


def test_every_public_name_has_a_docstring():
    missing = undocumented(_public_modules())
    assert not missing, (
        f"{len(missing)} public name(s) without a docstring (say what it does, the shapes and dtypes, "
        "and give a short example where it helps):\n  " + "\n  ".join(missing)
    )


def test_the_walk_finds_what_lacks_a_docstring(tmp_path):
    # a stand-in public module: documented and undocumented functions, classes, methods, properties
    module = types.ModuleType("microtensor._doc_walk_probe")
    source = '''
def documented():
    """Has one."""

def bare():
    pass

class _Base:
    def shared(self):
        pass

    def overridden(self):
        """Documented on the base: subclasses inherit it."""

class Layer(_Base):
    """A layer."""

    __slots__ = ("tag",)

    def overridden(self):
        return 1

    def forward(self, x):
        return x

    @property
    def size(self):
        return 1

    @staticmethod
    def make():
        """Documented."""

    def _private(self):
        pass

class Bare:
    pass

import os as outside  # not ours: not walked
'''
    exec(compile(source, "probe", "exec"), module.__dict__)
    for obj in (module.Layer, module._Base, module.Bare, module.documented, module.bare):
        obj.__module__ = module.__name__
    missing = undocumented([module])
    name = module.__name__
    assert missing == sorted(
        [
            f"{name}.bare",
            f"{name}.Bare (class)",
            f"{name}.Layer.forward",
            f"{name}.Layer.size",
            f"{name}.Layer.tag",
            f"{name}._Base.shared",
        ]
    )


def test_dunder_slots_docs_reach_help():
    import microtensor as mt

    assert "recorded op" in inspect.getdoc(vars(mt.Tensor)["grad_fn"])
    assert inspect.getdoc(vars(mt.device)["type"])


# ------------------------------------------------------------------------------ the site


def need_docs_tools() -> None:
    """Skip without MkDocs + mkdocstrings; under CI (CI set) fail instead: the [dev] extra installs them."""
    absent = [m for m in ("mkdocs", "mkdocstrings") if importlib.util.find_spec(m) is None]
    if not absent:
        return
    message = f"{' and '.join(absent)} not installed (pip install -e '.[dev]' or '.[docs]')"
    if os.environ.get("CI"):
        pytest.fail(f"CI: the documentation site must be built, but {message}")
    pytest.skip(message)


def test_missing_docs_tools_skip_locally_and_fail_under_ci(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="mkdocs and mkdocstrings not installed"):
        need_docs_tools()
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI: the documentation site must be built"):
        need_docs_tools()


def test_docs_site_builds_strict(tmp_path):
    need_docs_tools()
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "load_mnist_or_digits" in api and "assert_gradients_match" in api
    for name in ("ops.elementwise.add", "ops.index.gather", "Tensor.shape", "nn.Linear", "optim.Adam"):
        assert f'id="microtensor.{name}"' in api, f"the API reference lost microtensor.{name}"
    coverage = (tmp_path / "site" / "api_coverage" / "index.html").read_text(encoding="utf-8")
    assert "torch.nn.functional" in coverage
    assert 'href="../api_coverage/"' in (tmp_path / "site" / "porting" / "index.html").read_text()


def test_the_dev_extra_installs_the_docs_tools():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras["docs"]) <= set(extras["dev"]), "make test installs [dev]: it must build the docs"

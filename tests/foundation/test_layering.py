"""The house rules of docs/development.md ("Layers"), read from the code itself.

Every import statement of the project (at module level or inside a function) is read with the
`ast` module; nothing is imported to check it. Imports point one way: recommender -> listening
-> catalog, every app -> core; each app owns its tables; selectors return objects and never
need a serializer; the pure engines import no Django; no module grows past 400 lines.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.apps import apps

REPO = Path(__file__).resolve().parents[2]
APPS = ("accounts", "catalog", "core", "listening", "recommender")
PROJECT = (*APPS, "musicrec")
# pure computation: numpy, scipy, librosa, implicit; they may use each other, nothing else here
ENGINES = (
    "catalog.audio",
    "catalog.similarity.ann",
    "catalog.similarity.embedding",
    "catalog.similarity.index",
    "recommender.engine",
)
FRAMEWORKS = ("django", "rest_framework", "drf_spectacular", "celery", "django_celery_beat")
MAX_LINES = 400
SKIPPED_FOLDERS = {".venv", "migrations", "node_modules", "var", "__pycache__", ".git"}


@dataclass(frozen=True)
class Module:
    name: str  # dotted: "recommender.services.training"
    path: Path
    imports: frozenset[str]  # every name imported: "listening.models", "listening.models.Feedback"

    def imports_any(self, *prefixes: str) -> list[str]:
        return sorted(
            name for name in self.imports for p in prefixes if name == p or name.startswith(p + ".")
        )

    def is_in(self, package: str) -> bool:
        return self.name == package or self.name.startswith(package + ".")


def python_files(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        if not SKIPPED_FOLDERS.intersection(path.relative_to(REPO).parts):
            yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> frozenset[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


@cache
def project_modules() -> dict[str, Module]:
    """Every module of the product (the apps and the project package), migrations excepted."""
    modules = {}
    for top in PROJECT:
        for path in python_files(REPO / top):
            name = _module_name(path)
            modules[name] = Module(name, path, _imports(path, name))
    return modules


def modules_in(*packages: str) -> list[Module]:
    return [m for m in project_modules().values() if any(m.is_in(p) for p in packages)]


def violations(modules: list[Module], *forbidden: str) -> dict[str, list[str]]:
    return {m.name: found for m in modules if (found := m.imports_any(*forbidden))}


def test_the_reader_sees_imports_anywhere_in_a_module(tmp_path):
    # the rules below are only as good as this reader: lazy and relative imports count too
    scratch = tmp_path / "example.py"
    scratch.write_text(
        "import os\n"
        "def f():\n"
        "    from listening.models import Feedback\n"
        "from . import text\n"
        "from ..audio import moods\n"
    )
    found = _imports(scratch, "catalog.services.example")
    assert found >= {"os", "listening.models", "listening.models.Feedback"}
    assert found >= {"catalog.services.text", "catalog.audio.moods"}


def test_catalog_knows_nothing_of_listening_or_the_recommender():
    assert violations(modules_in("catalog"), "listening", "recommender") == {}


def test_listening_knows_nothing_of_the_recommender():
    assert violations(modules_in("listening"), "recommender") == {}


def test_core_imports_no_app_and_not_the_project_package():
    assert violations(modules_in("core"), *(a for a in PROJECT if a != "core")) == {}


def test_outside_listening_nothing_imports_listening_models():
    # listening's tables are read through listening.selectors (and written through its services)
    outside = [m for m in project_modules().values() if not m.is_in("listening")]
    assert violations(outside, "listening.models") == {}


@cache
def listening_tables() -> tuple[str, ...]:
    config = apps.get_app_config("listening")
    tables = {model._meta.db_table for model in config.get_models(include_auto_created=True)}
    return tuple(sorted(tables))


def test_no_raw_listening_table_names_outside_listening():
    tables = listening_tables()
    assert "listening_usertrackstats" in tables  # the registry is what we think it is
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, tables)) + r")\b", re.IGNORECASE)
    found = {
        m.name: sorted(set(pattern.findall(m.path.read_text())))
        for m in project_modules().values()
        if not m.is_in("listening") and pattern.search(m.path.read_text())
    }
    assert found == {}


def _project_module_of(name: str) -> str | None:
    """The project module an imported name lives in (`catalog.serializers.compact` -> its file)."""
    modules = project_modules()
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _path_to_a_serializer(start: str) -> list[str] | None:
    """The chain of project imports from `start` to a serializers module, if there is one."""
    modules = project_modules()
    seen = {start}
    queue = [[start]]
    while queue:
        chain = queue.pop(0)
        for name in sorted(modules[chain[-1]].imports):
            target = _project_module_of(name)
            if target is None or target in seen:
                continue
            if target.split(".")[-1] == "serializers" or ".serializers." in f".{target}.":
                return [*chain, target]
            seen.add(target)
            queue.append([*chain, target])
    return None


def test_no_selector_needs_a_serializer():
    # selectors return objects (querysets, TrackCard, Recommendation, Shelf); the API serializers
    # and the templates render them. Followed through every project module a selector imports.
    selectors = [
        m.name
        for m in project_modules().values()
        if m.name.split(".")[-1] == "selectors" or ".selectors." in f".{m.name}."
    ]
    assert "catalog.selectors" in selectors
    chains = {name: chain for name in selectors if (chain := _path_to_a_serializer(name))}
    assert chains == {}


def test_the_pure_engines_import_no_django_and_no_app():
    found = {}
    for engine in ENGINES:
        modules = modules_in(engine)
        assert modules, engine
        for m in modules:
            bad = [
                name
                for name in m.imports_any(*FRAMEWORKS, *PROJECT)
                if not any(name == e or name.startswith(e + ".") for e in ENGINES)
            ]
            if bad:
                found[m.name] = bad
    assert found == {}


def test_no_module_is_over_400_lines():
    # the product and its tests, migrations aside; bench/ holds one-off measuring scripts
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text().splitlines())
        for top in (*PROJECT, "tests")
        for path in python_files(REPO / top)
    }
    assert len(sizes) > 50  # the walk found the tree
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}

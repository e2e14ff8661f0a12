"""The recommender's seams, read from the code itself (docs/development.md, "Layout"): it reads
listening only through listening's selectors, its engine imports no Django, and no selector
renders JSON."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LISTENING_TABLES = ("listening_usertrackstats", "listening_feedback", "listening_listeningevent",
                    "listening_importbatch")  # fmt: skip


def modules(folder: str):
    for path in sorted((REPO / folder).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_recommender_reads_listening_only_through_its_selectors():
    offenders = {
        str(path.relative_to(REPO)): sorted(
            n for n in imported(path) if n.startswith("listening.") and not
            n.startswith("listening.selectors")
        )
        for path in modules("recommender")
    }  # fmt: skip
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize("folder", ["recommender", "catalog", "core", "accounts", "musicrec"])
def test_no_raw_listening_table_names_outside_listening(folder):
    for path in modules(folder):
        text = path.read_text().lower()
        assert not [t for t in LISTENING_TABLES if t in text], path
        assert "usertrackstats._meta" not in text, path
        assert "feedback._meta" not in text, path


def test_the_engine_imports_no_django():
    for path in modules("recommender/engine"):
        assert not [n for n in imported(path) if n.split(".")[0] in
                    ("django", "rest_framework", "catalog", "listening")], path  # fmt: skip
        assert not [n for n in imported(path) if n.startswith("recommender.")
                    and not n.startswith("recommender.engine")], path  # fmt: skip


@pytest.mark.parametrize("app", ["catalog", "listening", "recommender", "core", "accounts"])
def test_no_selector_imports_a_serializer(app):
    for path in [REPO / app / "selectors.py", *(REPO / app).glob("selectors/*.py")]:
        if path.exists():
            assert not [n for n in imported(path) if "serializers" in n], path

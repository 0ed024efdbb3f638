"""Apps depend downward only (ARCHITECTURE.md, rule 6): a lower app never imports a higher one,
and apps on one level (scheduling and clinical) never import each other; they talk through
domain events and registries. Each app's tests follow the same rule; tests that cross apps
live in tests/. Read from the source with `ast`, so a lazy import inside a function counts."""

import ast
from pathlib import Path

import pytest

HMS = Path(__file__).resolve().parent.parent / "hms"
LEVELS = {
    "core": 0,
    "accounts": 1,
    "patients": 2,
    "scheduling": 3,
    "clinical": 3,
    "billing": 4,
    "inventory": 4,
    "feedback": 4,
    "assistant": 5,
    "fhir": 5,
    "reports": 5,
    "workflows": 5,
}


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "hms" and len(parts) > 1 and parts[1] in LEVELS:
                found.add(parts[1])
    return found


def upward_imports(root: Path = HMS) -> list[str]:
    problems = []
    for path in sorted(root.glob("*/**/*.py")):
        app = path.relative_to(root).parts[0]
        if app not in LEVELS:
            continue
        for other in imported_apps(path):
            if other != app and LEVELS[other] >= LEVELS[app]:
                problems.append(f"{path.relative_to(root.parent)} imports hms.{other}")
    return problems


def test_every_app_is_placed_on_a_level():
    apps = {p.name for p in HMS.iterdir() if (p / "apps.py").exists()}
    assert apps <= set(LEVELS), apps - set(LEVELS)


def test_no_app_imports_a_higher_app_or_a_neighbour():
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("app", "source", "bad"),
    [
        ("core", "from hms.patients.models import Patient\n", True),
        ("scheduling", "def f():\n    import hms.clinical.services\n", True),
        ("clinical", "from hms.patients import services\n", False),
    ],
)
def test_the_check_catches_an_upward_or_sideways_import(tmp_path, app, source, bad):
    (tmp_path / app / "sub").mkdir(parents=True)
    (tmp_path / app / "sub" / "module.py").write_text(source)
    assert bool(upward_imports(tmp_path)) is bad

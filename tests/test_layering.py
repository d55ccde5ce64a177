"""The floors of the code (DESIGN §1): core < channels < orders < sync. A floor imports only from
floors below it, so channels and orders never import the sync engine, not even inside a
function; and the sync engine hides no import inside a function without a comment saying why
(a hidden import is how an import circle used to go unnoticed); no other app does either."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = {path.parent.name for path in REPO.glob("*/__init__.py") if path.parent.name != "tests"}


def imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, imported module, inside a function?) of every absolute import of the file."""
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.lineno, child.module, in_function))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def modules_of(app: str) -> list[Path]:
    return sorted((REPO / app).rglob("*.py"))


def test_the_floors_below_the_sync_engine_never_import_it():
    upward = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for app in ("core", "channels", "orders")
        for path in modules_of(app)
        for line, module, _local in imports(path)
        if module == "sync" or module.startswith("sync.")
    ]
    assert upward == []


def explained(lines: list[str], line: int) -> bool:
    """A comment on the import's line, or above the block of imports it belongs to."""
    if "#" in lines[line - 1]:
        return True
    above = line - 2
    while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def test_no_app_hides_an_import_inside_a_function_without_saying_why():
    unexplained = []
    for app in sorted(PROJECT - {"allegro_sandbox"}):
        for path in modules_of(app):
            if "migrations" in path.parts:
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for line, module, local in imports(path):
                if local and module.split(".")[0] in PROJECT and not explained(lines, line):
                    unexplained.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert unexplained == []


def test_every_module_of_views_or_forms_is_forbidden_to_domain_code():
    """`*.views` and `*.forms` are caught by their names; a `views_<thing>.py` or
    `forms_<thing>.py` has to be listed in the import contract by its own."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["name"] == "Domain code never imports views, forms or template tags"
    ]
    web = sorted(
        f"{app}.{path.stem}"
        for app in sorted(PROJECT - {"allegro_sandbox"})
        for path in (REPO / app).glob("*.py")
        if path.stem.startswith(("views_", "forms_"))
    )
    assert web and [m for m in web if m not in contract["forbidden_modules"]] == []


# Fields with one writer: (model, field) → the module that alone writes it.
OWNED_FIELDS = {("SalesChannel", "import_status"): "channels/services/channels.py"}
QUERYSET_WRITES = {"update", "create", "update_or_create", "get_or_create", "bulk_update"}


def field_writes(path: Path, model: str, field: str) -> list[int]:
    """Lines of the file that write ``field`` (or its ``_id``): an assignment to
    ``x.<field>``, ``<field>=`` given to a queryset write or to the model's constructor,
    ``setattr(x, "<field>", …)``, or ``"<field>"`` among a save's update_fields."""
    names = {field, f"{field}_id"}
    found: list[int] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute) and t.attr in names for t in targets):
            found.append(node.lineno)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called in QUERYSET_WRITES | {model} and {k.arg for k in node.keywords} & names:
            found.append(node.lineno)
        if called == "setattr" and len(node.args) > 1:
            name = node.args[1]
            if isinstance(name, ast.Constant) and name.value in names:
                found.append(node.lineno)
        for keyword in node.keywords:
            if keyword.arg == "update_fields" and any(
                isinstance(c, ast.Constant) and c.value in names for c in ast.walk(keyword.value)
            ):
                found.append(node.lineno)
    return found


def test_an_owned_field_is_written_only_by_its_owner():
    strays = [
        f"{path.relative_to(REPO)}:{line} writes {model}.{field}"
        for (model, field), owner in OWNED_FIELDS.items()
        for app in sorted(PROJECT - {"allegro_sandbox"})
        for path in modules_of(app)
        if "migrations" not in path.parts and str(path.relative_to(REPO)) != owner
        for line in field_writes(path, model, field)
    ]
    assert strays == []
    # The owner's own write is seen, so the search would see another one.
    assert field_writes(REPO / "channels/services/channels.py", "SalesChannel", "import_status")

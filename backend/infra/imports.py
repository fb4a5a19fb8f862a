"""Which third-party packages a Lambda handler's code can import, read from the source.

A function gets a dependency layer (Pillow) exactly when the modules its handler can reach
through ``import`` statements of the ``backend`` package include that package. The walk is
static and conservative: every import counts, module level or inside a function (a lazy import
still runs in Lambda), except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from backend.infra.lambda_source import BACKEND_DIR

_ROOT = BACKEND_DIR.parent  # the repository: source modules are followed, others are leaves


def _module_file(module: str, root: Path) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, root: Path) -> set[str]:
    """Absolute names of everything ``module`` imports (``from a import b`` gives ``a`` and,
    when it is a module, ``a.b``)."""
    path = _module_file(module, root)
    if path is None:
        return set()
    tree = ast.parse(path.read_text("utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for stmt in node.orelse:
                visit(stmt)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@cache
def reachable(module: str, root: Path = _ROOT) -> frozenset[str]:
    """Every module name ``module`` can import, directly or through the modules under
    ``root`` (parent packages included: importing ``a.b`` runs ``a/__init__.py``)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in seen:
                continue
            seen.add(prefix)
            todo.extend(_imports(prefix, root))  # nothing for modules outside ``root``
    return frozenset(seen)


def handler_module(handler: str) -> str:
    """``backend.workflows.steps.validate.handler`` -> ``backend.workflows.steps.validate``."""
    return handler.rsplit(".", 1)[0]


def imports_package(handler: str, package: str, root: Path = _ROOT) -> bool:
    """Whether the code of Lambda ``handler`` can import ``package`` (a top-level name)."""
    return package in {name.split(".", 1)[0] for name in reachable(handler_module(handler), root)}

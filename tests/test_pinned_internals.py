"""Canaries for an upgrade: what `playersim.server.limits` (uvicorn's h11 protocol, extended) and
`playersim.contrib.locust` (Locust's users and runners) reach into is still there, and the
installed uvicorn and Locust are inside the pins pyproject.toml declares.

Each module lists what it relies on as data, `_REACHES_INTO`; the checks here read that table
(from the source, without importing the module: its import would fail at the first internal
missing, without saying which) and fail naming the library, its version, the internal and the
playersim module that relies on it. Locust is only ever imported in a process of its own: it
patches the standard library for gevent when it is imported.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import inspect
import itertools
import json
import operator
import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LIMITS = "playersim.server.limits"
LOCUST = "playersim.contrib.locust"
HOWS = {"imports", "subclasses", "overrides", "calls", "reads", "sets"}
# Libraries whose internals are reached into: their pins must stop at the last release tested.
CAPPED = {"uvicorn", "locust"}

Entry = tuple[str, str, str]


def reaches_into(module: str) -> tuple[Entry, ...]:
    """`module`'s `_REACHES_INTO` table, read from its source: (where, name, how) entries."""
    source = source_of(module)
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "_REACHES_INTO"
            and node.value is not None
        ):
            table = ast.literal_eval(node.value)
            break
    else:
        raise AssertionError(f"{source} has no _REACHES_INTO table")
    entries: list[Entry] = []
    for entry in table:
        assert isinstance(entry, tuple), f"{source}: {entry!r} is not a tuple"
        assert len(entry) == 3, f"{source}: {entry!r} is not (where, name, how)"
        where, name, how = entry
        assert how in HOWS, f"{source}: {entry!r}: how is one of {sorted(HOWS)}"
        assert re.fullmatch(r"\w+(\((\w+(, \w+)*)?\))?", name), f"{source}: {entry!r}: name"
        entries.append((where, name, how))
    return tuple(entries)


def problems(entries: Sequence[Sequence[str]], module: str) -> list[str]:
    """What of `entries` (`module`'s table) the installed libraries no longer have, each said as
    the one upgrading needs it. Self-contained, its imports inside: the Locust check runs its
    source in a process of its own."""
    import ast
    import importlib
    import importlib.metadata
    import inspect
    import sys

    # What the methods of each class of a module set on an instance (`self.conn = ...`), by
    # module file and class name: each module parsed once.
    assigned: dict[str, dict[str, set[str]]] = {}

    def assigned_in(cls: type) -> set[str]:
        try:
            path = inspect.getsourcefile(sys.modules[cls.__module__]) or ""
        except (TypeError, KeyError):  # built in C, or made on the fly
            return set()
        if path not in assigned:
            assigned[path] = {}
            try:
                with open(path, encoding="utf-8") as file:
                    tree = ast.parse(file.read())
            except (OSError, SyntaxError):
                tree = ast.Module(body=[], type_ignores=[])
            for klass in ast.walk(tree):
                if isinstance(klass, ast.ClassDef):
                    assigned[path].setdefault(klass.name, set()).update(
                        node.attr
                        for node in ast.walk(klass)
                        if isinstance(node, ast.Attribute)
                        and isinstance(node.ctx, ast.Store)
                        and isinstance(node.value, ast.Name)
                        and node.value.id == "self"
                    )
        return assigned[path].get(cls.__name__, set())

    def has(owner: object, name: str) -> bool:
        if isinstance(owner, dict):
            return name in owner
        if hasattr(owner, name):
            return True
        return isinstance(owner, type) and any(
            name in vars(cls).get("__annotations__", {}) or name in assigned_in(cls)
            for cls in owner.__mro__
        )

    def resolve(where: str) -> tuple[object, str | None]:
        """The object `where` names (a trailing `()`: what calling it returns), or None and the
        part of it that is gone."""
        parts = where.removesuffix("()").split(".")
        owner: object = None
        for end in range(len(parts), 0, -1):
            dotted = ".".join(parts[:end])
            try:
                owner = importlib.import_module(dotted)
                break
            except ModuleNotFoundError as exc:
                if exc.name is None or not (dotted + ".").startswith(exc.name + "."):
                    raise  # a module of its own is missing: not what this table names
        else:
            return None, parts[0]
        for at in range(end, len(parts)):
            if not hasattr(owner, parts[at]):
                return None, ".".join(parts[: at + 1])
            owner = getattr(owner, parts[at])
        if where.endswith("()"):
            assert callable(owner)
            owner = owner()
        return owner, None

    found: list[str] = []
    gone_already: set[str] = set()
    for where, entry, how in entries:
        library = where.split(".")[0]
        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            version = "(not installed)"
        advice = "check the release notes and update the pin in pyproject.toml"
        name, call, listed = entry.partition("(")
        params = [param.strip() for param in listed.rstrip(")").split(",") if param.strip()]
        owner, gone = resolve(where)
        last = where.removesuffix("()").rsplit(".", 1)[-1]
        if gone is not None:
            if gone not in gone_already:  # said once, not for each name it had
                gone_already.add(gone)
                found.append(
                    f"{library} {version} no longer has {gone}, which {module} needs (it {how} "
                    f"{last}.{name}): {advice}"
                )
            continue
        shown = f"{where if inspect.ismodule(owner) else last}.{name}"
        if not has(owner, name):
            gone_already.add(f"{where}.{name}")
            found.append(
                f"{library} {version} no longer has {shown}, which {module} {how}: {advice}"
            )
            continue
        if not call:
            continue
        function = getattr(owner, name)
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            found.append(f"{library} {version}: {shown} is no longer a method: {advice}")
            continue
        empty = inspect.Parameter.empty
        got = [  # as written, less annotations and defaults: (data), (*args, **kwargs)
            str(param.replace(annotation=empty, default=empty))
            for param in signature.parameters.values()
        ]
        if isinstance(owner, type) and inspect.isfunction(inspect.getattr_static(owner, name)):
            got = got[1:]  # self
        names = [param.lstrip("*") for param in got]
        if how == "overrides" and names != params:
            found.append(
                f"{library} {version} changed {shown} to ({', '.join(got)}), which {module} "
                f"overrides as ({', '.join(params)}): {advice}"
            )
        elif how != "overrides" and not set(params) <= set(names):
            found.append(
                f"{library} {version} changed {shown} to ({', '.join(got)}), which {module} "
                f"{how} with {', '.join(param for param in params if param not in names)}: "
                f"{advice}"
            )
    return found


def problems_in_a_process(entries: Sequence[Entry], module: str, cwd: Path) -> list[str]:
    """`problems`, run in a fresh interpreter (for Locust, which must not be imported here)."""
    code = "\n".join(
        [
            "from __future__ import annotations",
            "import json, sys",
            textwrap.dedent(inspect.getsource(problems)),
            "print(json.dumps(problems(json.loads(sys.argv[1]), sys.argv[2])))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(entries), module],
        capture_output=True,
        text=True,
        timeout=120,  # a hang, not slowness: it takes a second
        cwd=cwd,  # not the project's: Locust reads a locust.conf or pyproject.toml from here
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: list[str] = json.loads(result.stdout.splitlines()[-1])
    return found


def installed(library: str) -> bool:
    return importlib.util.find_spec(library) is not None


# --- what the modules reach into is still there ---------------------------------------------


@pytest.mark.skipif(not installed("uvicorn"), reason="needs playersim[server]")
def test_uvicorn_still_has_what_the_server_limits_reach_into() -> None:
    found = problems(reaches_into(LIMITS), LIMITS)
    assert not found, "\n".join(found)


@pytest.mark.skipif(not installed("locust"), reason="needs playersim[locust]")
def test_locust_still_has_what_the_locust_users_reach_into(tmp_path: Path) -> None:
    found = problems_in_a_process(reaches_into(LOCUST), LOCUST, tmp_path)
    assert not found, "\n".join(found)


@pytest.mark.skipif(not installed("uvicorn"), reason="needs playersim[server]")
def test_uvicorn_has_none_of_the_names_the_server_limits_add() -> None:
    """Our protocol's own attributes and methods are not uvicorn's: a release that gives its
    protocol one of the same name would have it overwritten, or call ours by mistake."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    version = importlib.metadata.version("uvicorn")
    theirs = instance_names(H11Protocol)
    ours = limits_own_names() | limits_instance_names()
    clashes = sorted(name for name in ours if hasattr(H11Protocol, name) or name in theirs)
    assert not clashes, "\n".join(
        f"uvicorn {version} has H11Protocol.{name} too, which playersim.server.limits defines "
        f"as its own: rename ours, or, if it is meant to override uvicorn's, list it in its "
        f"_REACHES_INTO"
        for name in clashes
    )


# --- the tables say what the code does --------------------------------------------------------


def test_each_override_listed_is_there_with_those_parameters() -> None:
    for module in (LIMITS, LOCUST):
        methods = defined_methods(module)
        for where, entry, how in reaches_into(module):
            if how != "overrides":
                continue
            name, _, listed = entry.partition("(")
            params = [param.strip() for param in listed.rstrip(")").split(",") if param.strip()]
            assert name in methods, f"{module} lists {where}.{name} as overridden, but has none"
            defined = " or ".join(f"({', '.join(each)})" for each in methods[name])
            assert params in methods[name], (
                f"{module} overrides {name} as {defined}, not as its table says "
                f"({', '.join(params)})"
            )


def test_the_server_limits_table_lists_all_it_uses_of_uvicorns_protocol() -> None:
    """Every attribute of uvicorn's protocol, of its request cycle, server state and h11
    connection, that `limits` uses is in its table: a name it starts using is checked on
    upgrades too. (A method it overrides and does not list is a clash, above.)"""
    protocol = "uvicorn.protocols.http.h11_impl.H11Protocol"
    # What the protocol's attributes are, for the names used through them.
    through = {
        "cycle": "uvicorn.protocols.http.h11_impl.RequestResponseCycle",
        "server_state": "uvicorn.server.ServerState",
        "conn": "h11.Connection",
    }
    table = {(where, entry.partition("(")[0]) for where, entry, _ in reaches_into(LIMITS)}
    own = limits_own_names() | limits_instance_names()
    unlisted = set()
    for node in ast.walk(limits_class()):
        if not isinstance(node, ast.Attribute):
            continue
        if isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr not in own:
            unlisted.add((protocol, node.attr))
        inner = node.value
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "self"
            and inner.attr in through
        ):
            unlisted.add((through[inner.attr], node.attr))
    missing = sorted(unlisted - table)
    assert not missing, "\n".join(
        f"playersim.server.limits uses {where}.{name}, which its _REACHES_INTO does not list"
        for where, name in missing
    )


# --- the pins -----------------------------------------------------------------------------------


def test_installed_releases_are_inside_the_pins() -> None:
    """An upgrade past a pin (`pip install -U uvicorn`) fails here even if nothing it reaches
    into is gone: the pins are the releases the server and the Locust users are tested on."""
    reached = {
        where.split(".")[0]: module
        for module in (LIMITS, LOCUST)
        for where, _, _ in reaches_into(module)
    }
    assert set(reached) >= CAPPED
    pins = declared_pins()
    found = []
    for library, module in sorted(reached.items()):
        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            continue  # its extra is not installed: nothing of it is used
        if library not in pins:
            found.append(f"pyproject.toml has no pin on {library}, which {module} reaches into")
            continue
        for spec in pins[library]:
            if not inside(version, spec):
                found.append(
                    f"{library} {version} is installed, outside the pin {library}{spec} in "
                    f"pyproject.toml ({module} reaches into its internals): run "
                    f"tests/test_pinned_internals.py on it, then move the pin, or install a "
                    f"release inside it"
                )
            bounded = any(op in {"<", "<=", "==", "~="} for op, _ in map(clause, spec.split(",")))
            if library in CAPPED and not bounded:
                found.append(
                    f"pyproject.toml pins {library}{spec}, with no upper bound: {module} reaches "
                    f"into its internals, so its pin ends at the last release tested"
                )
    assert not found, "\n".join(found)


# --- helpers --------------------------------------------------------------------------------


def declared_pins() -> dict[str, list[str]]:
    """The version specifiers pyproject.toml gives each requirement (its dependencies and its
    extras), by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = itertools.chain(
        project.get("dependencies", []), *project.get("optional-dependencies", {}).values()
    )
    pins: dict[str, list[str]] = {}
    for requirement in requirements:
        match = re.fullmatch(r"\s*([A-Za-z0-9._-]+)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?", requirement)
        assert match, f"pyproject.toml: cannot read the requirement {requirement!r}"
        name = re.sub(r"[-_.]+", "-", match[1]).lower()
        pins.setdefault(name, []).append(match[3].replace(" ", ""))
    return pins


def clause(text: str) -> tuple[str, str]:
    """`>=0.54` as (">=", "0.54")."""
    match = re.fullmatch(r"(~=|===|==|!=|<=|>=|<|>)?(.*)", text.strip())
    assert match
    return match[1] or "", match[2]


def inside(version: str, spec: str) -> bool:
    """Whether `version` meets `spec` (">=0.54,<0.56"): by `packaging` where it is installed,
    else by comparing release numbers (enough for the pins here: no pre-releases, no ~=)."""
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        pass
    else:
        return SpecifierSet(spec).contains(version, prereleases=True)

    def release(text: str) -> tuple[int, ...]:
        numbers = [int(part) for part in re.findall(r"\d+", text.partition("+")[0])[:3]]
        return (*numbers, *[0] * (3 - len(numbers)))  # 0.54 is 0.54.0

    compare = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le}
    compare |= {">": operator.gt, ">=": operator.ge, "~=": operator.ge}
    mine = release(version)
    for op, bound in (clause(part) for part in spec.split(",") if part.strip()):
        if op and not compare[op](mine, release(bound)):
            return False
    return True


def source_of(module: str) -> Path:
    """The source file of a playersim module (found, not imported)."""
    spec = importlib.util.find_spec("playersim")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    package = Path(next(iter(spec.submodule_search_locations)))
    return package.joinpath(*module.split(".")[1:]).with_suffix(".py")


def limits_class() -> ast.ClassDef:
    source = source_of(LIMITS)
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == "_LimitedH11Protocol":
            return node
    raise AssertionError(f"{source} has no _LimitedH11Protocol")


def limits_own_names() -> set[str]:
    """What `limits`' protocol class defines of its own: its methods that are not overrides
    (as its table says), and its class attributes."""
    overridden = {
        entry.partition("(")[0] for _, entry, how in reaches_into(LIMITS) if how == "overrides"
    }
    names = set()
    for node in limits_class().body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in overridden:
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def limits_instance_names() -> set[str]:
    """The attributes `limits`' protocol gives each connection in its own `__init__`."""
    for node in limits_class().body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            return set_on_self(node)
    return set()


def instance_names(cls: type) -> set[str]:
    """The attributes the methods of `cls` and its bases set on an instance."""
    names: set[str] = set()
    for base in cls.__mro__:
        try:
            names |= set_on_self(ast.parse(textwrap.dedent(inspect.getsource(base))))
        except (OSError, TypeError):  # object, and any base built in C
            continue
    return names


def set_on_self(tree: ast.AST) -> set[str]:
    """The attributes code sets on `self` (`self.conn = ...`)."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def defined_methods(module: str) -> dict[str, list[list[str]]]:
    """The methods `module`'s classes define, by name, with their parameters after self."""
    source = source_of(module)
    methods: dict[str, list[list[str]]] = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    arguments = [*item.args.posonlyargs, *item.args.args, *item.args.kwonlyargs]
                    params = [argument.arg for argument in arguments[1:]]
                    methods.setdefault(item.name, []).append(params)
    return methods

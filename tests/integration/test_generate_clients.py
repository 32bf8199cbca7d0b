"""Client code generation: Dart for supabase_flutter (golden files) and Python for supabase-py (mypy --strict).

Every template and one hostile model (enum values and labels with quotes, backslashes, `$`, unicode, triple
quotes, `*/`, line breaks; field and entity names that collide with Dart and Python names) go through both
generators. The Python package is type-checked with `mypy --strict` against the installed `supabase`, imported,
and driven through a real `supabase.Client` whose HTTP goes to a recording transport. The Dart files are compared
with the committed goldens (`STUDIO_UPDATE_GOLDENS=1` rewrites them), their string literals are decoded with a
small Dart lexer, and when a Flutter SDK is on PATH the package is analysed for real.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import dataclasses
import importlib
import inspect
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import realtime
import supabase

from studio.core.generate.dart import dart_files
from studio.core.generate.python import package_name, python_files
from studio.core.generate.tables import table_shapes
from studio.core.model import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, validate
from studio.core.model.templates import TEMPLATES

GOLDEN = Path(__file__).parent / "golden" / "dart"
DART_LIB = "clients/dart/lib/"
PROJECT_URL = "https://abcdefghijklmnopqrst.supabase.co"

HOSTILE_VALUES = (
    "it's", 'say "hi"', "back\\slash", "$dollar", "${interp}", "tab\there", "line\nbreak", "crlf\r\nx",
    "para\u2028graph", "ünïcödé", "日本語", "emoji 🎉", '"""', "'''", "*/", "/*", "// not a comment", "a b", "a-b",
    "A B", "123", "class", "None", "values", "name", "index", "value", "_private", "__dunder__", "\\u{41}", "{}",
)
HOSTILE_LABEL = 'Label """ \'\'\' */ /* \\ ${x} $y\nsecond line\r\nthird\u2028fourth'


def hostile_model() -> AppModel:
    """A valid model whose values, labels and names try to break the generated code."""
    t = FieldType
    return AppModel(
        name='Robert\'); DROP TABLE "x"; -- */ """ ${app}\n*/',
        entities=(
            Entity("lists", access=Access.PRIVATE, label=HOSTILE_LABEL, fields=(
                Field("kind", t.ENUM, values=HOSTILE_VALUES, default="it's", label=HOSTILE_LABEL),
                Field("str", t.TEXT, label=HOSTILE_LABEL), Field("float", t.DECIMAL), Field("get", t.INTEGER),
                Field("set", t.BOOLEAN), Field("hash_code", t.TEXT), Field("to_json", t.TEXT),
                Field("from_json", t.TEXT), Field("copy_with", t.JSON), Field("is_empty", t.BOOLEAN),
                Field("value", t.TEXT), Field("values", t.TEXT_ARRAY), Field("name", t.TEXT, required=True),
                Field("index", t.INTEGER), Field("self", t.TEXT), Field("cls", t.TEXT), Field("data", t.TEXT),
                Field("list", t.TEXT), Field("dict", t.JSON, required=True), Field("type", t.TEXT),
                Field("match", t.TEXT), Field("notes", t.TEXT), Field("clear_notes", t.BOOLEAN),
                Field("a_1", t.TEXT), Field("a1", t.TEXT), Field("time", t.DATE, default="now"),
                Field("date", t.TIMESTAMP), Field("builtins", t.TEXT), Field("runtime_type", t.TEXT),
                Field("int", t.INTEGER), Field("bool", t.BOOLEAN), Field("identical", t.TEXT), Field("json", t.TEXT),
            )),
            Entity("strings", access=Access.PUBLIC_READ_OWNER_WRITE, label="Strings", fields=(
                Field("time", t.ENUM, values=("a", "b"), required=True, default="a"),
            )),
            Entity("date_times", access=Access.PUBLIC_READ_ADMIN_WRITE, fields=(
                Field("insert", t.ENUM, values=("x", "X", "x!"), label="*/ '''"),
            )),
            Entity("exceptions", access=Access.CREATE_ONLY_ADMIN_READ, fields=(
                Field("message", t.LONG_TEXT, required=True),
            )),
        ),
        links=(
            Link("tags", "lists", "strings", LinkKind.MANY_TO_MANY),
            Link("best", "strings", "lists", LinkKind.ONE_TO_ONE),
        ),
    )


MODELS: dict[str, Callable[[], AppModel]] = {t.name: t.build for t in TEMPLATES} | {"hostile": hostile_model}
URLS: dict[str, str | None] = {"hostile": PROJECT_URL}


def model_of(name: str) -> AppModel:
    model = MODELS[name]()
    assert validate(model) == []
    return model


def test_hostile_model_is_valid() -> None:
    assert validate(hostile_model()) == []


# --- Dart -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_dart_matches_goldens(name: str) -> None:
    files = dart_files(model_of(name), project_url=URLS.get(name))
    assert all(path.startswith(DART_LIB) for path in files)
    generated = {path.removeprefix(DART_LIB): text for path, text in files.items()}
    folder = GOLDEN / name
    if os.environ.get("STUDIO_UPDATE_GOLDENS") == "1":
        shutil.rmtree(folder, ignore_errors=True)
        for relative, text in generated.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text, encoding="utf-8", newline="\n")
    committed = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*.dart")}
    assert sorted(generated) == sorted(committed), "files differ from the goldens (STUDIO_UPDATE_GOLDENS=1 rewrites)"
    for relative, text in generated.items():
        assert text == committed[relative], f"{relative} differs from its golden (STUDIO_UPDATE_GOLDENS=1 rewrites)"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_dart_files_cover_every_table(name: str) -> None:
    model = model_of(name)
    files = dart_files(model)
    expected = {f"{DART_LIB}supabase_config.dart"}
    for shape in table_shapes(model):
        expected |= {f"{DART_LIB}models/{shape.name}.dart", f"{DART_LIB}services/{shape.name}_service.dart"}
    assert set(files) == expected
    assert dart_files(model) == files, "the same model must give the same files"


_DART_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
#: The only literals the generator interpolates into: both built from fixed names, never from model values.
_KNOWN_INTERPOLATIONS = {"$year-$month-$day", "$schemaName:$tableName:$_channels"}


def dart_string_literals(source: str) -> list[str]:
    """Every string literal of `source`, decoded; a literal that interpolates is returned undecoded.

    A small lexer for the Dart the generator writes: `//` comments, single- and double-quoted strings with
    escapes. It fails on an unterminated literal or one that spans lines, which is what a bad escape causes.
    """
    literals = []
    i = 0
    while i < len(source):
        char = source[i]
        if source.startswith("//", i):
            i = source.index("\n", i)
        elif char in "'\"":
            quote, j, out, interpolates = char, i + 1, [], False
            while True:
                c = source[j]
                assert c not in "\r\n", f"string literal spans lines: {source[i:j + 1]!r}"
                if c == quote:
                    break
                if c == "\\":
                    e = source[j + 1]
                    if e == "u":
                        if source[j + 2] == "{":
                            end = source.index("}", j)
                            out.append(chr(int(source[j + 3:end], 16)))
                            j = end + 1
                        else:
                            out.append(chr(int(source[j + 2:j + 6], 16)))
                            j += 6
                        continue
                    out.append(_DART_ESCAPES.get(e, e))
                    j += 2
                    continue
                if c == "$":
                    interpolates = True
                out.append(c)
                j += 1
            text = "".join(out)
            if interpolates:
                assert source[i + 1:j] in _KNOWN_INTERPOLATIONS, f"unexpected interpolation: {source[i:j + 1]!r}"
            literals.append(text)
            i = j + 1
        else:
            i += 1
    return literals


def test_dart_escapes_hostile_values() -> None:
    model = model_of("hostile")
    files = dart_files(model, project_url=PROJECT_URL)
    lists_model = files[f"{DART_LIB}models/lists.dart"]
    literals = set(dart_string_literals(lists_model))
    assert set(HOSTILE_VALUES) <= literals
    for path, text in files.items():
        dart_string_literals(text)  # every literal of every file is well formed
        for line in text.splitlines():
            if "DROP TABLE" in line or "second line" in line or "*/ '''" in line:
                assert line.lstrip().startswith("//"), f"{path}: builder text outside a comment: {line!r}"
        assert "\u2028" not in text and "\r" not in text


def test_dart_names_avoid_collisions() -> None:
    files = dart_files(model_of("hostile"))
    lists_model = files[f"{DART_LIB}models/lists.dart"]
    assert "class ListRow {" in lists_model  # `List` would hide dart:core's List<String>
    assert "final String? toJsonValue;" in lists_model and "Map<String, dynamic> toJson()" in lists_model
    assert "final bool? clearNotes;" in lists_model and "final bool clearNotes2;" in lists_model
    assert "final int? intValue;" in lists_model and "final String? identicalValue;" in lists_model
    assert "enum ListKind {" in lists_model and "  classValue('class')," in lists_model
    assert "  valuesValue('values')," in lists_model and "  aB3('A B')," in lists_model
    assert "class StringRow {" in files[f"{DART_LIB}models/strings.dart"]
    date_times = files[f"{DART_LIB}models/date_times.dart"]
    assert "class DateTimeRow {" in date_times and "enum DateTimeInsert2 {" in date_times
    assert "class DateTimeInsert {" in date_times
    exceptions = files[f"{DART_LIB}services/exceptions_service.dart"]
    assert "Future<void> create(ExceptionInsert values)" in exceptions  # contact-form tables: no read-back


def test_dart_config_takes_no_key() -> None:
    assert list(inspect.signature(dart_files).parameters) == ["model", "project_url"]
    config = dart_files(model_of("todo"))[f"{DART_LIB}supabase_config.dart"]
    assert "String.fromEnvironment('SUPABASE_PUBLISHABLE_KEY')" in config
    assert "service_role" in config
    assert "Supabase.initialize(url: supabaseUrl, anonKey: supabasePublishableKey)" in config
    linked = dart_files(model_of("todo"), project_url=PROJECT_URL + "/")[f"{DART_LIB}supabase_config.dart"]
    assert f"defaultValue: '{PROJECT_URL}'," in linked
    for bad in ("ftp://x.supabase.co", "https://user:pass@x.supabase.co", "https://x.supabase.co?key=1", "x"):
        with pytest.raises(ValueError):
            dart_files(model_of("todo"), project_url=bad)
        with pytest.raises(ValueError):
            python_files(model_of("todo"), project_url=bad)


@pytest.mark.skipif(shutil.which("flutter") is None, reason="no Flutter SDK on PATH (supabase_flutter needs one)")
@pytest.mark.parametrize("name", ["todo", "team", "hostile"])
def test_dart_analyze(name: str, tmp_path: Path) -> None:
    files = dart_files(model_of(name), project_url=URLS.get(name))
    for path, text in files.items():
        target = tmp_path / path.removeprefix("clients/dart/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (tmp_path / "pubspec.yaml").write_text(
        "name: generated_client\npublish_to: none\nenvironment:\n  sdk: '>=3.0.0 <4.0.0'\n"
        "dependencies:\n  flutter:\n    sdk: flutter\n  supabase_flutter: ^2.5.0\n", encoding="utf-8")
    got = subprocess.run(["flutter", "pub", "get"], cwd=tmp_path, capture_output=True, text=True, timeout=240,
                         check=False)
    if got.returncode != 0:
        pytest.skip(f"flutter pub get failed (no network?): {got.stderr[-500:]}")
    analyzed = subprocess.run(["dart", "analyze", "lib"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=240, check=False)
    assert analyzed.returncode == 0, analyzed.stdout + analyzed.stderr


# --- Python -----------------------------------------------------------------------------------------------


def write_python(name: str, root: Path) -> Path:
    """Write the model's Python client under `root`; returns the folder holding the package."""
    for path, text in python_files(model_of(name), project_url=URLS.get(name)).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root / "clients" / "python"


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_python_passes_mypy_strict(name: str, tmp_path: Path, mypy_cache: Path) -> None:
    folder = write_python(name, tmp_path)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")  # not the repository's settings
    package = package_name(model_of(name))
    env = {key: value for key, value in os.environ.items() if key not in ("MYPYPATH", "MYPY_CONFIG_FILE_DIR")}
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(config), "--cache-dir", str(mypy_cache),
         "--python-version", "3.11", package],
        cwd=folder, capture_output=True, text=True, timeout=280, check=False, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success" in checked.stdout


def test_python_passes_ruff(tmp_path: Path) -> None:
    """Clean by the project's lint rules (long lines aside: labels in docstrings are as long as the builder wrote)."""
    for name in MODELS:
        checked = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--target-version", "py311",
             "--line-length", "120", "--select", "E,F,W,B,UP,SIM,RUF,I", "--ignore", "E501", "--output-format",
             "concise", "."],
            cwd=write_python(name, tmp_path / name), capture_output=True, text=True, timeout=120, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("name", sorted(MODELS))
def test_python_files_parse_and_are_deterministic(name: str) -> None:
    model = model_of(name)
    files = python_files(model, project_url=URLS.get(name))
    assert python_files(model, project_url=URLS.get(name)) == files
    root = f"clients/python/{package_name(model)}/"
    assert all(path.startswith(root) for path in files)
    for shape in table_shapes(model):
        assert f"{root}models/{shape.name}.py" in files and f"{root}services/{shape.name}.py" in files
    for path, text in files.items():
        if path.endswith(".py"):
            ast.parse(text, filename=path)
            assert "\u2028" not in text and "\r" not in text


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Writes a model's Python client and imports it; yields `load(name) -> package`, unloaded afterwards."""
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        folder = write_python(name, tmp_path / name)
        monkeypatch.syspath_prepend(str(folder))
        package = package_name(model_of(name))
        loaded.append(package)
        return importlib.import_module(package)

    yield load
    for module in [m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in loaded)]:
        del sys.modules[module]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_python_inserts_serialize_to_column_names(name: str, generated: Callable[[str], ModuleType]) -> None:
    model = model_of(name)
    package = generated(name)
    for shape in table_shapes(model):
        models = importlib.import_module(f"{package.__name__}.models.{shape.name}")
        classes = [c for c in vars(models).values() if isinstance(c, type) and c.__module__ == models.__name__]
        insert = next(c for c in classes if c.__name__.endswith("Insert") and hasattr(c, "to_json"))
        fields = {f.name: f for f in insert.__dataclass_fields__.values()}
        required = {name: sample_value(models, shape.name, name) for name, f in fields.items()
                    if f.default is dataclasses.MISSING}
        minimal = insert(**required).to_json()
        assert set(minimal) == {c.name for c in shape.columns if not c.insert_optional}
        everything = insert(**{name: sample_value(models, shape.name, name) for name in fields}).to_json()
        assert list(everything) != [] and set(everything) == {c.name for c in shape.columns}
        json.dumps(everything)  # plain JSON, ready for PostgREST


def sample_value(models: ModuleType, table: str, attribute: str) -> Any:
    """A value of the right type for `attribute` of the table's row class, read from its annotations."""
    row = next(c for c in vars(models).values() if isinstance(c, type) and hasattr(c, "from_json")
               and c.__module__ == models.__name__ and not c.__name__.endswith(("Insert", "Update")))
    annotation = row.__annotations__[attribute].split(" | ")[0]
    samples: dict[str, Any] = {
        "str": "x", "int": 3, "float": 2.5, "bool": True, "list[str]": ["a", "b"], "_s.JSON": {"k": [1, None]},
        "_dt.date": __import__("datetime").date(2024, 5, 1),
        "_dt.datetime": __import__("datetime").datetime(2024, 5, 1, 12, tzinfo=__import__("datetime").UTC),
    }
    if annotation in samples:
        return samples[annotation]
    return next(iter(getattr(models, annotation)))  # an enum: its first member


def test_python_hostile_enum_values_survive(generated: Callable[[str], ModuleType]) -> None:
    package = generated("hostile")
    lists = importlib.import_module(f"{package.__name__}.models.lists")
    assert [member.value for member in lists.ListKind] == list(HOSTILE_VALUES)
    names = [member.name for member in lists.ListKind]
    assert all(name.isidentifier() and not name.startswith("_") for name in names)
    assert lists.List.__doc__ is not None and '"""' in lists.List.__doc__  # labels kept, escaped
    assert {"str_", "float_", "list_", "dict_", "type_", "match_", "from_json_", "to_json_", "self", "cls"} <= set(
        lists.List.__dataclass_fields__)
    insert = lists.ListInsert(name="n", dict_={"a": 1}, kind=lists.ListKind("it's"), str_="s", list_="l", type_="t")
    assert insert.to_json() == {"name": "n", "dict": {"a": 1}, "kind": "it's", "str": "s", "list": "l", "type": "t"}
    date_times = importlib.import_module(f"{package.__name__}.models.date_times")
    assert [m.value for m in date_times.DateTimeInsert2] == ["x", "X", "x!"]
    assert date_times.DateTimeInsert.__name__ == "DateTimeInsert"
    exceptions = importlib.import_module(f"{package.__name__}.models.exceptions")
    assert exceptions.ExceptionRow.__name__ == "ExceptionRow"  # never shadows the built-in Exception


# --- the Python client against a recording transport ------------------------------------------------------


TODO_ROW = {
    "id": "7d6c2a5e-0000-4000-8000-000000000001", "title": "Buy milk", "notes": None, "done": False,
    "due_on": "2024-05-01", "priority": "high", "tags": ["home"], "list_id": "7d6c2a5e-0000-4000-8000-000000000002",
    "created_at": "2024-05-01T10:00:00.123456+00:00", "updated_at": "2024-05-01T10:00:00+00:00",
    "owner_id": "7d6c2a5e-0000-4000-8000-000000000003",
}


class Recorder:
    """An httpx transport that records requests and answers with canned JSON."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.reply: object = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.reply)


@pytest.fixture
def todo_client(generated: Callable[[str], ModuleType]) -> Iterator[tuple[ModuleType, Any, Recorder]]:
    package = generated("todo")
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    client = supabase.create_client("https://example.supabase.co", "sb_publishable_test",
                                    options=supabase.ClientOptions(httpx_client=http))
    services = importlib.import_module(f"{package.__name__}.services.todos")
    yield package, services.TodoService(client), recorder
    http.close()


def test_python_service_lists_gets_and_writes(todo_client: tuple[ModuleType, Any, Recorder]) -> None:
    package, service, recorder = todo_client
    todos = importlib.import_module(f"{package.__name__}.models.todos")
    recorder.reply = [TODO_ROW]
    rows = service.list(equals={"priority": todos.TodoPriority.HIGH, "notes": None}, limit=10, offset=20)
    request = recorder.requests[-1]
    assert request.method == "GET" and request.url.path == "/rest/v1/todos"
    assert dict(request.url.params) == {"select": "*", "priority": "eq.high", "notes": "is.null",
                                        "order": "created_at.asc,id.asc", "offset": "20", "limit": "10"}
    assert rows[0].priority is todos.TodoPriority.HIGH and rows[0].due_on.isoformat() == "2024-05-01"
    assert rows[0].created_at.utcoffset() is not None and rows[0].to_json()["tags"] == ["home"]

    recorder.reply = [TODO_ROW]
    assert service.get(TODO_ROW["id"]).title == "Buy milk"
    assert recorder.requests[-1].url.params["id"] == f"eq.{TODO_ROW['id']}"

    created = service.create(todos.TodoInsert(title="Buy milk", list_id=TODO_ROW["list_id"], due_on=rows[0].due_on))
    request = recorder.requests[-1]
    assert request.method == "POST" and json.loads(request.content) == {
        "title": "Buy milk", "list_id": TODO_ROW["list_id"], "due_on": "2024-05-01"}
    assert created.id == TODO_ROW["id"]

    updated = service.update(TODO_ROW["id"], todos.TodoUpdate(notes=None, done=True))
    request = recorder.requests[-1]
    assert request.method == "PATCH" and json.loads(request.content) == {"notes": None, "done": True}
    assert request.url.params["id"] == f"eq.{TODO_ROW['id']}" and updated is not None
    with pytest.raises(ValueError, match="nothing to change"):
        service.update(TODO_ROW["id"], todos.TodoUpdate())

    recorder.reply = []
    assert service.delete(TODO_ROW["id"]) is False
    assert recorder.requests[-1].method == "DELETE"
    with pytest.raises(ValueError, match="expected text"):
        todos.Todo.from_json({**TODO_ROW, "title": 5})


def test_python_service_subscribes_through_realtime(todo_client: tuple[ModuleType, Any, Recorder],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    package, service, _ = todo_client
    todos = importlib.import_module(f"{package.__name__}.models.todos")

    async def no_join(self: realtime.AsyncRealtimeChannel, callback: object = None) -> realtime.AsyncRealtimeChannel:
        return self

    monkeypatch.setattr(realtime.AsyncRealtimeChannel, "subscribe", no_join)
    changes: list[Any] = []

    async def subscribe() -> realtime.AsyncRealtimeChannel:
        client = await supabase.acreate_client("https://example.supabase.co", "sb_publishable_test")
        channel: realtime.AsyncRealtimeChannel = await service.subscribe(client, changes.append, event="UPDATE")
        return channel

    channel = asyncio.run(subscribe())
    (binding,) = channel.postgres_changes_callbacks
    assert (binding.table, binding.schema, binding.event.value) == ("todos", "public", "UPDATE")
    binding.callback({"data": {"schema": "public", "table": "todos", "commit_timestamp": "2024-05-01T10:00:00Z",
                               "type": realtime.RealtimePostgresChangesListenEvent.Update, "errors": None,
                               "columns": [], "record": TODO_ROW, "old_record": {"id": TODO_ROW["id"]}}, "ids": [1]})
    (change,) = changes
    assert change.event == "UPDATE" and isinstance(change.new, todos.Todo) and change.old == {"id": TODO_ROW["id"]}


def _jwt(claims: dict[str, str]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{part}.c2lnbmF0dXJl"


def test_python_config_reads_env_and_refuses_server_keys(generated: Callable[[str], ModuleType],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert list(inspect.signature(python_files).parameters) == ["model", "project_url"]
    config = importlib.import_module(f"{generated('hostile').__name__}.config")
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.delenv("SUPABASE_PUBLISHABLE_KEY", raising=False)
    assert config.project_url() == PROJECT_URL
    with pytest.raises(config.ConfigError, match="SUPABASE_PUBLISHABLE_KEY"):
        config.publishable_key()
    for server_key in ("sb_secret_abc123", _jwt({"role": "service_role", "iss": "supabase"})):
        monkeypatch.setenv("SUPABASE_PUBLISHABLE_KEY", server_key)
        with pytest.raises(config.ConfigError, match="server key"):
            config.create_client()
    monkeypatch.setenv("SUPABASE_PUBLISHABLE_KEY", _jwt({"role": "anon", "iss": "supabase"}))
    assert isinstance(config.create_client(), supabase.Client)
    todo_config = importlib.import_module(f"{generated('todo').__name__}.config")
    with pytest.raises(todo_config.ConfigError, match="SUPABASE_URL"):
        todo_config.project_url()

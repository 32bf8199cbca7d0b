"""Saving and loading the AppModel in the workspace's `studio.json` (section `model`, with its own format).

Loading a model written by a newer Studio, or a damaged one, raises `WorkspaceError` naming the place in
the file; nothing is guessed. Saving keeps every other section of `studio.json` (the project link).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from studio.core.errors import WorkspaceError
from studio.core.migrations.files import write_atomic
from studio.core.model.appmodel import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete
from studio.core.workspace_file import FORMAT_VERSION, read_workspace_file, workspace_file

_E = TypeVar("_E", FieldType, LinkKind, OnDelete, Access)

MODEL_FORMAT = 1
SECTION = "model"


def model_to_dict(model: AppModel) -> dict[str, Any]:
    """The model as JSON data: only what differs from the defaults, in a stable order."""
    entities = []
    for entity in model.entities:
        item: dict[str, Any] = {"name": entity.name, "access": entity.access.value}
        if entity.label:
            item["label"] = entity.label
        if entity.singular:
            item["singular"] = entity.singular
        item["fields"] = [_field_to_dict(f) for f in entity.fields]
        entities.append(item)
    links = []
    for link in model.links:
        data: dict[str, Any] = {"name": link.name, "source": link.source, "target": link.target,
                                "kind": link.kind.value}
        if link.kind is not LinkKind.MANY_TO_MANY:
            data["required"] = link.required
            data["on_delete"] = link.on_delete.value
        if link.label:
            data["label"] = link.label
        links.append(data)
    result: dict[str, Any] = {"format": MODEL_FORMAT, "name": model.name}
    if model.description:
        result["description"] = model.description
    if model.schema != "public":
        result["schema"] = model.schema
    result["entities"] = entities
    result["links"] = links
    return result


def _field_to_dict(field: Field) -> dict[str, Any]:
    data: dict[str, Any] = {"name": field.name, "type": field.type.value}
    if field.required:
        data["required"] = True
    if field.unique:
        data["unique"] = True
    if field.default is not None:
        data["default"] = field.default
    if field.values:
        data["values"] = list(field.values)
    if field.label:
        data["label"] = field.label
    return data


class _Reader:
    """Reads JSON data into the model, raising `WorkspaceError` with the path of anything wrong."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> WorkspaceError:
        return WorkspaceError(f"The data model in {self.source} is damaged at {where}: {message}.",
                              hint="Fix it by hand, or restore the file from version control.")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def text(self, data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", "expected text")
        return value

    def flag(self, data: dict[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "expected true or false")
        return value

    def choice(self, enum: type[_E], data: dict[str, Any], key: str, where: str, default: _E | None = None) -> _E:
        raw = data.get(key, default.value if default is not None else None)
        try:
            return enum(str(raw))
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise self.fail(f"{where}.{key}", f"“{raw}” is not one of {allowed}") from None

    def array(self, data: dict[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"{where}.{key}", "expected a list")
        return value


def model_from_dict(data: Any, *, source: str = "studio.json") -> AppModel:
    """The model read back from JSON data; `WorkspaceError` when it is newer or damaged."""
    read = _Reader(source)
    root = read.obj(data, "model")
    version = root.get("format", MODEL_FORMAT)
    if not isinstance(version, int):
        raise read.fail("model.format", "expected a number")
    if version > MODEL_FORMAT:
        raise WorkspaceError(f"The data model in {source} was saved by a newer Studio (format {version}).",
                             hint="Update Studio to open it.")
    entities = []
    for number, raw in enumerate(read.array(root, "entities", "model")):
        where = f"model.entities[{number}]"
        item = read.obj(raw, where)
        fields = []
        for index, raw_field in enumerate(read.array(item, "fields", where)):
            at = f"{where}.fields[{index}]"
            field_data = read.obj(raw_field, at)
            default = field_data.get("default")
            if default is not None and not isinstance(default, (str, int, float, bool)):
                raise read.fail(f"{at}.default", "expected text, a number or true/false")
            values = read.array(field_data, "values", at)
            if not all(isinstance(v, str) for v in values):
                raise read.fail(f"{at}.values", "expected a list of text")
            fields.append(Field(
                name=read.text(field_data, "name", at),
                type=read.choice(FieldType, field_data, "type", at),
                required=read.flag(field_data, "required", at),
                unique=read.flag(field_data, "unique", at),
                default=default,
                values=tuple(values),
                label=read.text(field_data, "label", at, ""),
            ))
        entities.append(Entity(
            name=read.text(item, "name", where),
            fields=tuple(fields),
            access=read.choice(Access, item, "access", where, Access.PRIVATE),
            label=read.text(item, "label", where, ""),
            singular=read.text(item, "singular", where, ""),
        ))
    links = []
    for number, raw in enumerate(read.array(root, "links", "model")):
        where = f"model.links[{number}]"
        item = read.obj(raw, where)
        links.append(Link(
            name=read.text(item, "name", where),
            source=read.text(item, "source", where),
            target=read.text(item, "target", where),
            kind=read.choice(LinkKind, item, "kind", where, LinkKind.MANY_TO_ONE),
            required=read.flag(item, "required", where),
            on_delete=read.choice(OnDelete, item, "on_delete", where, OnDelete.RESTRICT),
            label=read.text(item, "label", where, ""),
        ))
    return AppModel(
        name=read.text(root, "name", "model", ""),
        entities=tuple(entities),
        links=tuple(links),
        schema=read.text(root, "schema", "model", "public"),
        description=read.text(root, "description", "model", ""),
    )


def load_model(workspace: Path) -> AppModel | None:
    """The workspace's model, or None when `studio.json` has none."""
    data = read_workspace_file(workspace)
    if SECTION not in data:
        return None
    return model_from_dict(data[SECTION], source=str(workspace_file(workspace)))


def save_model(workspace: Path, model: AppModel) -> None:
    """Write the model into `studio.json`, keeping its other sections."""
    data = read_workspace_file(workspace)
    data["version"] = max(int(data.get("version", FORMAT_VERSION)), FORMAT_VERSION)
    data[SECTION] = model_to_dict(model)
    write_atomic(workspace_file(workspace), json.dumps(data, indent=2, ensure_ascii=False) + "\n")

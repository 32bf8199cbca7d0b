"""The AppModel: validation in the builder's words, and studio.json round trips that refuse damage."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from studio.core.errors import WorkspaceError
from studio.core.model import (
    Access,
    AppModel,
    Entity,
    Field,
    FieldType,
    Link,
    LinkKind,
    OnDelete,
    load_model,
    model_from_dict,
    model_to_dict,
    save_model,
    singularize,
    validate,
)
from studio.core.model.templates import TEMPLATES, template
from studio.core.workspace_file import ProjectLink, read_link, write_link

T = FieldType


def messages(model: AppModel) -> list[str]:
    return [str(p) for p in validate(model)]


def one(*fields: Field, name: str = "notes", access: Access = Access.PRIVATE) -> Entity:
    return Entity(name, fields=fields, access=access)


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.name)
def test_every_template_is_valid_and_survives_a_round_trip(item) -> None:  # type: ignore[no-untyped-def]
    model = item.build()
    assert validate(model) == []
    assert model_from_dict(json.loads(json.dumps(model_to_dict(model)))) == model


def test_templates_use_every_access_rule_and_link_kind() -> None:
    models = [t.build() for t in TEMPLATES]
    assert {e.access for m in models for e in m.entities} == set(Access)
    assert {link.kind for m in models for link in m.links} == set(LinkKind)


def test_unknown_template_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="todo, blog, marketplace, team, booking"):
        template("crm")


@pytest.mark.parametrize(("name", "expected"), [("todos", "todo"), ("categories", "category"), ("addresses", "address"),
                                                ("boxes", "box"), ("status", "status"), ("data", "data")])
def test_singular_names(name: str, expected: str) -> None:
    assert singularize(name) == expected


def test_duplicate_and_reserved_names_are_reported() -> None:
    model = AppModel("x", entities=(one(Field("title", T.TEXT), Field("title", T.TEXT)), one(name="notes"),
                                    one(name="user"), one(Field("class", T.TEXT), name="cards"),
                                    one(Field("Title", T.TEXT), name="pages")))
    found = messages(model)
    assert "entity notes: two entities have this name" in found
    assert "entity notes, field title: two fields have this name" in found
    assert any("“user” is a reserved word in SQL" in m for m in found)
    assert any("“class” is a reserved word in the app's code" in m for m in found)
    assert any("“Title” must start with a lower-case letter" in m for m in found)


def test_columns_studio_adds_cannot_be_fields() -> None:
    found = messages(AppModel("x", entities=(one(Field("owner_id", T.UUID)),)))
    assert found == ["entity notes, field owner_id: “owner_id” is added by Studio to every entity; choose another name"]


def test_links_to_missing_entities_and_column_clashes() -> None:
    model = AppModel("x", entities=(one(Field("author_id", T.UUID)),),
                     links=(Link("author", "notes", "people"),))
    found = messages(model)
    assert "link notes.author: it links to “people”, which is not an entity of this model" in found
    assert "link notes.author: its column “author_id” clashes with field author_id" in found


def test_required_links_in_a_circle_need_one_optional() -> None:
    entities = (one(name="a"), one(name="b"), one(name="c"))
    circle = (Link("b", "a", "b", required=True), Link("c", "b", "c", required=True),
              Link("a", "c", "a", required=True))
    found = messages(AppModel("x", entities=entities, links=circle))
    assert len(found) == 1 and "form a circle" in found[0] and "a → b → c → a" in found[0]
    relaxed = (*circle[:2], replace(circle[2], required=False))
    assert messages(AppModel("x", entities=entities, links=relaxed)) == []
    self_required = AppModel("x", entities=(one(name="a"),), links=(Link("parent", "a", "a", required=True),))
    assert "form a circle" in messages(self_required)[0]


def test_names_postgres_would_truncate_are_caught_including_derived_ones() -> None:
    long_entity = "e" * 60  # fits, but its index and trigger names do not
    found = messages(AppModel("x", entities=(one(Field("f", T.TEXT), name=long_entity),)))
    assert any("longer than PostgreSQL's 63 bytes" in m and "set_updated_at" in m for m in found)
    assert messages(AppModel("x", entities=(one(name="a" * 30),))) == []


def test_enum_fields_need_values_and_defaults_must_fit() -> None:
    model = AppModel("x", entities=(one(
        Field("state", T.ENUM),
        Field("size", T.ENUM, values=("s", "s")),
        Field("mood", T.ENUM, values=("happy",), default="sad"),
        Field("count", T.INTEGER, default="many"),
        Field("flag", T.INTEGER, default=True),
        Field("when", T.DATE, default="tomorrow"),
        Field("label", T.TEXT, values=("a",)),
    ),))
    found = " | ".join(messages(model))
    for expected in ["needs at least one value", "values must all differ", "“sad” is not one of the choices",
                     "'many' does not suit a integer field", "True does not suit a integer field",
                     "can only be “now”", "only choice (enum) fields have a list of values"]:
        assert expected in found


def test_set_null_on_a_required_link_is_refused() -> None:
    model = AppModel("x", entities=(one(name="a"), one(name="b")),
                     links=(Link("b", "a", "b", required=True, on_delete=OnDelete.SET_NULL),))
    assert "cannot be emptied" in messages(model)[0]


def test_many_to_many_to_itself_needs_a_distinct_name() -> None:
    same = AppModel("x", entities=(one(name="people"),), links=(Link("people", "people", "people",
                                                                     LinkKind.MANY_TO_MANY),))
    assert "name the link differently" in messages(same)[0]
    followers = replace(same, links=(Link("followers", "people", "people", LinkKind.MANY_TO_MANY),))
    assert messages(followers) == []


def test_the_model_is_saved_beside_the_project_link(tmp_path: Path) -> None:
    link = ProjectLink(ref="abcdefghijklmnopqrst", name="shop", api_url="https://x", account_id="a")
    write_link(tmp_path, link)
    model = template("blog").build()
    save_model(tmp_path, model)
    assert load_model(tmp_path) == model
    assert read_link(tmp_path) == link
    data = json.loads((tmp_path / "studio.json").read_text())
    assert data["model"]["format"] == 1 and data["version"] == 1


def test_a_workspace_without_a_model_has_none(tmp_path: Path) -> None:
    assert load_model(tmp_path) is None


@pytest.mark.parametrize(("change", "expected"), [
    (lambda m: m.update(format=9), "newer Studio"),
    (lambda m: m["entities"][0].update(access="everyone"), "model.entities[0].access: “everyone” is not one of"),
    (lambda m: m["entities"][0]["fields"][0].update(type="money"), "model.entities[0].fields[0].type"),
    (lambda m: m["entities"][0]["fields"][0].update(required="yes"), "expected true or false"),
    (lambda m: m["links"].append("posts"), "model.links[2]: expected an object"),
    (lambda m: m["entities"][1].pop("name"), "model.entities[1].name: expected text"),
])
def test_damaged_or_newer_models_are_refused_with_where(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    save_model(tmp_path, template("blog").build())
    data = json.loads((tmp_path / "studio.json").read_text())
    change(data["model"])
    (tmp_path / "studio.json").write_text(json.dumps(data))
    before = (tmp_path / "studio.json").read_bytes()
    with pytest.raises(WorkspaceError) as caught:
        load_model(tmp_path)
    assert expected in str(caught.value)
    assert (tmp_path / "studio.json").read_bytes() == before

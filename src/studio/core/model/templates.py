"""Ready-made AppModels to start from: each one a small, realistic app using every kind of access rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.core.model.appmodel import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete

T = FieldType


@dataclass(frozen=True)
class Template:
    """A starting point: its name (for `studio generate --template`), a title and what it is for."""

    name: str
    title: str
    summary: str
    build: Callable[[], AppModel]


def _todo() -> AppModel:
    return AppModel(
        name="To-do list",
        description="Personal to-do lists: each user sees only their own lists and items.",
        entities=(
            Entity("lists", access=Access.PRIVATE, label="Lists", fields=(
                Field("title", T.TEXT, required=True, label="Title"),
                Field("color", T.ENUM, values=("grey", "blue", "green", "red"), default="grey", label="Colour"),
            )),
            Entity("todos", access=Access.PRIVATE, label="To-dos", fields=(
                Field("title", T.TEXT, required=True, label="Title"),
                Field("notes", T.LONG_TEXT, label="Notes"),
                Field("done", T.BOOLEAN, required=True, default=False, label="Done"),
                Field("due_on", T.DATE, label="Due on"),
                Field("priority", T.ENUM, values=("low", "normal", "high"), required=True, default="normal",
                      label="Priority"),
                Field("tags", T.TEXT_ARRAY, label="Tags"),
            )),
        ),
        links=(Link("list", "todos", "lists", LinkKind.MANY_TO_ONE, required=True, on_delete=OnDelete.CASCADE,
                    label="List"),),
    )


def _blog() -> AppModel:
    return AppModel(
        name="Blog with comments",
        description="Posts anyone can read and only their authors edit, comments, categories run by admins, "
                    "and a contact form only admins read.",
        entities=(
            Entity("categories", access=Access.PUBLIC_READ_ADMIN_WRITE, label="Categories", fields=(
                Field("name", T.TEXT, required=True, unique=True, label="Name"),
                Field("slug", T.TEXT, required=True, unique=True, label="Slug"),
            )),
            Entity("posts", access=Access.PUBLIC_READ_OWNER_WRITE, label="Posts", fields=(
                Field("title", T.TEXT, required=True, label="Title"),
                Field("body", T.LONG_TEXT, required=True, label="Body"),
                Field("published_at", T.TIMESTAMP, label="Published at"),
                Field("cover_image", T.FILE, label="Cover image"),
            )),
            Entity("comments", access=Access.PUBLIC_READ_OWNER_WRITE, label="Comments", fields=(
                Field("body", T.LONG_TEXT, required=True, label="Comment"),
            )),
            Entity("contact_messages", access=Access.CREATE_ONLY_ADMIN_READ, label="Contact messages", fields=(
                Field("email", T.TEXT, required=True, label="E-mail"),
                Field("message", T.LONG_TEXT, required=True, label="Message"),
            )),
        ),
        links=(
            Link("category", "posts", "categories", LinkKind.MANY_TO_ONE, on_delete=OnDelete.SET_NULL,
                 label="Category"),
            Link("post", "comments", "posts", LinkKind.MANY_TO_ONE, required=True, on_delete=OnDelete.CASCADE,
                 label="Post"),
        ),
    )


def _marketplace() -> AppModel:
    return AppModel(
        name="Marketplace",
        description="Sellers list items anyone can browse; buyers place orders only they can see.",
        entities=(
            Entity("categories", access=Access.PUBLIC_READ_ADMIN_WRITE, label="Categories", fields=(
                Field("name", T.TEXT, required=True, unique=True, label="Name"),
            )),
            Entity("listings", access=Access.PUBLIC_READ_OWNER_WRITE, label="Listings", fields=(
                Field("title", T.TEXT, required=True, label="Title"),
                Field("description", T.LONG_TEXT, label="Description"),
                Field("price", T.DECIMAL, required=True, label="Price"),
                Field("currency", T.ENUM, values=("eur", "usd", "gbp"), required=True, default="eur",
                      label="Currency"),
                Field("photo", T.FILE, label="Photo"),
                Field("available", T.BOOLEAN, required=True, default=True, label="Available"),
                Field("attributes", T.JSON, label="Attributes"),
            )),
            Entity("orders", access=Access.PRIVATE, label="Orders", fields=(
                Field("quantity", T.INTEGER, required=True, default=1, label="Quantity"),
                Field("status", T.ENUM, values=("placed", "paid", "shipped", "cancelled"), required=True,
                      default="placed", label="Status"),
                Field("placed_at", T.TIMESTAMP, required=True, default="now", label="Placed at"),
            )),
        ),
        links=(
            Link("category", "listings", "categories", LinkKind.MANY_TO_ONE, on_delete=OnDelete.SET_NULL,
                 label="Category"),
            Link("listing", "orders", "listings", LinkKind.MANY_TO_ONE, required=True,
                 on_delete=OnDelete.RESTRICT, label="Listing"),
        ),
    )


def _team_workspace() -> AppModel:
    return AppModel(
        name="Team workspace",
        description="Teams share projects, tasks and labels; nobody outside a team sees its data.",
        entities=(
            Entity("projects", access=Access.TEAM, label="Projects", fields=(
                Field("name", T.TEXT, required=True, label="Name"),
                Field("archived", T.BOOLEAN, required=True, default=False, label="Archived"),
            )),
            Entity("tasks", access=Access.TEAM, label="Tasks", fields=(
                Field("title", T.TEXT, required=True, label="Title"),
                Field("status", T.ENUM, values=("todo", "doing", "done"), required=True, default="todo",
                      label="Status"),
                Field("estimate_hours", T.DECIMAL, label="Estimate (hours)"),
                Field("assignee", T.UUID, label="Assignee"),
            )),
            Entity("labels", access=Access.TEAM, label="Labels", fields=(
                Field("name", T.TEXT, required=True, label="Name"),
            )),
        ),
        links=(
            Link("project", "tasks", "projects", LinkKind.MANY_TO_ONE, required=True, on_delete=OnDelete.CASCADE,
                 label="Project"),
            Link("labels", "tasks", "labels", LinkKind.MANY_TO_MANY, label="Labels"),
        ),
    )


def _booking() -> AppModel:
    return AppModel(
        name="Booking system",
        description="Admins publish services and time slots; a customer books a free slot and sees only their"
                    " bookings.",
        entities=(
            Entity("services", access=Access.PUBLIC_READ_ADMIN_WRITE, label="Services", fields=(
                Field("name", T.TEXT, required=True, label="Name"),
                Field("duration_minutes", T.INTEGER, required=True, default=60, label="Duration (minutes)"),
                Field("price", T.DECIMAL, label="Price"),
            )),
            Entity("slots", access=Access.PUBLIC_READ_ADMIN_WRITE, label="Time slots", fields=(
                Field("starts_at", T.TIMESTAMP, required=True, label="Starts at"),
            )),
            Entity("bookings", access=Access.PRIVATE, label="Bookings", fields=(
                Field("status", T.ENUM, values=("requested", "confirmed", "cancelled"), required=True,
                      default="requested", label="Status"),
                Field("note", T.LONG_TEXT, label="Note"),
            )),
            Entity("enquiries", access=Access.CREATE_ONLY_ADMIN_READ, label="Enquiries", fields=(
                Field("name", T.TEXT, required=True, label="Name"),
                Field("email", T.TEXT, required=True, label="E-mail"),
                Field("question", T.LONG_TEXT, required=True, label="Question"),
            )),
        ),
        links=(
            Link("service", "slots", "services", LinkKind.MANY_TO_ONE, required=True, on_delete=OnDelete.CASCADE,
                 label="Service"),
            Link("slot", "bookings", "slots", LinkKind.ONE_TO_ONE, required=True, on_delete=OnDelete.RESTRICT,
                 label="Slot"),
        ),
    )


TEMPLATES: tuple[Template, ...] = (
    Template("todo", "To-do list", "Private lists and items for each user.", _todo),
    Template("blog", "Blog with comments", "Public posts, owners edit, admin categories, a contact form.", _blog),
    Template("marketplace", "Marketplace", "Public listings, private orders.", _marketplace),
    Template("team", "Team workspace", "Multi-tenant: teams share projects, tasks and labels.", _team_workspace),
    Template("booking", "Booking system", "Services and slots by admins, private bookings, enquiries.", _booking),
)


def template(name: str) -> Template:
    """The template called `name`; `KeyError` lists the known ones."""
    for item in TEMPLATES:
        if item.name == name:
            return item
    raise KeyError(f"no template {name!r}; choose one of {', '.join(t.name for t in TEMPLATES)}")

"""The builder's data model (AppModel): entities, fields, links and access rules; validation; templates."""

from studio.core.model.appmodel import (
    Access,
    AppModel,
    Entity,
    Field,
    FieldType,
    Link,
    LinkKind,
    OnDelete,
    singularize,
)
from studio.core.model.store import load_model, model_from_dict, model_to_dict, save_model
from studio.core.model.validate import Problem, validate

__all__ = [
    "Access",
    "AppModel",
    "Entity",
    "Field",
    "FieldType",
    "Link",
    "LinkKind",
    "OnDelete",
    "Problem",
    "load_model",
    "model_from_dict",
    "model_to_dict",
    "save_model",
    "singularize",
    "validate",
]

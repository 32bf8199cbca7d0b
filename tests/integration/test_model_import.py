"""Importing an AppModel from an existing database: what maps, and what is named as left out."""

from __future__ import annotations

import asyncio

from studio.core.model import Access, FieldType, LinkKind, OnDelete, validate
from studio.core.model.importer import model_from_catalog
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer

EXISTING = """
create type public.mood as enum ('calm', 'busy', 'it''s complicated');
create table public.authors (
  id uuid primary key default gen_random_uuid(),
  name varchar(80) not null unique,
  created_at timestamptz not null default now()
);
comment on table public.authors is 'Authors';
create table public.posts (
  id uuid primary key default gen_random_uuid(),
  title text not null,
  words integer,
  rating numeric(3, 1),
  mood public.mood,
  tags text[],
  meta jsonb,
  published date,
  location point,
  author_id uuid not null references public.authors (id) on delete cascade,
  editor_id uuid unique references public.authors (id) on delete set null,
  owner_id uuid not null default auth.uid() references auth.users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on column public.posts.title is 'Title';
create table public.topics (id uuid primary key, label text);
create table public.posts_topics (
  post_id uuid not null references public.posts (id) on delete cascade,
  topic_id uuid not null references public.topics (id) on delete cascade,
  primary key (post_id, topic_id)
);
alter table public.posts enable row level security;
create policy "read" on public.posts for select to anon, authenticated using (true);
create policy "own" on public.posts for update to authenticated using (owner_id = (select auth.uid()));
"""


def test_tables_columns_links_and_access_come_back_as_a_model(local_server: LocalServer) -> None:
    catalog = asyncio.run(catalog_of_sources(local_server, [("existing.sql", EXISTING)]))
    result = model_from_catalog(catalog)
    model = result.model
    assert [e.name for e in model.entities] == ["authors", "posts", "topics"]
    posts = model.entity("posts")
    assert posts is not None and posts.access is Access.PUBLIC_READ_OWNER_WRITE
    fields = {f.name: f for f in posts.fields}
    assert list(fields) == ["title", "words", "rating", "mood", "tags", "meta", "published"]
    assert fields["title"].type is FieldType.TEXT and fields["title"].required and fields["title"].label == "Title"
    assert fields["rating"].type is FieldType.DECIMAL and fields["tags"].type is FieldType.TEXT_ARRAY
    assert fields["mood"].type is FieldType.ENUM and fields["mood"].values == ("calm", "busy", "it's complicated")
    authors = model.entity("authors")
    assert authors is not None and authors.label == "Authors"
    assert authors.fields[0].unique and authors.fields[0].type is FieldType.TEXT
    links = {(link.source, link.name): link for link in model.links}
    assert links["posts", "author"].kind is LinkKind.MANY_TO_ONE and links["posts", "author"].required
    assert links["posts", "author"].on_delete is OnDelete.CASCADE
    assert links["posts", "editor"].kind is LinkKind.ONE_TO_ONE and links["posts", "editor"].on_delete is (
        OnDelete.SET_NULL)
    assert links["posts", "topics"].kind is LinkKind.MANY_TO_MANY and links["posts", "topics"].target == "topics"
    assert any("location has type point" in note for note in result.notes)
    assert any("table topics: no owner column" in note for note in result.notes)
    assert validate(model) == []

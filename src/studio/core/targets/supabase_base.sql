-- The parts of a Supabase project that user schemas and policies rely on, for the local server.
--
-- Written for Studio from Supabase's public documentation of what every project contains: the API
-- roles, the `auth` schema with `auth.users` and the JWT helper functions, minimal `storage` tables,
-- the `extensions` schema, the `supabase_realtime` publication and the default grants.
--
-- Rules for this file:
--   * It runs as one script (one implicit transaction) as the superuser `postgres`.
--   * It must succeed on a fresh database AND when run again on a database that already has it:
--     roles are cluster-wide and survive a template rebuild, and the local project (`postgres`
--     database) gets the script again whenever the base changes. So: IF NOT EXISTS, OR REPLACE,
--     existence checks; columns a newer base adds go in as ADD COLUMN IF NOT EXISTS.
--   * Any change to this file changes its hash, which makes Studio rebuild the template database.

-- ---------------------------------------------------------------------------------------------
-- Roles (cluster-wide). The API roles cannot log in; PostgREST logs in as `authenticator` and
-- switches to one of them per request.
-- ---------------------------------------------------------------------------------------------
do $roles$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end
$roles$;

-- Make the attributes right even when the roles were made by someone else.
alter role anon nologin noinherit;
alter role authenticated nologin noinherit;
alter role service_role nologin noinherit bypassrls;
alter role authenticator login noinherit;

grant anon, authenticated, service_role to authenticator;

-- ---------------------------------------------------------------------------------------------
-- Schemas
-- ---------------------------------------------------------------------------------------------
create schema if not exists extensions;
create schema if not exists auth;
create schema if not exists storage;

grant usage on schema public to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema storage to anon, authenticated, service_role;

-- Objects that `postgres` creates in `public` are reachable by the API roles; row level security
-- (not table privileges) is what protects them, as on Supabase.
alter default privileges for role postgres in schema public
    grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
    grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
    grant all on functions to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- auth.users: the columns apps and seed files commonly use.
-- ---------------------------------------------------------------------------------------------
create table if not exists auth.users (
    instance_id uuid,
    id uuid not null default gen_random_uuid() primary key,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    phone text default null,
    phone_confirmed_at timestamptz,
    phone_change text default '',
    phone_change_token varchar(255) default '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) default '',
    email_change_confirm_status smallint default 0,
    banned_until timestamptz,
    reauthentication_token varchar(255) default '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
);
-- Columns added by later versions of this file go here, as ALTER TABLE ... ADD COLUMN IF NOT EXISTS,
-- so that the local project's existing auth.users gains them too.

create unique index if not exists users_phone_key on auth.users (phone);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

alter table auth.users enable row level security;

-- ---------------------------------------------------------------------------------------------
-- JWT helpers. PostgREST puts the verified JWT's claims into the setting `request.jwt.claims`
-- (a JSON text); older versions set one setting per claim (`request.jwt.claim.sub`, ...), which is
-- still honoured first. A missing or empty setting gives NULL.
-- ---------------------------------------------------------------------------------------------
create or replace function auth.uid() returns uuid
    language sql stable
as $fn$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
    )::uuid
$fn$;
comment on function auth.uid() is 'The user id (claim "sub") of the request''s JWT, or NULL.';

create or replace function auth.role() returns text
    language sql stable
as $fn$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
    )::text
$fn$;
comment on function auth.role() is 'The role (claim "role") of the request''s JWT, or NULL.';

create or replace function auth.email() returns text
    language sql stable
as $fn$
    select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
    )::text
$fn$;
comment on function auth.email() is 'The e-mail address (claim "email") of the request''s JWT, or NULL.';

create or replace function auth.jwt() returns jsonb
    language sql stable
as $fn$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$fn$;
comment on function auth.jwt() is 'All claims of the request''s JWT as jsonb, or NULL.';

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
    to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- storage: buckets and objects, enough for storage policies to be written and tested.
-- ---------------------------------------------------------------------------------------------
create table if not exists storage.buckets (
    id text not null primary key,
    name text not null,
    owner uuid,
    owner_id text,
    public boolean default false,
    avif_autodetection boolean default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
    id uuid not null default gen_random_uuid() primary key,
    bucket_id text references storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    last_accessed_at timestamptz default now(),
    metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored,
    version text,
    user_metadata jsonb
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
-- Later columns: ALTER TABLE ... ADD COLUMN IF NOT EXISTS here (see auth.users).

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

grant all on table storage.buckets, storage.objects to anon, authenticated, service_role;

-- Helpers used in storage policies, e.g. (storage.foldername(name))[1] = (select auth.uid())::text.
-- For 'a/b/c.tar.gz': foldername = {a,b}, filename = 'c.tar.gz', extension = 'gz'.
create or replace function storage.foldername(name text) returns text[]
    language sql immutable
as $fn$
    select (string_to_array(name, '/'))[1:greatest(cardinality(string_to_array(name, '/')) - 1, 0)]
$fn$;

create or replace function storage.filename(name text) returns text
    language sql immutable
as $fn$
    select (string_to_array(name, '/'))[cardinality(string_to_array(name, '/'))]
$fn$;

create or replace function storage.extension(name text) returns text
    language sql immutable
as $fn$
    select case
        when storage.filename(name) like '%.%'
            then regexp_replace(storage.filename(name), '^.*\.', '')
        else ''
    end
$fn$;

grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
    to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Realtime: the publication that tables are added to for change events (empty at first). With
-- the local server's wal_level the server warns that it cannot publish yet; that is expected.
-- ---------------------------------------------------------------------------------------------
do $realtime$
begin
    if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
end
$realtime$;

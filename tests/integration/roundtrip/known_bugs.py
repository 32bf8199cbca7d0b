"""Engine bugs found by the round trips: the reasons of the strict xfails, one constant per bug.

Each constant is used by the cases it breaks. When a bug is fixed its cases pass, the strict xfail
turns that into a failure, and the constant (and its xfails) go.
"""

from __future__ import annotations

TEXT_TO_VARCHAR_FLAGGED = (
    'text -> varchar (no length) loses nothing but is flagged DATA_LOSS'
)

NAMED_NOT_NULL = (
    "PostgreSQL 18 NOT NULL constraints have names (pg_constraint contype 'n'): they are not "
    'introspected, so a named NOT NULL ends up with the default name t_a_not_null and the re-diff still '
    'says nothing'
)

OWNED_SEQUENCE_CYCLE = (
    'dropping a sequence OWNED BY a column while that column changes or goes forms a dependency cycle '
    "(plan.not_handled says 'circular dependencies') and the plan then fails"
)

IDENTITY_TO_SERIAL_NAME_CLASH = (
    "CREATE SEQUENCE public.t_a_seq runs before DROP IDENTITY frees that name (the identity's own "
    "sequence is not modelled), so it fails with 'relation t_a_seq already exists'"
)

NOT_VALID_CONSTRAINT_VALIDATED = (
    'a constraint that is NOT VALID in the desired state (existing rows break it) is added with NOT VALID'
    ' then VALIDATEd, so the migration fails on rows that the desired state tolerates'
)

DROPPED_OVERLOAD_STILL_USED = (
    'the old overload is_admin(uuid) is dropped while a policy that stays (same text, which in state B '
    'resolves to the new is_admin(uuid, boolean default true)) still depends on it: DROP FUNCTION fails; '
    'dependents of a dropped function are only rebuilt when their own definition changes'
)

TYPE_CHANGE_UNDER_GENERATED_COLUMN = (
    "ALTER COLUMN a TYPE fails when a generated column uses a (PostgreSQL: 'cannot alter type of a column"
    " used by a generated column'); the plan neither drops/re-adds the expression nor warns"
)

SQL_FUNCTION_BEFORE_TABLE = (
    'a LANGUAGE sql function whose body reads a table is created before that table (SQL bodies leave no '
    "pg_depend rows and check_function_bodies is on): 'relation public.t does not exist'"
)

FUNCTION_IN_DEFAULT_REPLACED = (
    'the plan says (not_handled) the default must be set again, but still runs DROP FUNCTION f(), which '
    'fails because the column default depends on it: the migration cannot run at all'
)

COLUMN_GRANT_ON_NEW_COLUMN_LOST = (
    'column privileges on a column added to an existing table are left out of the plan (only ADD COLUMN '
    'runs); the re-diff then wants to create them'
)

PUBLICATION_COLUMN_LIST = (
    'a publication column list (ADD TABLE t (id, a)) is not modelled: the table is published with every '
    'column, and nothing is reported'
)

PUBLICATION_ROW_FILTER = (
    'a publication row filter (ADD TABLE t WHERE ...) is not modelled: the table is published unfiltered,'
    ' and nothing is reported'
)

SCHEMA_GRANTS_IGNORED = (
    'schema privileges (GRANT USAGE ON SCHEMA) are not modelled and not reported in not_handled: the plan'
    ' is empty and the grant is silently lost'
)

MANAGED_EXTENSION_KEPT_SILENTLY = (
    'an extension in a Supabase-managed schema (extensions) that the desired state lacks is skipped on '
    'purpose, but silently: nothing in plan.not_handled says it stays installed'
)

SEQUENCE_RANGE_WITHOUT_RESTART = (
    'ALTER SEQUENCE ... MINVALUE/MAXVALUE/INCREMENT that puts the current value outside the new range '
    "fails ('RESTART value (1) cannot be less than MINVALUE (5)'); the plan has no RESTART and no hazard"
)

ENUM_TO_TEXT_FLAGGED = (
    'enum -> text loses nothing but is flagged DATA_LOSS (type_change_is_widening knows no enum)'
)

COMPOSITE_DROP_ATTRIBUTE_NO_HAZARD = (
    'dropping an attribute of a composite type used by a table loses the stored values but the plan '
    'carries no DATA_LOSS hazard'
)

COMPOSITE_ALTER_ATTRIBUTE_IN_USE = (
    'ALTER TYPE ... ALTER ATTRIBUTE TYPE on a composite used by a table column fails (cannot alter type '
    'because column uses it) and the plan neither rebuilds nor reports it'
)

DOMAIN_NOT_NULL_NO_HAZARD = (
    'setting NOT NULL on a domain used by columns with rows checks every row but the plan has no FAILURE '
    'hazard'
)

DOMAIN_CHECK_NO_HAZARD = (
    'adding a CHECK to a domain used by columns with rows validates every row but the plan has no FAILURE'
    ' hazard'
)

RANGE_TYPE_FUNCTIONS = (
    'a range type is reported in not_handled, but its constructor functions (floatrange(...), '
    'floatmultirange(...)) are treated as user functions: the plan creates them before the type exists '
    '(or drops them while the type needs them) and fails'
)

"""Engine bugs found by the round trips: the reasons of the strict xfails, one constant per bug.

Each constant is used by the cases it breaks. When a bug is fixed its cases pass, the strict xfail
turns that into a failure, and the constant (and its xfails) go.
"""

from __future__ import annotations

OWNED_SEQUENCE_CYCLE = (
    "dropping a serial column and its owned sequence: the plan sees a dependency cycle (plan.not_handled says "
    "'circular dependencies') and runs DROP COLUMN first, which drops the owned sequence with it, so the "
    "following DROP SEQUENCE fails: 'sequence \"t_n_seq\" does not exist'"
)

IDENTITY_TO_SERIAL_NAME_CLASH = (
    "CREATE SEQUENCE public.t_a_seq runs before DROP IDENTITY frees that name (the identity's own "
    "sequence is not modelled), so it fails with 'relation t_a_seq already exists'"
)

NOT_VALID_CONSTRAINT_VALIDATED = (
    'a constraint that is NOT VALID in the desired state (existing rows break it) is added with NOT VALID'
    ' then VALIDATEd, so the migration fails on rows that the desired state tolerates'
)


TYPE_CHANGE_UNDER_GENERATED_COLUMN = (
    "ALTER COLUMN a TYPE fails when a generated column uses a (PostgreSQL: 'cannot alter type of a column"
    " used by a generated column'); the plan neither drops/re-adds the expression nor warns"
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






COMPOSITE_ALTER_ATTRIBUTE_IN_USE = (
    'ALTER TYPE ... ALTER ATTRIBUTE TYPE on a composite used by a table column fails (cannot alter type '
    'because column uses it) and the plan neither rebuilds nor reports it'
)




"""What the engine does not do yet: the reasons of the strict xfails, one constant per limitation.

Each is reported to the user in `plan.not_handled` (the round trip still cannot match, hence the xfail).
When one is implemented its cases pass, the strict xfail turns that into a failure, and the constant goes.
"""

from __future__ import annotations

TYPE_CHANGE_UNDER_GENERATED_COLUMN = (
    "changing the type of a column that a generated column uses needs the generated column rebuilt"
    " (PostgreSQL: 'cannot alter type of a column used by a generated column'); the plan reports it in"
    " not_handled and leaves the type as it is"
)

PUBLICATION_COLUMN_LIST = (
    "a publication column list (ADD TABLE t (id, a)) is not compared: reported in not_handled, the table is"
    " published with every column"
)

PUBLICATION_ROW_FILTER = (
    "a publication row filter (ADD TABLE t WHERE ...) is not compared: reported in not_handled, the table is"
    " published unfiltered"
)

COMPOSITE_ALTER_ATTRIBUTE_IN_USE = (
    "ALTER TYPE ... ALTER ATTRIBUTE TYPE on a composite type that a table column uses needs the column"
    " rebuilt; the plan reports it in not_handled and changes nothing"
)

"""The built-in field types, one small registered class each, grouped by family.

Adding a type means adding one class to the module of its family: set its name, the
options it accepts, its widget template and filter operators, its value's shape, and
say how its value is parsed, described in JSON Schema and seen by conditions (and,
where it differs, shown and posted by its widget). Everything else (option checks,
defaults, empty input, schema constraints and their messages) comes from
`gongdan.forms.fields.FieldType`. A new family is a new module imported here. Only
modules here may name a type: no code elsewhere branches on a type's name.
"""

from . import choices, dates, numeric, references, text

__all__ = ["choices", "dates", "numeric", "references", "text"]

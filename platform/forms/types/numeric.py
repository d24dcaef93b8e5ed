"""Number field types: number, integer and decimal (exact, stored as text)."""

from __future__ import annotations

import re
from decimal import Context, Decimal
from typing import Any, ClassVar, Literal

from gongdan.rules.conditions import FieldInfo

from ..fields import FieldDef, FieldType, register_field_type
from ..shapes import FilterKind, ValueShape

__all__ = ["MAX_SAFE_INTEGER", "DecimalType", "IntegerType", "NumberType"]

# Whole numbers beyond this lose precision in JavaScript clients, so none is stored.
MAX_SAFE_INTEGER = 2**53 - 1
# Bounds that keep every accepted number exact in `_EXACT` and short when written out.
_MAX_EXPONENT = 30
_MAX_DIGITS = 40
_EXACT = Context(prec=2 * _MAX_DIGITS)
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,4})?")


def _decimal(value: Any) -> Decimal:
    """Exact number from form text or API JSON; raises ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be a number")
    if isinstance(value, int) and abs(value) > 10**31:
        raise ValueError("is too large")
    text = value.strip() if isinstance(value, str) else str(value)
    if not _NUMBER.fullmatch(text):
        raise ValueError("must be a number")
    number = Decimal(text)
    if number == 0:
        return Decimal(0)  # also turns -0 into 0
    if number.adjusted() > _MAX_EXPONENT:
        raise ValueError("is too large")
    if number.adjusted() < -_MAX_EXPONENT or len(number.as_tuple().digits) > _MAX_DIGITS:
        raise ValueError("has too many digits")
    return number


class _NumberLike(FieldType):
    allowed_params = frozenset({"max", "min"})
    filter_operators = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "empty")
    shape = ValueShape(FilterKind.NUMBER)
    json_type: ClassVar[Literal["integer", "number"]]

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.json_type}
        for param, keyword in (("min", "minimum"), ("max", "maximum")):
            if param in field.params:
                schema[keyword] = field.params[param]
        return schema

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo(self.json_type)


@register_field_type
class NumberType(_NumberLike):
    name = "number"
    template = "fields/number.html"
    json_type = "number"

    def parse(self, field: FieldDef, value: Any) -> Any:
        number = _decimal(value)
        if number == number.to_integral_value() and abs(number) <= MAX_SAFE_INTEGER:
            return int(number)
        return float(number)


@register_field_type
class IntegerType(_NumberLike):
    name = "integer"
    template = "fields/integer.html"
    json_type = "integer"

    def parse(self, field: FieldDef, value: Any) -> Any:
        number = _decimal(value)
        if number != number.to_integral_value():
            raise ValueError("must be a whole number")
        if abs(number) > MAX_SAFE_INTEGER:
            raise ValueError("is too large")
        return int(number)

    def filter_json(self, field: FieldDef, value: Any) -> Any:
        number: float = self.filter_operand(field, value)
        return int(number) if number.is_integer() else number


@register_field_type
class DecimalType(FieldType):
    """An exact amount, stored as text ("12.50") so no digit is lost to floating point.

    JSON Schema cannot compare numbers written as text, so min and max are checked here.
    """

    name = "decimal"
    template = "fields/decimal.html"
    allowed_params = frozenset({"max", "min", "scale"})
    filter_operators = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "empty")
    shape = ValueShape(FilterKind.NUMBER, stored_as_compared=False)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        scale = field.params.get("scale")
        if scale is None:  # normalised: no trailing zeros
            places = r"(\.[0-9]*[1-9])?"
        elif scale:
            places = rf"\.[0-9]{{{scale}}}"
        else:
            places = ""
        return {"type": "string", "format": "decimal", "pattern": rf"^-?[0-9]+{places}$"}

    def parse(self, field: FieldDef, value: Any) -> Any:
        number = _decimal(value)
        scale = field.params.get("scale")
        if scale is None:
            exact = number.normalize(_EXACT)
        else:
            exact = number.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
            if exact != number:
                plural = "" if scale == 1 else "s"
                raise ValueError(
                    f"must have at most {scale} decimal place{plural}"
                    if scale
                    else "must be a whole number"
                )
        if "min" in field.params and exact < _decimal(field.params["min"]):
            raise ValueError(f"must be at least {field.params['min']}")
        if "max" in field.params and exact > _decimal(field.params["max"]):
            raise ValueError(f"must be at most {field.params['max']}")
        return f"{exact:f}"

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("number")

    def condition_value(self, field: FieldDef, value: Any) -> Any:
        # Conditions compare numbers; "12.50" becomes the exact Decimal("12.50").
        return Decimal(value) if isinstance(value, str) else value

# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A small validator for the OpenAPI 3.0 subset that describes the Procountor API we use.

The contract uses only a handful of JSON-schema keywords, so a focused validator keeps the runtime
free of extra dependencies. Loading a document that uses anything else raises
:class:`UnsupportedContract`: a contract that grows must fail loudly here instead of being half
checked.

Validation is strict where JSON schema is lenient, on purpose: a property or a query parameter that
the contract does not name is reported (``UNKNOWN_PROPERTY`` / ``UNKNOWN_PARAMETER``), so that a
typo in a client payload is caught by the sandbox rather than silently ignored.

Each problem is a :class:`Violation` with the offending field (``transactions[0].account``) and a
validation code in the style of Procountor's error messages (``REQUIRED``, ``TOO_LONG``...).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

CONTRACT_RESOURCE = "procountor-openapi-subset.json"

# Keywords this validator enforces, and keywords that only annotate.
_CHECKED = {
    "type",
    "format",
    "$ref",
    "allOf",
    "properties",
    "required",
    "items",
    "enum",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
}
_ANNOTATIONS = {"description", "example", "default", "deprecated", "title"}
_TYPES = {"string", "integer", "number", "boolean", "object", "array"}
_FORMATS = {"int32", "int64", "date", "date-time", "email"}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

# Error statuses every operation may answer although the subset does not list them per operation
# (a request that breaks the contract, authentication, rights, throttling, server faults): e.g.
# PUT /invoices/{id}/approve declares no 400, yet a missing body must be refused somehow.
# Their body must be ``ErrorMessages``.
GENERIC_ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 429, 500, 502, 503, 504})

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class UnsupportedContract(ValueError):
    """The document uses an OpenAPI construct this validator does not implement."""


@dataclass(frozen=True)
class Violation:
    """One way a value breaks the contract."""

    field: str  # "" for the whole body; "transactions[0].account"; a parameter name
    code: str  # REQUIRED, INVALID_TYPE, TOO_LONG, ...
    detail: str = ""

    def __str__(self) -> str:
        where = self.field or "(body)"
        return f"{where}: {self.code}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # query, path, header
    required: bool
    schema: dict
    explode: bool = True


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, e.g. /ledgerreceipts/{receiptId}
    operation_id: str
    parameters: tuple[Parameter, ...]
    body_required: bool
    body_media_types: Mapping[str, dict]  # media type -> schema
    responses: Mapping[int, Mapping[str, dict] | None]  # status -> media type -> schema
    secured: bool
    _pattern: re.Pattern = field(repr=False, compare=False, default=None)

    def parameter(self, name: str, location: str = "query") -> Parameter | None:
        for param in self.parameters:
            if param.name == name and param.location == location:
                return param
        return None


@dataclass
class CheckedRequest:
    """A request matched to its operation, with its parameters and body converted to data."""

    operation: Operation
    path_params: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    violations: list[Violation]


class Contract:
    """An OpenAPI 3.0 document restricted to the keywords listed in ``_CHECKED``."""

    def __init__(self, document: Mapping) -> None:
        self.document = document
        self.schemas: Mapping[str, dict] = document.get("components", {}).get("schemas", {})
        self._flat: dict[int, tuple[Mapping, Mapping]] = {}
        self._check_supported()
        self.operations = self._read_operations()

    # -- loading -----------------------------------------------------------------------------

    @staticmethod
    @cache
    def packaged() -> Contract:
        """The Procountor contract shipped in ``nordic_billing/data`` (parsed once)."""
        text = (
            resources.files("nordic_billing")
            .joinpath("data", CONTRACT_RESOURCE)
            .read_text(encoding="utf-8")
        )
        return Contract(json.loads(text))

    def _check_supported(self) -> None:
        def walk(schema: Any, where: str) -> None:
            if not isinstance(schema, dict):
                raise UnsupportedContract(f"{where}: a schema must be an object")
            for key in schema:
                if key not in _CHECKED and key not in _ANNOTATIONS and not key.startswith("x-"):
                    raise UnsupportedContract(f"{where}: keyword {key!r} is not supported")
            if "type" in schema and schema["type"] not in _TYPES:
                raise UnsupportedContract(f"{where}: type {schema['type']!r} is not supported")
            if "format" in schema and schema["format"] not in _FORMATS:
                raise UnsupportedContract(f"{where}: format {schema['format']!r} is not supported")
            if "$ref" in schema:
                self._resolve_ref(schema["$ref"])
            for name, sub in schema.get("properties", {}).items():
                walk(sub, f"{where}.{name}")
            if "items" in schema:
                walk(schema["items"], f"{where}[]")
            for index, sub in enumerate(schema.get("allOf", [])):
                walk(sub, f"{where}.allOf[{index}]")

        for name, schema in self.schemas.items():
            walk(schema, name)
        for path, item in self.document.get("paths", {}).items():
            for method, operation in item.items():
                for param in operation.get("parameters", []):
                    if "$ref" in param:
                        raise UnsupportedContract(f"{method} {path}: parameter $ref")
                    walk(param.get("schema", {}), f"{method} {path} {param['name']}")
                body = operation.get("requestBody", {})
                for media, content in body.get("content", {}).items():
                    walk(content.get("schema", {}), f"{method} {path} body {media}")
                for status, response in operation.get("responses", {}).items():
                    for media, content in response.get("content", {}).items():
                        walk(content.get("schema", {}), f"{method} {path} {status} {media}")

    def _resolve_ref(self, ref: str) -> dict:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix) or ref[len(prefix) :] not in self.schemas:
            raise UnsupportedContract(f"unresolvable $ref {ref!r}")
        return self.schemas[ref[len(prefix) :]]

    def _read_operations(self) -> list[Operation]:
        operations = []
        default_security = bool(self.document.get("security"))
        for path, item in self.document.get("paths", {}).items():
            pattern = re.compile(
                "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
            )
            for method, spec in item.items():
                params = tuple(
                    Parameter(
                        name=p["name"],
                        location=p["in"],
                        required=bool(p.get("required")) or p["in"] == "path",
                        schema=p.get("schema", {}),
                        explode=p.get("explode", p.get("style", "form") == "form"),
                    )
                    for p in spec.get("parameters", [])
                )
                body = spec.get("requestBody") or {}
                responses: dict[int, Mapping[str, dict] | None] = {}
                for status, response in spec.get("responses", {}).items():
                    content = response.get("content")
                    responses[int(status)] = (
                        {media: c.get("schema", {}) for media, c in content.items()}
                        if content
                        else None
                    )
                operations.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        operation_id=spec.get("operationId", ""),
                        parameters=params,
                        body_required=bool(body.get("required")),
                        body_media_types={
                            media: c.get("schema", {})
                            for media, c in body.get("content", {}).items()
                        },
                        responses=responses,
                        secured=bool(spec.get("security", default_security)),
                        _pattern=pattern,
                    )
                )
        # Literal paths before templated ones, longer first, so /x/{id}/approve never loses.
        operations.sort(key=lambda op: (op.path.count("{"), -len(op.path)))
        return operations

    # -- schema validation ---------------------------------------------------------------------

    def validate(
        self, value: Any, schema: Mapping | str, path: str = "", *, strict: bool = True
    ) -> list[Violation]:
        """Return every violation of ``schema`` (a schema or a component name) by ``value``."""
        if isinstance(schema, str):
            schema = self.schemas[schema]
        out: list[Violation] = []
        self._validate(value, schema, path, out, strict)
        return out

    def _flatten(self, schema: Mapping) -> Mapping:
        """Resolve ``$ref`` and merge ``allOf`` into one schema (the subset never conflicts)."""
        if "$ref" not in schema and "allOf" not in schema:
            return schema
        cached = self._flat.get(id(schema))
        if cached is None:
            # Keep the source alive next to its result so that its id stays unique.
            cached = self._flat[id(schema)] = (schema, self._merge(schema))
        return cached[1]

    def _merge(self, schema: Mapping) -> Mapping:
        if "$ref" in schema:
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return self._flatten({"allOf": [self._resolve_ref(schema["$ref"])], **rest})
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self._flatten(part)
            for key, value in part.items():
                if key == "properties":
                    props = dict(merged.get("properties", {}))
                    for name, sub in value.items():
                        props[name] = {"allOf": [props[name], sub]} if name in props else sub
                    merged["properties"] = props
                elif key == "required":
                    merged["required"] = sorted(set(merged.get("required", ())) | set(value))
                elif key in _ANNOTATIONS:
                    merged.setdefault(key, value)
                elif key in merged and merged[key] != value:
                    raise UnsupportedContract(f"allOf branches disagree on {key!r}")
                else:
                    merged[key] = value
        return merged

    def _validate(
        self, value: Any, schema: Mapping, path: str, out: list[Violation], strict: bool
    ) -> None:
        schema = self._flatten(schema)
        kind = schema.get("type")
        if kind is None and "properties" in schema:
            kind = "object"
        if kind is not None and not _is_type(value, kind):
            out.append(Violation(path, "INVALID_TYPE", f"expected {kind}"))
            return
        if "enum" in schema and value not in schema["enum"]:
            out.append(Violation(path, "INVALID_ENUM_VALUE", f"{value!r} is not allowed"))
        fmt = schema.get("format")
        if fmt and not _format_ok(value, fmt):
            out.append(Violation(path, "INVALID_FORMAT", f"expected {fmt}"))
        if isinstance(value, str):
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(Violation(path, "TOO_LONG", f"max {schema['maxLength']} characters"))
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append(Violation(path, "TOO_SHORT", f"min {schema['minLength']} characters"))
        if _is_type(value, "number"):
            if "maximum" in schema and value > Decimal(str(schema["maximum"])):
                out.append(Violation(path, "TOO_LARGE", f"maximum {schema['maximum']}"))
            if "minimum" in schema and value < Decimal(str(schema["minimum"])):
                out.append(Violation(path, "TOO_SMALL", f"minimum {schema['minimum']}"))
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append(Violation(path, "TOO_FEW_ITEMS", f"at least {schema['minItems']}"))
            if "items" in schema:
                for index, item in enumerate(value):
                    self._validate(item, schema["items"], f"{path}[{index}]", out, strict)
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for name in schema.get("required", ()):
                if name not in value:
                    out.append(Violation(_join(path, name), "REQUIRED"))
            for name, item in value.items():
                if name in properties:
                    self._validate(item, properties[name], _join(path, name), out, strict)
                elif strict and properties:
                    out.append(Violation(_join(path, name), "UNKNOWN_PROPERTY"))

    # -- operations ----------------------------------------------------------------------------

    def find_operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving ``method path`` and the raw path parameters, or ``None``."""
        method = method.upper()
        for operation in self.operations:
            if operation.method != method:
                continue
            match = operation._pattern.match(path)
            if match:
                return operation, match.groupdict()
        return None

    def paths_for(self, path: str) -> list[str]:
        """Methods the contract defines for ``path`` (to tell 404 from 405)."""
        return [op.method for op in self.operations if op._pattern.match(path)]

    def check_request(
        self,
        operation: Operation,
        raw_path_params: Mapping[str, str],
        query_string: str,
        headers: Mapping[str, str],
        content_type: str | None,
        body: bytes,
    ) -> CheckedRequest:
        """Convert and validate one request against ``operation``."""
        violations: list[Violation] = []
        path_params = {
            name: self._convert_param(operation.parameter(name, "path"), raw, violations)
            for name, raw in raw_path_params.items()
        }
        query = self._check_query(operation, query_string, violations)
        header_values: dict[str, str] = {}
        lowered = {k.lower(): v for k, v in headers.items()}
        for param in operation.parameters:
            if param.location != "header":
                continue
            raw = lowered.get(param.name.lower())
            if raw is None:
                if param.required:
                    violations.append(Violation(param.name, "REQUIRED"))
                continue
            header_values[param.name] = self._convert_param(param, raw, violations)
        parsed_body = self._check_body(operation, content_type, body, violations)
        return CheckedRequest(operation, path_params, query, header_values, parsed_body, violations)

    def _check_query(
        self, operation: Operation, query_string: str, violations: list[Violation]
    ) -> dict[str, Any]:
        raw = parse_qs(query_string, keep_blank_values=True)
        result: dict[str, Any] = {}
        for name, values in raw.items():
            param = operation.parameter(name, "query")
            if param is None:
                violations.append(Violation(name, "UNKNOWN_PARAMETER"))
                continue
            is_array = param.schema.get("type") == "array"
            if len(values) > 1 and not (is_array and param.explode):
                violations.append(Violation(name, "DUPLICATE_PARAMETER"))
                continue
            if is_array and not param.explode:
                values = values[0].split(",")
            result[name] = (
                [self._convert_scalar(param.schema["items"], v, name, violations) for v in values]
                if is_array
                else self._convert_param(param, values[0], violations)
            )
        for param in operation.parameters:
            if param.location == "query" and param.required and param.name not in raw:
                violations.append(Violation(param.name, "REQUIRED"))
        return result

    def _convert_param(self, param: Parameter | None, raw: str, violations: list) -> Any:
        if param is None:
            return raw
        return self._convert_scalar(param.schema, raw, param.name, violations)

    def _convert_scalar(self, schema: Mapping, raw: str, name: str, violations: list) -> Any:
        """Turn one textual parameter into data and validate it."""
        kind = self._flatten(schema).get("type")
        value: Any = raw
        if kind == "integer":
            if not _INTEGER_RE.match(raw):
                violations.append(Violation(name, "INVALID_TYPE", "expected integer"))
                return raw
            value = int(raw)
        elif kind == "number":
            if not _NUMBER_RE.match(raw):
                violations.append(Violation(name, "INVALID_TYPE", "expected number"))
                return raw
            value = Decimal(raw)
        elif kind == "boolean":
            if raw not in ("true", "false"):
                violations.append(Violation(name, "INVALID_TYPE", "expected true or false"))
                return raw
            value = raw == "true"
        violations.extend(self.validate(value, schema, name))
        return value

    def _check_body(
        self,
        operation: Operation,
        content_type: str | None,
        body: bytes,
        violations: list[Violation],
    ) -> Any:
        if not operation.body_media_types:
            return None
        if not body:
            if operation.body_required:
                violations.append(Violation("", "BODY_REQUIRED"))
            return None
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in operation.body_media_types:
            violations.append(Violation("Content-Type", "UNSUPPORTED_MEDIA_TYPE", media))
            return None
        schema = operation.body_media_types[media]
        if media == "application/x-www-form-urlencoded":
            if content_type and ";" in content_type:
                # The token endpoint is documented to want the bare media type.
                violations.append(
                    Violation("Content-Type", "UNSUPPORTED_MEDIA_TYPE", "no parameters allowed")
                )
            try:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                violations.append(Violation("", "INVALID_FORM"))
                return None
            parsed: dict[str, str] = {}
            for name, values in form.items():
                if len(values) > 1:
                    violations.append(Violation(name, "DUPLICATE_PARAMETER"))
                parsed[name] = values[-1]
        else:
            try:
                parsed = json.loads(body.decode("utf-8"), parse_float=Decimal)
            except (UnicodeDecodeError, ValueError):
                violations.append(Violation("", "INVALID_JSON"))
                return None
        violations.extend(self.validate(parsed, schema))
        return parsed

    def check_response(
        self, operation: Operation | None, status: int, content_type: str | None, body: Any
    ) -> list[Violation]:
        """Validate a response (``body`` already parsed from JSON, ``None`` when empty)."""
        declared = operation.responses.get(status, ...) if operation else ...
        if declared is ...:
            if status not in GENERIC_ERROR_STATUSES:
                where = f"{operation.method} {operation.path}" if operation else "unknown path"
                return [Violation("", "UNDECLARED_STATUS", f"{status} for {where}")]
            declared = {"application/json": {"$ref": "#/components/schemas/ErrorMessages"}}
        if declared is None:
            return []  # the contract does not describe this body
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in declared:
            return [Violation("Content-Type", "UNDECLARED_MEDIA_TYPE", media)]
        return self.validate(body, declared[media])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return False


def _format_ok(value: Any, fmt: str) -> bool:
    if fmt in _INT_RANGES:
        if not _is_type(value, "integer"):
            return True  # int formats only restrict integers; "number" stays a number
        low, high = _INT_RANGES[fmt]
        return low <= value <= high
    if not isinstance(value, str):
        return True
    if fmt == "date":
        return parse_date(value) is not None
    if fmt == "date-time":
        return parse_date_time(value) is not None
    if fmt == "email":
        return bool(_EMAIL_RE.match(value))
    return True


def parse_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` as a date, or ``None``."""
    if not _DATE_RE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_date_time(text: str) -> dt.datetime | None:
    """An ISO 8601 date-time as Procountor writes it (zone optional), or ``None``."""
    match = _DATE_TIME_RE.match(text)
    if not match:
        return None
    date, hour, minute, second, fraction, zone = match.groups()
    try:
        result = dt.datetime.fromisoformat(
            f"{date}T{hour}:{minute}:{second or '00'}.{(fraction or '0')[:6].ljust(6, '0')}"
        )
    except ValueError:
        return None
    if zone:
        if zone == "Z":
            tz = dt.timezone.utc
        else:
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        result = result.replace(tzinfo=tz)
    return result

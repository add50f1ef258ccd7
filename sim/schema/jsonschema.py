"""The JSON Schema of the scenario format, for editors and external validators."""

from __future__ import annotations

from typing import Any

from .scenario import Scenario

__all__ = ["scenario_json_schema"]

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file, as written (before validation).

    Durations are accepted as numbers of minutes or as strings such as ``"12 h"``.
    """
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = SCHEMA_URI
    schema["title"] = "intersim scenario"
    _allow_duration_strings(schema)
    return schema


def _allow_duration_strings(node: Any) -> None:
    """Durations are floats after parsing; in a file they may also be strings like '8:59'."""
    if isinstance(node, dict):
        for value in node.values():
            _allow_duration_strings(value)
        props = node.get("properties", {})
        for name, prop in props.items():
            if prop.get("discriminator", {}).get("propertyName") == "dist":
                dist = {k: prop.pop(k) for k in ("oneOf", "discriminator")}
                prop["anyOf"] = [{"type": "number", "minimum": 0}, dist]
            if name not in _DURATION_FIELDS:
                continue
            if prop.get("type") == "number":
                prop.pop("type")
                bounds = {k: prop.pop(k) for k in ("minimum", "exclusiveMinimum") if k in prop}
                prop["anyOf"] = [{"type": "number", **bounds}, {"type": "string"}]
            elif any(alt.get("type") == "number" for alt in prop.get("anyOf", [])):
                prop["anyOf"].append({"type": "string"})
    elif isinstance(node, list):
        for item in node:
            _allow_duration_strings(item)


_DURATION_FIELDS = {
    "horizon",
    "warmup",
    "minutes",
    "start",
    "duration",
    "time",
    "spread",
    "max_travel",
    "request_delay",
    "every",
    "overtime",
}

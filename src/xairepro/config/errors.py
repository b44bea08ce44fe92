"""Config errors a person can act on: one line per problem with the key path and what is allowed, and
clear messages for outputs asked for outside the config.

Uses only what Snakemake itself depends on (pyyaml, jsonschema), so the workflow parses without the
project's environments.
"""
from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """The config cannot give what was asked; the message names the key to set."""


def validate_config(config: dict, schema_path: str | Path) -> None:
    """Snakemake's validation (which also fills in the schema's defaults); on failure a ConfigError
    listing every problem on its own line instead of jsonschema's dump of the whole schema."""
    from snakemake.utils import validate

    try:
        validate(config, str(schema_path))
    except Exception as error:  # snakemake wraps jsonschema's error in a WorkflowError
        problems = schema_problems(config, schema_path)
        if not problems:
            raise
        raise ConfigError("invalid config:\n" + "\n".join(f"  - {p}" for p in problems)) from None


def schema_problems(config: dict, schema_path: str | Path) -> list[str]:
    """Every violation of the schema as `key.path: what is wrong (allowed: ...)`, sorted by key."""
    import jsonschema
    import yaml
    from referencing import Registry, Resource

    schema_path = Path(schema_path).resolve()

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(yaml.safe_load(Path(uri.removeprefix("file://")).read_text()))

    schema = yaml.safe_load(schema_path.read_text())
    schema.setdefault("$id", schema_path.as_uri())
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, registry=Registry(retrieve=retrieve))
    problems = []
    for error in validator.iter_errors(config):
        # For "anyOf"/"oneOf" the deepest sub-error says what the user got wrong.
        leaf = min(error.context, key=lambda e: -len(e.absolute_path), default=error) if error.context else error
        path = ".".join(str(p) for p in leaf.absolute_path) or "(top level)"
        problems.append(f"{path}: {_describe(leaf)}")
    return sorted(set(problems))


def _describe(error) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        # a scalar key that became a list of runs (seed -> seeds) is named with its replacement
        renamed = [f"`{key}` is now `{key}s`, a list" for key in sorted(error.instance)
                   if key not in allowed and f"{key}s" in allowed]
        message = "; ".join([error.message, *renamed])
        return f"{message} (allowed keys: {', '.join(allowed)})" if allowed else message
    if error.validator == "enum":
        return f"{error.instance!r} is not allowed (allowed: {', '.join(map(repr, error.validator_value))})"
    if error.validator == "propertyNames":
        return f"{error.message}"
    return error.message


def lookup(settings: dict, name: str, what: str, key: str) -> dict:
    """settings[name], or a ConfigError that names the config key to set, e.g.
    lookup(GR["datasets"], "fb15k-237", "dataset", "gradient_rollback.datasets")."""
    if name not in settings:
        known = ", ".join(sorted(settings)) or "none"
        raise ConfigError(f"{what} {name!r} is not in the config: add its settings under `{key}` "
                          f"(configured: {known}), e.g. with --configfile config/paper.yaml")
    return settings[name]

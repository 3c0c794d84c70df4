"""Request bodies checked against Harbor's API description (swagger 2.0), small.

The stand-in's image carries Harbor v2.15.2's swagger.yaml (mkbundle.py copies it
from the reference directory into /opt/standin/swagger.yaml). Only what the
stand-in needs is read: `definitions` (types, properties, additionalProperties,
items, enum, maxLength, minimum/maximum, required) and the body parameter of an
operation. Errors read like Harbor's go-swagger layer:
- a JSON value of the wrong type: `parsing <param> body from "" failed, because json:
  cannot unmarshal <kind> into Go struct field <Model>.<path> of type <go type>`
  (Go's decoder ignores unknown keys, so do we);
- a rule broken: `validation failure list:\n<path> in body is required` and the like.
"""
import json
import os

try:
    import yaml
except ImportError:  # pragma: no cover - the image has python3-yaml
    yaml = None

SWAGGER_PATH = os.environ.get("HARBOR_STANDIN_SWAGGER") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                         "swagger.yaml")
_SPEC = {}


def spec():
    """The parsed swagger (once; C loader when there is one)."""
    if not _SPEC:
        with open(SWAGGER_PATH, "rb") as fh:
            loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
            _SPEC.update(yaml.load(fh, Loader=loader))
    return _SPEC


def definition(name):
    return spec()["definitions"][name]


def resolve(schema):
    """(schema without $ref, model name or None)."""
    name = None
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = definition(name)
    return schema or {}, name


def body_param(path, method):
    """The body parameter (name, required, schema) of an operation, or None."""
    op = spec()["paths"][path][method.lower()]
    for p in op.get("parameters", []):
        if isinstance(p, dict) and p.get("in") == "body":
            return p.get("name", "body"), bool(p.get("required")), p.get("schema", {})
    return None


class Invalid(Exception):
    """A body Harbor's API layer would refuse; str() is the message."""


def json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {json.dumps(value)}" if isinstance(value, float) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def go_type(schema, model=None):
    t = schema.get("type")
    if model and t in (None, "object") and schema.get("properties"):
        return f"models.{model}"
    if t == "string":
        return "string"
    if t == "integer":
        return "int32" if schema.get("format") == "int32" else "int64"
    if t == "number":
        return "float64"
    if t == "boolean":
        return "bool"
    if t == "array":
        items, m = resolve(schema.get("items") or {})
        return "[]" + ("*" if m else "") + go_type(items, m)
    if t == "object" and isinstance(schema.get("additionalProperties"), dict):
        inner, m = resolve(schema["additionalProperties"])
        return "map[string]" + (go_type(inner, m) if inner else "interface {}")
    return "interface {}"


def _check(value, schema, model, top, path, param, rules):
    schema, name = resolve(schema)
    model = name or model
    if value is None:  # JSON null: Go leaves the field unset
        return
    t = schema.get("type")
    if t in (None, "object") and not schema.get("properties") and not schema.get("additionalProperties"):
        return  # go-swagger makes this an interface{}: any JSON value
    ok = {"string": lambda v: isinstance(v, str),
          "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          "boolean": lambda v: isinstance(v, bool),
          "array": lambda v: isinstance(v, list),
          "object": lambda v: isinstance(v, dict)}.get(t or "object", lambda v: True)
    if not ok(value):
        field = f"Go struct field {top}.{path}" if path else "Go value"
        raise Invalid(f'parsing {param} body from "" failed, because json: cannot unmarshal {json_kind(value)} '
                      f"into {field} of type {go_type(schema, name)}")
    where = path or param
    if "enum" in schema and value not in schema["enum"]:
        rules.append(f"{where} in body should be one of {json.dumps(schema['enum'])}")
    if t == "string" and "maxLength" in schema and len(value) > schema["maxLength"]:
        rules.append(f"{where} in body should be at most {schema['maxLength']} chars long")
    if t in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            rules.append(f"{where} in body should be greater than or equal to {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            rules.append(f"{where} in body should be less than or equal to {schema['maximum']}")
    if t == "array":
        for i, item in enumerate(value):
            _check(item, schema.get("items") or {}, model, top, f"{path}[{i}]" if path else f"[{i}]", param, rules)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if value.get(key) is None:
                rules.append(f"{(path + '.') if path else ''}{key} in body is required")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key in props:
                _check(item, props[key], model, top, sub, param, rules)
            elif isinstance(extra, dict) and extra:
                _check(item, extra, model, top, sub, param, rules)


def check_body(raw, path, method):
    """Parse and check the body of `method path`; returns the JSON value (None: no body)."""
    param = body_param(path, method)
    if param is None:
        return None
    name, required, schema = param
    if not raw or not raw.strip():
        if required:
            raise Invalid(f"{name} in body is required")
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise Invalid(f'parsing {name} body from "" failed, because {exc}') from None
    _, model = resolve(schema)
    rules = []
    _check(value, schema, model, model or "body", "", name, rules)
    if rules:
        raise Invalid("validation failure list:\n" + "\n".join(rules))
    return value


def config_types():
    """Configurations (PUT) key -> swagger type; ConfigurationsResponse key -> item type (string/boolean/integer
    or object)."""
    put = {k: v.get("type", "object") for k, v in definition("Configurations")["properties"].items()}
    resp = {}
    for k, v in definition("ConfigurationsResponse")["properties"].items():
        item, _ = resolve(v)
        resp[k] = ((item.get("properties") or {}).get("value") or {}).get("type") if "$ref" in v else "object"
    return put, resp

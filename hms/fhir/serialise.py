"""A built fhir.resources model as JSON: the text `model_dump_json()` writes, for a fraction of
its CPU.

fhir.resources serialises through a Python wrap serializer on every element: each nested
element's `model_dump` works out again, field by field, its order, aliases and whether the field
is primitive. That walk was most of the CPU of a Patient served for the first time. Here is the
same walk over the validated model (element order, aliases, empty lists left out, primitive
extensions `_field`, comments, a resource's `resourceType`, decimals and uuids written as
fhir.resources writes them) with each class's plan worked out once; pydantic_core then encodes
the whole tree in one call, with the same inference for dates and times as the model's own
serializer. A value this walk does not know (base64 data, an unexpected type) gives the
resource to `model_dump_json()` itself, so the text is always fhir.resources' own.
"""

import decimal
import uuid
from functools import cache

import pydantic_core
from fhir_core.fhirabstractmodel import FHIR_COMMENTS_FIELD_NAME, FHIRAbstractModel
from fhir_core.utils import is_primitive_type


class _Unknown(Exception):
    """A value only fhir.resources' own serializer knows how to write."""


def resource_json(resource: FHIRAbstractModel) -> str:
    try:
        tree = _element(resource)
    except _Unknown:
        return resource.model_dump_json()
    return pydantic_core.to_json(tree, inf_nan_mode="null").decode()


@cache
def _plan(cls) -> tuple[bool, tuple]:
    """(is a resource, steps): per element in FHIR order, its field, JSON name, whether it is
    primitive, and its extension field and JSON name (`_field`) if it has one."""
    fields = cls.model_fields
    steps = []
    for name in cls.elements_sequence():
        key = cls.get_alias_mapping()[name]
        info = fields[key]
        primitive = is_primitive_type(info)
        ext = f"{key}__ext"
        ext_alias = (fields[ext].alias or ext) if primitive and ext in fields else None
        steps.append((key, info.alias or key, primitive, ext, ext_alias))
    return cls.has_resource_base(), tuple(steps)


def _element(model: FHIRAbstractModel) -> dict:
    is_resource, steps = _plan(type(model))
    out = {"resourceType": model.__resource_type__} if is_resource else {}
    values = model.__dict__
    for key, alias, primitive, ext, ext_alias in steps:
        value = values.get(key)
        if value is not None:
            value = _primitive(value) if primitive else _complex(value)
            if value is not None and value != []:
                out[alias] = value
        if ext_alias is not None:
            extension = values.get(ext)
            if extension is not None:
                extension = _complex(extension)
                if extension is not None and len(extension) > 0:
                    out[ext_alias] = extension
    comments = values.get(FHIR_COMMENTS_FIELD_NAME)
    if comments is not None:
        out[FHIR_COMMENTS_FIELD_NAME] = comments
    return out


def _complex(value):
    if isinstance(value, list):
        return [_complex(item) for item in value]
    if isinstance(value, FHIRAbstractModel):
        return _element(value)
    raise _Unknown


def _primitive(value):
    if isinstance(value, list):
        return [None if item is None else _primitive(item) for item in value]
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, decimal.Decimal):
        # FHIR decimals are JSON numbers: a whole number written without a fraction (120, 1E+3)
        # stays an integer, any other (72.0, 0.5) a float, as fhir.resources writes them.
        whole = value.is_finite() and value.as_tuple().exponent >= 0
        return int(value) if whole else float(value)
    if isinstance(value, uuid.UUID):
        return f"urn:uuid:{value}"
    if isinstance(value, (bytes, bytearray)):
        raise _Unknown
    return value  # dates, times, floats: pydantic_core writes them as the model would

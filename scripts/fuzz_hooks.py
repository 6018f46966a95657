"""Schemathesis hooks for `scripts/fuzz-api`.

`positive_data_acceptance` is told (scripts/schemathesis.toml) that a 422 can answer a request
the OpenAPI document allows, because some rules cannot be written in JSON Schema: a point must
lie in the area given, `from` comes before `to`, a key's unit must answer within its scope, a
file's rows must hold. This check keeps that allowance narrow: such a 422 must carry one of
the codes reserved for those rules (`ErrorCode::RULES` in crates/cityops-api/src/error.rs; a
Rust test holds this list equal to it). Any other 422 to schema-valid data means the document
failed to state a constraint the server enforces.
"""

import schemathesis

RULE_CODES = {
    "invalid_image",
    "unknown_reference",
    "outside_city",
    "location_mismatch",
    "invalid_period",
    "inconsistent_fields",
    "too_broad",
    "invalid_file",
    "idempotency_key_reused",
    "weak_password",
}


@schemathesis.check
def refused_only_by_stated_rules(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        error = response.json()["error"]
        code, field, message = error.get("code"), error.get("field"), error.get("message")
    except Exception:  # the response schema checks report a body of the wrong shape
        code, field, message = None, None, response.text[:200]
    if code not in RULE_CODES:
        raise AssertionError(
            f"a request the document allows was refused with 422 {code} on {field!r} "
            f"({message}): state the constraint in the document, or give the rule its own code"
        )
    return None

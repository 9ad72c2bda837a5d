"""Schemathesis hooks: what a real client does that a schema cannot say.

A client picks a new Idempotency-Key for each request (reusing one for another request is
refused with 422 by design, as the IETF draft says), so each call gets a fresh key.
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex

//! The error answers every operation can give, written into the OpenAPI document from what the
//! server does (the extractors, the idempotency layer, the body limit), so a client — or a
//! fuzzer — finds each status it may meet documented with the one error body.
//!
//! Per operation: 401 unless it is the sign-in; 403 for a role that may not use it (and a
//! cookie change without its CSRF token); 404 for a record in the path that does not exist or is
//! outside the user's units; 422 for a parameter or body that is not valid, naming it; 413 for a
//! body over the limit; on POST the `Idempotency-Key` header with 409 (the first request with
//! that key still runs) and 422 (the key was used for another request); 409 on changes that
//! clash with a record's state or another record; 412 where `If-Match` is taken; 429/503 for the
//! sign-in's limits.
//!
//! Constraints the server enforces everywhere are stated in the schemas too: text never holds
//! control characters (tabs and line breaks aside), `If-Match` is an ETag, `Idempotency-Key` is
//! 1–200 visible characters.

use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, PartialSchema, ToSchema};

/// The error body of every refused request.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation`, `not_found`, `stale`.
    pub code: String,
    /// What went wrong and what to do, in the user's language.
    pub message: String,
    /// The field or parameter at fault (its path in the body, e.g. `addresses[0].lat`).
    pub field: Option<String>,
    /// With 412: the record's current version, who changed it last and what they changed.
    pub current_version: Option<i64>,
    pub changed_by: Option<String>,
    pub changes: Option<serde_json::Value>,
}

pub struct ErrorResponses;

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

fn describe(status: &str) -> &'static str {
    match status {
        "400" => "the request is malformed",
        "401" => "not signed in, or the session ended",
        "403" => "the user's role may not do this (or a cookie change without its CSRF token)",
        "404" => "no such record, or it is outside the user's units",
        "405" => "the method is not allowed here",
        "409" => "clashes with the record's state or another record, or the first request with this Idempotency-Key still runs (Retry-After)",
        "412" => "the record changed since the ETag sent in If-Match",
        "413" => "the body is over the size limit",
        "422" => "a parameter or the body is not valid; `field` names it",
        "429" => "too many attempts; Retry-After says when to try again",
        "503" => "too busy right now; Retry-After says when to try again",
        _ => "refused",
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.schemas.insert("ErrorBody".into(), ErrorBody::schema());
        c.schemas
            .insert("ErrorDetail".into(), ErrorDetail::schema());
        for (name, schema) in c.schemas.iter_mut() {
            // The error body quotes what was refused; it states no constraint of its own.
            if !name.starts_with("Error") {
                no_control_characters(schema);
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops: [(HttpMethod, &mut Option<Operation>); 5] = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Delete, &mut item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op.as_mut() {
                    document(path, method, op);
                }
            }
        }
    }
}

/// Text without control characters (tab, line feed and carriage return allowed): what
/// [`crate::input`] refuses with 422 naming the field.
const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// Required text: as [`TEXT`], with at least one character that is not a space.
const REQUIRED_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// A parameter (query, path, header): one line, no control character at all.
const ONE_LINE: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// A calendar date as the server reads it (`2026-01-31`).
const DATE: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A time as the server reads it (`2026-01-31T09:00:00+08:00`, or a date for its midnight).
const DATE_TIME: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9]))?$";
/// `If-Match`: an ETag of a version, or `*`.
const ETAG: &str = "^(W/)?\"[0-9]+\"$|^\\*$";

fn is_text(t: &utoipa::openapi::schema::SchemaType) -> bool {
    use utoipa::openapi::schema::{SchemaType, Type};
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        _ => false,
    }
}

/// A phone as the server reads it: a mobile number, or a landline with its area code.
const PHONE: &str = "^(1[3-9][0-9]{9}|0(10|2[0-9])-?[0-9]{7,8}|0[3-9][0-9]{2}-?[0-9]{7,8})$";
/// A serial number: 4–40 letters, digits, `-`, `/`, `.`.
const SERIAL: &str = "^[A-Za-z0-9./-]{4,40}$";

/// States in `schema` (a property called `name`, if it is one) the rules the server applies to
/// every value of its kind: [`TEXT`] (or [`REQUIRED_TEXT`]) for plain strings, dates and times as
/// the server reads them, phones, serial numbers and coordinates by their field's name.
fn no_control_characters(schema: &mut RefOr<Schema>) {
    constrain(None, schema)
}

fn constrain(name: Option<&str>, schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            if is_text(&o.schema_type) && o.enum_values.is_none() && o.pattern.is_none() {
                use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
                o.pattern = match (&o.format, name) {
                    (None, Some("phone")) => Some(PHONE.into()),
                    (None, Some("serial")) => Some(SERIAL.into()),
                    (None, _) if o.min_length.unwrap_or(0) > 0 => Some(REQUIRED_TEXT.into()),
                    (None, _) => Some(TEXT.into()),
                    (Some(SchemaFormat::KnownFormat(KnownFormat::Date)), _) => Some(DATE.into()),
                    (Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)), _) => {
                        Some(DATE_TIME.into())
                    }
                    (Some(_), _) => None,
                };
            }
            let bound = match name {
                Some("lat" | "start_lat") => Some(90.0),
                Some("lng" | "start_lng") => Some(180.0),
                _ => None,
            };
            if let Some(b) = bound {
                o.minimum.get_or_insert(utoipa::Number::Float(-b));
                o.maximum.get_or_insert(utoipa::Number::Float(b));
            }
            for (k, p) in o.properties.iter_mut() {
                constrain(Some(k), p);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                // The items of `phones` are phones.
                let item = match name {
                    Some("phones") => Some("phone"),
                    _ => None,
                };
                constrain(item, items);
            }
        }
        Schema::OneOf(x) => x.items.iter_mut().for_each(|s| constrain(name, s)),
        Schema::AllOf(x) => x.items.iter_mut().for_each(|s| constrain(name, s)),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(|s| constrain(name, s)),
        _ => {}
    }
}

fn document(path: &str, method: HttpMethod, op: &mut Operation) {
    let sign_in = path.ends_with("/auth/login");
    let params = op.parameters.get_or_insert_with(Vec::new);
    params.retain(|p| p.name != "Idempotency-Key");
    for p in params.iter_mut() {
        if p.name == "If-Match" {
            p.schema = Some(RefOr::T(Schema::Object(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(ETAG))
                    .build(),
            )));
        } else if let Some(s) = p.schema.as_mut() {
            no_control_characters(s);
            if let RefOr::T(Schema::Object(o)) = s {
                if o.pattern.as_deref() == Some(TEXT) {
                    o.pattern = Some(ONE_LINE.into());
                }
            }
        }
    }
    // A record named in the path (or by the `id` of a query, as the audit trail takes it).
    let in_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path) || p.name == "id");
    let has_params = !params.is_empty();
    let if_match = params.iter().any(|p| p.name == "If-Match");
    let writes = !matches!(method, HttpMethod::Get);
    if matches!(method, HttpMethod::Post) {
        params.push(idempotency_key());
    }
    let body = op.request_body.is_some();
    let mut codes: Vec<&str> = Vec::new();
    if sign_in {
        codes.extend(["429", "503"]);
    } else {
        codes.extend(["401", "403"]);
    }
    if in_path {
        codes.push("404");
    }
    if has_params || body || writes {
        codes.push("422");
    }
    if body {
        codes.push("413");
    }
    if writes && !sign_in {
        codes.push("409");
    }
    if if_match {
        codes.push("412");
    }
    let responses = &mut op.responses.responses;
    for code in codes {
        responses
            .entry(code.to_string())
            .or_insert_with(|| error_response(describe(code)));
    }
    // Errors documented by hand get the error body too.
    for (code, r) in responses.iter_mut() {
        if !code.starts_with('4') && !code.starts_with('5') {
            continue;
        }
        if let RefOr::T(resp) = r {
            if resp.content.is_empty() {
                *r = error_response(if resp.description.is_empty() {
                    describe(code)
                } else {
                    &resp.description
                });
            }
        }
    }
}

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "retry safely: the same key and body give the first answer again (kept 24 h)",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(200))
                .pattern(Some("^[!-~]+$")),
        ))
        .build()
}

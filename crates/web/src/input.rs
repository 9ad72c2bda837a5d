//! What clients send, read defensively: the parsers' complaints turned into short phrases in the
//! user's language (never serde's English in a Chinese message), control characters found in
//! any string with the field's path, and bodies over [`crate::BODY_LIMIT`].

use std::error::Error as StdError;

use serde_json::Value;
use shouhou_app::AppError;
use shouhou_domain::{validate, DomainError, ValidationError};

/// A refusal of `field` for a reason in both languages.
fn invalid(field: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::invalid(
        field,
        ValidationError::Invalid {
            zh: zh.into(),
            en: en.into(),
        },
    )
}

/// What a parser expected (serde's "expected f64", axum's `i64`), as a phrase in both
/// languages; `None` when the words say nothing we know.
fn expected(what: &str) -> Option<(&'static str, &'static str)> {
    let w = what
        .trim()
        .trim_start_matches("a ")
        .trim_start_matches("an ");
    let w = w.rsplit("::").next().unwrap_or(w);
    Some(match w {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "integer" => ("应为整数", "expected a whole number"),
        "f32" | "f64" | "number" | "float" => ("应为数字", "expected a number"),
        "string" | "str" | "String" | "borrowed string" | "char" | "character" => (
            "应为文字（用双引号括起来）",
            "expected text (in double quotes)",
        ),
        "boolean" | "bool" => ("应为 true 或 false", "expected true or false"),
        "sequence" | "list" | "tuple" => ("应为列表 […]", "expected a list […]"),
        "map" | "object" => ("应为对象 {…}", "expected an object {…}"),
        _ if w.starts_with("struct ") => ("应为对象 {…}", "expected an object {…}"),
        _ if w.starts_with("tuple") || w.starts_with("array") => {
            ("应为列表 […]", "expected a list […]")
        }
        _ if w.starts_with("enum ") => ("应为可选值之一", "expected one of the allowed values"),
        _ if w.contains("date") || w.contains("time") || w.starts_with("Naive") => DATE,
        _ => return None,
    })
}

const DATE: (&str, &str) = (
    "日期或时间格式不对，应如 2026-01-31 或 2026-01-31T09:00:00+08:00",
    "not a date or time; write e.g. 2026-01-31 or 2026-01-31T09:00:00+08:00",
);

/// chrono's complaints about a date or time.
const DATE_ERRORS: &[&str] = &[
    "input contains invalid characters",
    "premature end of input",
    "trailing input",
    "input is out of range",
    "input is not enough for unique date and time",
    "no possible date and time matching input",
    "bad or unsupported format string",
];

/// Turns the message of one value that could not be read into a reason; `field` may change
/// (serde names a missing field at its parent).
pub fn reason_of(message: &str, field: &mut String) -> ValidationError {
    let m = message.split(" at line ").next().unwrap_or(message).trim();
    if let Some(rest) = m.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        *field = if field.is_empty() || field == "." {
            name.to_string()
        } else {
            format!("{field}.{name}")
        };
        return ValidationError::Required;
    }
    if let Some(rest) = m
        .strip_prefix("unknown variant `")
        .and_then(|r| r.split_once("`, expected "))
        .map(|(_, allowed)| allowed)
    {
        let allowed: Vec<&str> = rest
            .trim_start_matches("one of ")
            .split(['`', ',', ' '])
            .filter(|s| !s.is_empty() && *s != "or")
            .collect();
        return ValidationError::UnknownValue {
            allowed: allowed.join(", "),
        };
    }
    let phrase = |zh: &str, en: &str| ValidationError::Invalid {
        zh: zh.into(),
        en: en.into(),
    };
    for kind in ["invalid type: ", "invalid value: ", "invalid length "] {
        let Some((got, what)) = m
            .strip_prefix(kind)
            .and_then(|r| r.rsplit_once(", expected "))
        else {
            continue;
        };
        if got == "null" {
            return ValidationError::Required;
        }
        return match (kind, expected(what)) {
            ("invalid value: ", Some((zh, en))) if zh.contains("数") => phrase(
                &format!("数字超出范围（{zh}）"),
                &format!("the number is out of range ({en})"),
            ),
            ("invalid length ", Some((zh, en))) => phrase(
                &format!("条目数量不对（{zh}）"),
                &format!("wrong number of entries ({en})"),
            ),
            (_, Some((zh, en))) => phrase(zh, en),
            (_, None) => phrase("格式或取值不对", "wrong format or value"),
        };
    }
    if m.starts_with("unknown field `") {
        return phrase(
            "没有这个字段，请去掉",
            "there is no such field; leave it out",
        );
    }
    if m.starts_with("duplicate field `") {
        return phrase("重复出现，只能给一次", "appears twice; give it once");
    }
    if DATE_ERRORS.contains(&m) {
        return phrase(DATE.0, DATE.1);
    }
    // Parsing one value of a query string or form (Rust's `FromStr` messages).
    if m.starts_with("invalid digit")
        || m.starts_with("cannot parse integer")
        || m.starts_with("number too large")
        || m.starts_with("number too small")
    {
        return phrase("应为整数", "expected a whole number");
    }
    if m == "invalid float literal" {
        return phrase("应为数字", "expected a number");
    }
    if m.contains("`true` or `false`") {
        return phrase("应为 true 或 false", "expected true or false");
    }
    if m == "number out of range" {
        return phrase("数字超出范围", "the number is out of range");
    }
    tracing::debug!(
        message = m,
        "input refused for a reason without translation"
    );
    ValidationError::Invalid {
        zh: "格式或取值不对".into(),
        en: format!("wrong format or value ({m})"),
    }
}

/// A JSON body that could not be read as `T`, with the path of the field at fault.
pub fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    use serde_json::error::Category;
    let inner = e.inner();
    let mut field = e.path().to_string();
    let reason = match inner.classify() {
        Category::Eof => ValidationError::Invalid {
            zh: "不是完整的 JSON（内容在中途结束）".into(),
            en: "is not complete JSON (it ends too early)".into(),
        },
        Category::Syntax => ValidationError::Invalid {
            zh: format!(
                "不是有效的 JSON（第 {} 行第 {} 列附近）",
                inner.line(),
                inner.column()
            ),
            en: format!(
                "is not valid JSON (near line {}, column {})",
                inner.line(),
                inner.column()
            ),
        },
        Category::Data | Category::Io => reason_of(&inner.to_string(), &mut field),
    };
    if matches!(inner.classify(), Category::Eof | Category::Syntax) || field.is_empty() {
        field = "body".into();
    }
    if field == "." {
        field = "body".into();
    }
    AppError::Domain(DomainError::invalid(field, reason))
}

/// A query string or form that could not be read as `T`.
pub fn form_error(e: serde_path_to_error::Error<serde::de::value::Error>) -> AppError {
    let mut field = e.path().to_string();
    let reason = reason_of(&e.inner().to_string(), &mut field);
    if field.is_empty() || field == "." {
        field = "query".into();
    }
    AppError::Domain(DomainError::invalid(field, reason))
}

/// A path segment that could not be read; `keys` are the route's parameters in order.
pub fn path_error(rej: axum::extract::rejection::PathRejection, keys: &[String]) -> AppError {
    use axum::extract::path::ErrorKind;
    use axum::extract::rejection::PathRejection;
    let only = || keys.first().cloned().unwrap_or_else(|| "path".into());
    let PathRejection::FailedToDeserializePathParams(e) = rej else {
        return AppError::Internal(format!("path: {rej}"));
    };
    let (field, what) = match e.into_kind() {
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => (key, expected_type.to_string()),
        ErrorKind::ParseErrorAtIndex {
            index,
            expected_type,
            ..
        } => (
            keys.get(index).cloned().unwrap_or_else(only),
            expected_type.to_string(),
        ),
        ErrorKind::ParseError { expected_type, .. } => (only(), expected_type.to_string()),
        ErrorKind::InvalidUtf8InPathParam { key } => {
            return invalid(
                &key,
                "含有无法识别的字符",
                "contains bytes that are not UTF-8 text",
            )
        }
        ErrorKind::DeserializeError { key, message, .. } => {
            let mut field = key;
            let reason = reason_of(&message, &mut field);
            return AppError::invalid(&field, reason);
        }
        // A value serde refused with its own words (an unknown name of a vocabulary, say).
        ErrorKind::Message(message) => {
            let mut field = only();
            let reason = reason_of(&message, &mut field);
            return AppError::invalid(&field, reason);
        }
        other => return AppError::Internal(format!("path: {other}")),
    };
    match expected(&what) {
        Some((zh, en)) => invalid(&field, zh, en),
        None => invalid(&field, "格式或取值不对", "wrong format or value"),
    }
}

/// Path parameters that could not even be decoded.
pub fn raw_path_error(rej: axum::extract::rejection::RawPathParamsRejection) -> AppError {
    use axum::extract::rejection::RawPathParamsRejection;
    match rej {
        RawPathParamsRejection::InvalidUtf8InPathParam(_) => invalid(
            "path",
            "含有无法识别的字符",
            "contains bytes that are not UTF-8 text",
        ),
        other => AppError::Internal(format!("path: {other}")),
    }
}

/// Refuses a JSON document with a control character (other than tab and line breaks) in any
/// string or key; the error names the path of the value (`addresses[0].address`).
pub fn check_json_text(v: &Value) -> Result<(), AppError> {
    fn walk(v: &Value, path: &mut String) -> Result<(), DomainError> {
        match v {
            Value::String(s) => validate::text(s, if path.is_empty() { "body" } else { path }),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(v, &mut String::new()).map_err(AppError::from)
}

/// Refuses a query string or form with a control character; `multiline` keeps tabs and line
/// breaks (text areas of a form).
pub fn check_pairs(raw: &[u8], multiline: bool) -> Result<(), AppError> {
    for (k, v) in form_urlencoded::parse(raw) {
        let check = if multiline {
            validate::text
        } else {
            validate::one_line
        };
        check(&k, &k)?;
        check(&v, &k)?;
    }
    Ok(())
}

/// Whether reading a body failed because it is over the limit.
pub fn over_limit(e: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The error for a body that could not be read: over the limit, or broken off.
pub fn body_error(e: &(dyn StdError + 'static)) -> AppError {
    if over_limit(e) {
        AppError::TooLarge {
            max_bytes: crate::BODY_LIMIT,
        }
    } else {
        invalid(
            "body",
            "没有完整收到，请重试",
            "did not arrive whole; try again",
        )
    }
}

/// `3.0` is the whole number 3 in JSON (and in JSON Schema's `integer`): written as an integer so
/// that integer fields take it; fractions and numbers past i64 stay as they are.
pub fn whole_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(m) => m.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// The steps of a path that `serde_ignored` reports.
pub fn segments(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    use serde_ignored::Path;
    let mut out = match path {
        Path::Root => return Vec::new(),
        Path::Seq { parent, .. }
        | Path::Map { parent, .. }
        | Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    };
    match path {
        Path::Seq { index, .. } => out.push(Segment::Index(*index)),
        Path::Map { key, .. } => out.push(Segment::Key(key.clone())),
        _ => {}
    }
    out
}

/// Removes the value at `path` from `doc` (an ignored field).
pub fn remove(doc: &mut Value, path: &[Segment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = doc;
    for s in parents {
        let next = match (s, at) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => return,
        }
    }
    match (last, at) {
        (Segment::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => a[*i] = Value::Null,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shouhou_domain::Lang;

    fn json<T: serde::de::DeserializeOwned + std::fmt::Debug>(s: &str) -> AppError {
        let de = &mut serde_json::Deserializer::from_str(s);
        let r: Result<T, _> = serde_path_to_error::deserialize(de);
        json_error(r.unwrap_err())
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Point {
        lat: f64,
        day: chrono::NaiveDate,
        tags: Vec<String>,
        kind: shouhou_domain::Priority,
    }

    /// Words of serde's and chrono's English.
    fn parser_english(s: &str) -> bool {
        let s = s.to_lowercase();
        [
            "expected",
            "invalid",
            "premature",
            "eof",
            "line",
            "column",
            "missing",
            "variant",
            "type",
        ]
        .iter()
        .any(|w| s.contains(w))
    }

    #[test]
    fn parser_complaints_read_in_the_users_language() {
        for (body, field, zh_has) in [
            (r#"{"lat": "x"}"#, "lat", "应为数字"),
            (r#"{"lat": 1, "day": "2026-02"}"#, "day", "日期"),
            (
                r#"{"lat": 1, "day": "2026-02-01", "tags": "a"}"#,
                "tags",
                "列表",
            ),
            (
                r#"{"lat": 1, "day": "2026-02-01", "tags": []}"#,
                "kind",
                "必填",
            ),
            (
                r#"{"lat": 1, "day": "2026-02-01", "tags": [], "kind": "x"}"#,
                "kind",
                "可选",
            ),
            (r#"{"lat": 1, "#, "body", "完整"),
            (r#"{"lat": 1,, }"#, "body", "有效的 JSON"),
        ] {
            let e = json::<Point>(body);
            assert_eq!(e.field(), Some(field), "{body}");
            let zh = e.message(Lang::ZhCn);
            assert!(zh.contains(zh_has), "{body}: {zh}");
            assert!(!parser_english(&zh), "{body}: {zh}");
            assert!(!e.message(Lang::En).is_empty());
        }
    }

    #[test]
    fn control_characters_are_found_with_their_path() {
        let v: Value =
            serde_json::from_str(r#"{"addresses": [{"address": "a"}, {"address": "b\u0000"}]}"#)
                .unwrap();
        let e = check_json_text(&v).unwrap_err();
        assert_eq!(e.field(), Some("addresses[1].address"));
        let ok: Value = serde_json::from_str(r#"{"note": "line 1\r\n\tline 2"}"#).unwrap();
        assert!(check_json_text(&ok).is_ok());
        assert!(check_pairs(b"q=%00x", false).is_err());
        assert!(check_pairs(b"note=a%0D%0Ab", true).is_ok());
        assert!(check_pairs(b"q=a%0Ab", false).is_err());
    }
}

//! Validated values: `parse` returns the normalised value or a [`DomainError`] naming the field.

use chrono::NaiveDate;

use crate::error::{DomainError, ValidationError};

/// A Chinese phone number: an 11-digit mobile (1[3-9]…) or a landline with area code.
/// Normalised to digits, a landline as `0AAA-NNNNNNN`.
pub fn phone(raw: &str, field: &str) -> Result<String, DomainError> {
    let bad = || DomainError::invalid(field, ValidationError::PhoneFormat);
    let t = raw.trim();
    let t = t
        .strip_prefix("+86")
        .or_else(|| t.strip_prefix("0086"))
        .unwrap_or(t);
    if t.chars()
        .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' '))
    {
        return Err(bad());
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let b = digits.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Ok(digits);
    }
    if b.first() == Some(&b'0') && (10..=12).contains(&b.len()) {
        // Area codes: 010, 02X are three digits; the rest four.
        let area = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
        let local = &digits[area..];
        if (7..=8).contains(&local.len()) {
            return Ok(format!("{}-{}", &digits[..area], local));
        }
    }
    Err(bad())
}

/// A serial number: 4–40 of letters, digits, `-`, `/`, `.`; stored upper-case.
pub fn serial(raw: &str, field: &str) -> Result<String, DomainError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, ValidationError::Required));
    }
    let ok = (4..=40).contains(&t.chars().count())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/.".contains(c));
    if !ok {
        return Err(DomainError::invalid(field, ValidationError::SerialFormat));
    }
    Ok(t.to_ascii_uppercase())
}

pub fn latitude(v: f64, field: &str) -> Result<f64, DomainError> {
    if v.is_finite() && (-90.0..=90.0).contains(&v) {
        Ok(v)
    } else {
        Err(DomainError::invalid(field, ValidationError::LatitudeRange))
    }
}

pub fn longitude(v: f64, field: &str) -> Result<f64, DomainError> {
    if v.is_finite() && (-180.0..=180.0).contains(&v) {
        Ok(v)
    } else {
        Err(DomainError::invalid(field, ValidationError::LongitudeRange))
    }
}

/// A date that cannot lie after `today` (purchase, install).
pub fn not_future(d: NaiveDate, today: NaiveDate, field: &str) -> Result<NaiveDate, DomainError> {
    if d > today {
        Err(DomainError::invalid(field, ValidationError::DateInFuture))
    } else {
        Ok(d)
    }
}

pub fn months(v: i64, field: &str) -> Result<u32, DomainError> {
    u32::try_from(v)
        .ok()
        .filter(|m| *m <= 240)
        .ok_or_else(|| DomainError::invalid(field, ValidationError::MonthsRange))
}

/// Text that may span lines (notes, findings): refuses NUL and the other control characters,
/// keeps tabs and line breaks.
pub fn text(v: &str, field: &str) -> Result<(), DomainError> {
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(DomainError::invalid(
            field,
            ValidationError::ControlCharacter,
        ));
    }
    Ok(())
}

/// Text of one line (a search query, a query parameter, a path segment): refuses every control
/// character, line breaks included.
pub fn one_line(v: &str, field: &str) -> Result<(), DomainError> {
    if v.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            ValidationError::ControlCharacter,
        ));
    }
    Ok(())
}

/// Whether a search query is long enough: ≥ 4 digits, ≥ 2 CJK characters, or ≥ 3 other characters.
pub fn search_query_ok(q: &str) -> bool {
    let q = q.trim();
    let n = q.chars().count();
    if q.chars().all(|c| c.is_ascii_digit()) {
        return n >= 4;
    }
    let cjk = q.chars().filter(|c| is_cjk(*c)).count();
    cjk >= 2 || n >= 3
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(phone(" 138 1234 5678", "p").unwrap(), "13812345678");
        assert_eq!(phone("+8613812345678", "p").unwrap(), "13812345678");
        assert_eq!(phone("0571-87654321", "p").unwrap(), "0571-87654321");
        assert_eq!(phone("01087654321", "p").unwrap(), "010-87654321");
        for bad in ["12812345678", "1381234567", "abc", "", "0571-12"] {
            let e = phone(bad, "phones[0]").unwrap_err();
            assert_eq!(e.field(), Some("phones[0]"), "{bad}");
        }
    }

    #[test]
    fn serials() {
        assert_eq!(serial("ab12-x", "s").unwrap(), "AB12-X");
        assert!(serial("ab", "s").is_err());
        assert!(serial("a b c d", "s").is_err());
        assert!(matches!(
            serial("  ", "s"),
            Err(DomainError::Validation {
                reason: ValidationError::Required,
                ..
            })
        ));
    }

    #[test]
    fn coordinates_and_dates() {
        assert!(latitude(91.0, "lat").is_err());
        assert!(longitude(-181.0, "lng").is_err());
        assert!(latitude(f64::NAN, "lat").is_err());
        assert_eq!(latitude(30.25, "lat").unwrap(), 30.25);
        let today: NaiveDate = "2026-01-01".parse().unwrap();
        assert!(not_future("2026-01-02".parse().unwrap(), today, "d").is_err());
        assert!(not_future(today, today, "d").is_ok());
    }

    #[test]
    fn control_characters() {
        assert!(text("第一行\n\t第二行\r\n", "note").is_ok());
        for bad in ["a\0b", "\u{7}", "x\u{1b}[31m", "\u{85}"] {
            assert_eq!(
                text(bad, "note").unwrap_err().field(),
                Some("note"),
                "{bad:?}"
            );
        }
        assert!(one_line("王芳 138", "q").is_ok());
        assert!(one_line("a\nb", "q").is_err());
        assert!(one_line("\0x", "q").is_err());
    }

    #[test]
    fn query_lengths() {
        assert!(search_query_ok("1234"));
        assert!(!search_query_ok("123"));
        assert!(search_query_ok("王芳"));
        assert!(!search_query_ok("王"));
        assert!(search_query_ok("abc"));
        assert!(!search_query_ok("ab"));
    }
}

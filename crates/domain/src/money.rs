//! Money is CNY in fen (integer minor units), never floats (DOMAIN.md).

/// `68000` → `"680.00"`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// `"680"`, `"680.5"`, `"680.50"`, `"¥680"` → fen; `None` for anything else (negative amounts,
/// more than two decimals, not a number).
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches(['¥', '￥']).trim();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 10 {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_fen() {
        assert_eq!(yuan(68000), "680.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-1234), "-12.34");
        assert_eq!(parse_yuan("680"), Some(68000));
        assert_eq!(parse_yuan("¥680.5"), Some(68050));
        assert_eq!(parse_yuan("0.05"), Some(5));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-3"), None);
        assert_eq!(parse_yuan("abc"), None);
        assert_eq!(parse_yuan(""), None);
    }
}

//! Work-order numbers `WO-YYYYMMDD-NNNN`, numbered per day in the org's time zone.

use chrono::NaiveDate;

pub fn format(day: NaiveDate, seq: i64) -> String {
    format!("WO-{}-{:04}", day.format("%Y%m%d"), seq)
}

/// The sequence of a number `format` wrote.
pub fn seq(number: &str) -> Option<i64> {
    number.rsplit_once('-')?.1.parse().ok()
}

/// The counter key of a day.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// The number a lookup names, if it names one: `WO-20261201-0004`, any letter case, with or
/// without `WO-`, the sequence with or without its leading zeros.
pub fn from_query(q: &str) -> Option<String> {
    let t = q.trim().to_ascii_uppercase();
    let t = t.strip_prefix("WO").unwrap_or(&t);
    let t = t.strip_prefix('-').unwrap_or(t);
    let (day, seq) = t.split_once('-')?;
    if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part = |r: std::ops::Range<usize>| day.get(r).and_then(|p| p.parse::<u32>().ok());
    let day = NaiveDate::from_ymd_opt(i32::try_from(part(0..4)?).ok()?, part(4..6)?, part(6..8)?)?;
    if seq.is_empty() || seq.len() > 6 || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format(day, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_in_a_lookup() {
        let n = Some("WO-20261201-0004".to_string());
        assert_eq!(super::from_query("WO-20261201-0004"), n);
        assert_eq!(super::from_query(" wo-20261201-4 "), n);
        assert_eq!(super::from_query("20261201-0004"), n);
        assert_eq!(super::from_query("13812345678"), None);
        assert_eq!(super::from_query("WO-20261301-0004"), None);
        assert_eq!(super::from_query("WO-20261201-"), None);
    }

    #[test]
    fn formats_with_four_digits_at_least() {
        let d = "2026-11-22".parse().unwrap();
        assert_eq!(super::format(d, 7), "WO-20261122-0007");
        assert_eq!(super::format(d, 12345), "WO-20261122-12345");
        assert_eq!(super::seq(&super::format(d, 7)), Some(7));
        assert_eq!(super::seq(&super::format(d, 12345)), Some(12345));
        assert_eq!(super::seq("WO-20261122-"), None);
    }
}

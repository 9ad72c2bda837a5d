//! Work-order numbers `WO-YYYYMMDD-NNNN`, numbered per day in the org's time zone.

use chrono::NaiveDate;

pub fn format(day: NaiveDate, seq: i64) -> String {
    format!("WO-{}-{:04}", day.format("%Y%m%d"), seq)
}

/// The counter key of a day.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_with_four_digits_at_least() {
        let d = "2026-11-22".parse().unwrap();
        assert_eq!(super::format(d, 7), "WO-20261122-0007");
        assert_eq!(super::format(d, 12345), "WO-20261122-12345");
    }
}

//! The warranty decision (DOMAIN.md "Warranty policy").

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::kinds::{WarrantyDecision, WarrantyStart};

/// The terms a decision needs; the store's policy record carries more (name, manufacturer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyTerms {
    pub whole_unit_months: u32,
    pub main_parts_months: u32,
    pub labour_months: u32,
    pub starts_from: WarrantyStart,
}

/// When each cover ends (the last day covered), for display and decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WarrantyCover {
    pub starts_on: NaiveDate,
    pub whole_unit_until: NaiveDate,
    pub main_parts_until: NaiveDate,
    pub labour_until: NaiveDate,
}

impl WarrantyTerms {
    /// The start is the purchase date, unless the policy says install date and one is set.
    pub fn start(&self, purchase: NaiveDate, install: Option<NaiveDate>) -> NaiveDate {
        match (self.starts_from, install) {
            (WarrantyStart::Install, Some(d)) => d,
            _ => purchase,
        }
    }

    pub fn cover(&self, purchase: NaiveDate, install: Option<NaiveDate>) -> WarrantyCover {
        let start = self.start(purchase, install);
        let until = |m: u32| {
            start
                .checked_add_months(Months::new(m))
                .and_then(|d| d.pred_opt())
                .unwrap_or(NaiveDate::MAX)
        };
        WarrantyCover {
            starts_on: start,
            whole_unit_until: until(self.whole_unit_months),
            main_parts_until: until(self.main_parts_months.max(self.whole_unit_months)),
            labour_until: until(self.labour_months),
        }
    }

    /// The decision on `on` (the day the order is created, in the org's time zone).
    pub fn decide(
        &self,
        purchase: NaiveDate,
        install: Option<NaiveDate>,
        on: NaiveDate,
    ) -> WarrantyDecision {
        let c = self.cover(purchase, install);
        if on < c.starts_on {
            // A device is covered from its start; an order before it (data entry) counts as in.
            return WarrantyDecision::InWarranty;
        }
        if on <= c.whole_unit_until {
            WarrantyDecision::InWarranty
        } else if on <= c.main_parts_until {
            WarrantyDecision::MainPartsOnly
        } else {
            WarrantyDecision::OutOfWarranty
        }
    }
}

/// Whether a warranty policy of `manufacturer` fits a product of `brand`: the manufacturer names
/// the brand (海尔 fits "海尔（中国）"), letter case, spaces and a bracketed suffix aside. A 格力
/// policy does not fit a 海尔 fridge.
pub fn fits_brand(manufacturer: &str, brand: &str) -> bool {
    fn core(s: &str) -> String {
        let cut = s.find(['（', '(']).unwrap_or(s.len());
        s[..cut]
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    }
    let (m, b) = (core(manufacturer), core(brand));
    !m.is_empty() && !b.is_empty() && (m.contains(&b) || b.contains(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn policies_fit_their_brand_only() {
        assert!(fits_brand("海尔（中国）", "海尔"));
        assert!(fits_brand("海尔", "海尔"));
        assert!(fits_brand("TCL (China)", "tcl"));
        assert!(!fits_brand("格力（中国）", "海尔"));
        assert!(!fits_brand("", "海尔"));
    }

    fn terms(start: WarrantyStart) -> WarrantyTerms {
        WarrantyTerms {
            whole_unit_months: 12,
            main_parts_months: 36,
            labour_months: 12,
            starts_from: start,
        }
    }

    #[test]
    fn whole_unit_then_main_parts_then_out() {
        let t = terms(WarrantyStart::Purchase);
        let p = d("2025-03-15");
        assert_eq!(
            t.decide(p, None, d("2026-03-14")),
            WarrantyDecision::InWarranty
        );
        assert_eq!(
            t.decide(p, None, d("2026-03-15")),
            WarrantyDecision::MainPartsOnly
        );
        assert_eq!(
            t.decide(p, None, d("2028-03-14")),
            WarrantyDecision::MainPartsOnly
        );
        assert_eq!(
            t.decide(p, None, d("2028-03-15")),
            WarrantyDecision::OutOfWarranty
        );
    }

    #[test]
    fn install_date_counts_only_when_the_policy_says_so() {
        let p = d("2025-01-10");
        let i = Some(d("2025-02-20"));
        let on = d("2026-02-01");
        assert_eq!(
            terms(WarrantyStart::Purchase).decide(p, i, on),
            WarrantyDecision::MainPartsOnly
        );
        assert_eq!(
            terms(WarrantyStart::Install).decide(p, i, on),
            WarrantyDecision::InWarranty
        );
        // Policy says install date but none is set: purchase date.
        assert_eq!(
            terms(WarrantyStart::Install).decide(p, None, on),
            WarrantyDecision::MainPartsOnly
        );
    }

    #[test]
    fn month_ends_are_clamped() {
        let t = terms(WarrantyStart::Purchase);
        let c = t.cover(d("2024-01-31"), None);
        assert_eq!(c.whole_unit_until, d("2025-01-30"));
        let c = t.cover(d("2024-02-29"), None);
        assert_eq!(c.whole_unit_until, d("2025-02-27"));
    }
}

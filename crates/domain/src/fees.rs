//! Who pays for what on a visit, from the order's warranty decision (DOMAIN.md "Money"): in
//! warranty the manufacturer pays everything; main-parts-only, the manufacturer pays the main parts
//! and the customer the rest (a split); out of warranty the customer pays everything.

use crate::kinds::WarrantyDecision;

crate::str_enum!(
    Payer {
        Customer = "customer" / "客户" / "Customer",
        Manufacturer = "manufacturer" / "厂家" / "Manufacturer",
    }
);

crate::str_enum!(
    ChargeKind {
        Labour = "labour" / "人工费" / "Labour",
        Travel = "travel" / "上门费" / "Travel",
    }
);

/// A line of a visit's bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Labour,
    Travel,
    /// A part; `main` when the policy lists it among the main parts.
    Part {
        main: bool,
    },
}

pub fn payer(decision: WarrantyDecision, item: Item) -> Payer {
    match (decision, item) {
        (WarrantyDecision::InWarranty, _) => Payer::Manufacturer,
        (WarrantyDecision::MainPartsOnly, Item::Part { main: true }) => Payer::Manufacturer,
        _ => Payer::Customer,
    }
}

/// Labour and travel fee of one visit (fen).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Fee {
    pub labour_fen: i64,
    pub travel_fen: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use WarrantyDecision::*;

    #[test]
    fn who_pays() {
        for item in [
            Item::Labour,
            Item::Travel,
            Item::Part { main: true },
            Item::Part { main: false },
        ] {
            assert_eq!(payer(InWarranty, item), Payer::Manufacturer);
            assert_eq!(payer(OutOfWarranty, item), Payer::Customer);
        }
        assert_eq!(
            payer(MainPartsOnly, Item::Part { main: true }),
            Payer::Manufacturer
        );
        assert_eq!(
            payer(MainPartsOnly, Item::Part { main: false }),
            Payer::Customer
        );
        assert_eq!(payer(MainPartsOnly, Item::Labour), Payer::Customer);
        assert_eq!(payer(MainPartsOnly, Item::Travel), Payer::Customer);
    }
}

//! The service report's money and evidence: the store's fee rules, labour and travel charged on
//! every finished visit as `app::service` prices it (the warranty decision says who pays), parts
//! from the product's list on the repairs that needed them (main parts per the policy), photos on
//! the last days' reports, and the manager's review (now and then returned first).

use std::io::Cursor;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::fees::{self, ChargeKind, Item};
use shouhou_domain::{Category, VisitOutcome, WorkOrderType};
use shouhou_store::service::{replace_fee_rules, FeeRule};
use shouhou_store::{args, Arg, Tx};

use super::archive::Device;
use super::names::{parts_of, policy_terms, PRODUCTS};
use super::orders::Order;
use super::org::Org;
use super::Calendar;
use crate::{AppError, Result};

/// The manager's sign-off of a completed order: returned with a comment first, sometimes.
#[derive(Debug, Clone, Copy)]
pub struct Review {
    pub returned: Option<DateTime<Utc>>,
    pub approved: DateTime<Utc>,
}

/// The manager reviews within the day, in office hours; one report in 25 goes back first.
pub fn review(rng: &mut StdRng, cal: &Calendar, completed: DateTime<Utc>) -> Review {
    let first = cal.office(
        completed + Duration::minutes(rng.gen_range(40..20 * 60)),
        rng,
    );
    if rng.gen_bool(0.04) {
        let again = cal.office(first + Duration::minutes(rng.gen_range(180..30 * 60)), rng);
        Review {
            returned: Some(first),
            approved: again,
        }
    } else {
        Review {
            returned: None,
            approved: first,
        }
    }
}

/// The store's fee rules: the defaults, dearer for air conditioning and copiers.
pub async fn fee_rules(tx: &mut Tx) -> Result<Vec<FeeRule>> {
    let rules: Vec<FeeRule> = [
        ("repair_onsite", "*", 8000, 3000),
        ("repair_onsite", "refrigeration", 10000, 3000),
        ("repair_onsite", "copier", 15000, 5000),
        ("repair_onsite", "printer", 6000, 3000),
        ("repair_onsite", "small_appliance", 4000, 2000),
        ("install", "*", 5000, 0),
        ("install", "refrigeration", 15000, 0),
        ("install", "copier", 20000, 0),
        ("replacement", "*", 5000, 3000),
        ("maintenance", "*", 6000, 2000),
        ("maintenance", "refrigeration", 8000, 0),
        ("maintenance", "copier", 12000, 0),
        ("inspection", "*", 3000, 2000),
        ("repair_phone", "*", 0, 0),
    ]
    .iter()
    .map(|(kind, category, labour, travel)| FeeRule {
        id: 0,
        kind: kind.to_string(),
        category: category.to_string(),
        labour_fen: *labour,
        travel_fen: *travel,
    })
    .collect();
    replace_fee_rules(tx, &rules).await?;
    Ok(rules)
}

/// Rows of charges, part lines, photos and reviews.
#[derive(Default)]
pub struct Rows {
    pub charges: Vec<Vec<Arg>>,
    pub parts: Vec<Vec<Arg>>,
    pub photos: Vec<Vec<Arg>>,
    pub reviews: Vec<Vec<Arg>>,
}

pub const CHARGE_COLS: &[&str] = &["work_order_id", "visit_id", "kind", "amount_fen", "payer"];
pub const PART_COLS: &[&str] = &[
    "work_order_id",
    "visit_id",
    "client_key",
    "name",
    "qty",
    "unit_price_fen",
    "main_part",
    "payer",
    "created_by",
    "created_at",
];
pub const PHOTO_COLS: &[&str] = &[
    "work_order_id",
    "visit_id",
    "client_key",
    "content_type",
    "width",
    "height",
    "bytes",
    "created_by",
    "created_at",
];
pub const REVIEW_COLS: &[&str] = &["work_order_id", "decision", "comment", "reviewer_id", "at"];

pub struct Money {
    rules: Vec<FeeRule>,
    /// A few small JPEGs (nameplate, fault) reused on the recent reports.
    pictures: Vec<Vec<u8>>,
}

const PICTURE: (u32, u32) = (320, 240);

fn picture(shade: u8) -> Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(PICTURE.0, PICTURE.1, |x, y| {
        let plate = (60..260).contains(&x) && (70..170).contains(&y);
        let line = plate && (y - 70) % 24 < 3 && (80..240).contains(&x);
        match (plate, line) {
            (_, true) => image::Rgb([40, 40, 48]),
            (true, false) => image::Rgb([200, 204, 210]),
            _ => image::Rgb([shade, shade / 2 + 60, 90 + (x % 32) as u8]),
        }
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&img)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(out.into_inner())
}

impl Money {
    pub fn new(rules: Vec<FeeRule>) -> Result<Money> {
        Ok(Money {
            rules,
            pictures: vec![picture(90)?, picture(140)?, picture(190)?],
        })
    }

    /// The part a repair used on visit `i`, if any: the one it waited for after a visit that
    /// needed parts, else now and then a small part; toner and rollers on copier maintenance.
    fn part(rng: &mut StdRng, o: &Order, cat: Category, i: usize) -> Option<(&'static str, i64)> {
        let list = parts_of(cat);
        let waited = i > 0 && o.visits[i - 1].outcome == VisitOutcome::NeedsParts;
        let dear: Vec<_> = list.iter().filter(|p| p.1 >= 9000).collect();
        let cheap: Vec<_> = list.iter().filter(|p| p.1 < 30000).collect();
        let p = match o.kind {
            WorkOrderType::RepairOnsite if waited && !dear.is_empty() => {
                *dear[rng.gen_range(0..dear.len())]
            }
            WorkOrderType::RepairOnsite if rng.gen_bool(0.35) && !cheap.is_empty() => {
                *cheap[rng.gen_range(0..cheap.len())]
            }
            WorkOrderType::Maintenance
                if matches!(cat, Category::Copier | Category::Printer) && rng.gen_bool(0.6) =>
            {
                **cheap.iter().find(|p| p.0 == "粉盒").or(cheap.first())?
            }
            _ => return None,
        };
        Some(p)
    }

    /// The money and evidence of one order's finished visits (`visit_ids` in visit order).
    #[allow(clippy::too_many_arguments)]
    pub fn rows(
        &self,
        rng: &mut StdRng,
        o: &Order,
        dev: &Device,
        visit_ids: &[i64],
        org: &Org,
        cal: &Calendar,
        out: &mut Rows,
    ) {
        let cat = dev.category();
        let main_parts = policy_terms(PRODUCTS[dev.product].policy).3;
        let fee = crate::service::fee_for(&self.rules, o.kind, Some(cat));
        let doer = o.doer(org);
        for (i, (v, id)) in o.visits.iter().zip(visit_ids).enumerate() {
            let (Some(arrived), Some(left)) = (v.arrived, v.left) else {
                continue;
            };
            for (kind, amount, item) in [
                (ChargeKind::Labour, fee.labour_fen, Item::Labour),
                (ChargeKind::Travel, fee.travel_fen, Item::Travel),
            ] {
                if amount > 0 {
                    let payer = fees::payer(o.warranty, item);
                    out.charges
                        .push(args![o.id, *id, kind.as_str(), amount, payer.as_str()]);
                }
            }
            if v.outcome == VisitOutcome::Fixed {
                if let Some((name, price)) = Self::part(rng, o, cat, i) {
                    let main = main_parts.contains(&name);
                    let qty: i64 = if price < 5000 { rng.gen_range(1..3) } else { 1 };
                    let payer = fees::payer(o.warranty, Item::Part { main });
                    let at = (left - Duration::minutes(rng.gen_range(1..10))).max(arrived);
                    out.parts.push(args![
                        o.id,
                        *id,
                        format!("demo-{id}-1"),
                        name,
                        qty,
                        price,
                        main,
                        payer.as_str(),
                        doer,
                        at
                    ]);
                }
            }
            let recent = left > cal.now - Duration::days(10);
            if recent && matches!(v.outcome, VisitOutcome::Fixed | VisitOutcome::NeedsParts) {
                let n = if rng.gen_bool(0.4) { 2 } else { 1 };
                for k in 0..n {
                    let at = (arrived + Duration::minutes(rng.gen_range(3..15) + 10 * k)).min(left);
                    let bytes = self.pictures[rng.gen_range(0..self.pictures.len())].clone();
                    out.photos.push(args![
                        o.id,
                        *id,
                        format!("demo-photo-{id}-{k}"),
                        "image/jpeg",
                        i64::from(PICTURE.0),
                        i64::from(PICTURE.1),
                        bytes,
                        doer,
                        at
                    ]);
                }
            }
        }
        if let Some(r) = o.review {
            if let Some(t) = r.returned.filter(|t| *t <= cal.now) {
                out.reviews.push(args![
                    o.id,
                    "returned",
                    Some("请补充故障现象和更换配件的说明"),
                    org.staff.manager,
                    t
                ]);
            }
            if r.approved <= cal.now {
                out.reviews.push(args![
                    o.id,
                    "approved",
                    None::<String>,
                    org.staff.manager,
                    r.approved
                ]);
            }
        }
    }
}

//! The archive: warranty policies, the product range, customers with phones and addresses, and
//! the installed base. Most devices were bought years ago; a few were bought during the history
//! (each of those that needs installing gets its install order on the day of purchase, and its
//! install date once that order is done).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::warranty::WarrantyTerms;
use shouhou_domain::{Category, Tier, WarrantyStart};
use shouhou_store::search::customer_doc;
use shouhou_store::{args, Tx};

use super::names::{
    parts_json, policy_terms, starts_at_install, to_base36, weighted, Names, DISTRICTS, PRODUCTS,
};
use super::{Calendar, Progress, ORDERS_PER_DAY};
use crate::{App, Result};

/// Share of the orders that are installs of devices bought during the history.
pub const INSTALL_SHARE: f64 = 0.18;
/// Devices kept in memory for the history (the rest of a large store has no history).
const KEPT: f64 = 60_000.0;

/// A device the history may use.
pub struct Device {
    pub id: i64,
    pub customer: i64,
    pub store: i64,
    pub product: usize,
    pub address: i64,
    pub lat: f64,
    pub lng: f64,
    pub purchase: NaiveDate,
    /// Set for devices installed before the history and by the history's install orders.
    pub install: Option<NaiveDate>,
    pub tier: Tier,
}

impl Device {
    pub fn category(&self) -> Category {
        PRODUCTS[self.product].category
    }

    /// The warranty decision for an order created on `on`.
    pub fn warranty(&self, on: NaiveDate) -> shouhou_domain::WarrantyDecision {
        let key = PRODUCTS[self.product].policy;
        let (whole, main, labour, _) = policy_terms(key);
        let terms = WarrantyTerms {
            whole_unit_months: whole as u32,
            main_parts_months: main as u32,
            labour_months: labour as u32,
            starts_from: if starts_at_install(key) {
                WarrantyStart::Install
            } else {
                WarrantyStart::Purchase
            },
        };
        terms.decide(self.purchase, self.install, on)
    }
}

/// Whether a device of the category is installed by a technician after purchase.
pub fn needs_install(c: Category) -> bool {
    !matches!(c, Category::Printer | Category::SmallAppliance)
}

pub struct Base {
    pub devices: Vec<Device>,
    pub n_devices: usize,
}

/// Sales by month (618 in June, 双11 in November, the run-up to the Spring Festival).
const SALES: [f64; 12] = [1.2, 0.7, 0.8, 0.9, 1.1, 1.5, 1.2, 1.0, 0.9, 1.0, 1.4, 0.9];

/// Writes warranty policies and products; returns the policy id by (brand, policy key).
pub async fn catalog(tx: &mut Tx, now: DateTime<Utc>) -> Result<HashMap<(String, String), i64>> {
    let mut ids: HashMap<(String, String), i64> = HashMap::new();
    let mut rows = Vec::new();
    for p in PRODUCTS {
        let k = (p.brand.to_string(), p.policy.to_string());
        if ids.contains_key(&k) {
            continue;
        }
        let id = ids.len() as i64 + 1;
        let (whole, main, labour, parts) = policy_terms(p.policy);
        rows.push(args![
            id,
            format!("{} 整机{}个月 主要部件{}个月", p.brand, whole, main),
            format!("{}（中国）", p.brand),
            whole,
            main,
            serde_json::json!(parts).to_string(),
            labour,
            if starts_at_install(p.policy) {
                "install"
            } else {
                "purchase"
            },
            now,
            now
        ]);
        ids.insert(k, id);
    }
    tx.bulk_insert(
        "warranty_policies",
        &[
            "id",
            "name",
            "manufacturer",
            "whole_unit_months",
            "main_parts_months",
            "main_parts",
            "labour_months",
            "starts_from",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    let rows = PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, p)| {
            args![
                i as i64 + 1,
                p.brand,
                p.model.split(' ').next().unwrap_or(p.model),
                p.category.as_str(),
                format!("{} {}", p.brand, p.model),
                parts_json(p.category).to_string(),
                now,
                now
            ]
        })
        .collect();
    tx.bulk_insert(
        "products",
        &[
            "id",
            "brand",
            "model",
            "category",
            "name",
            "parts",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    Ok(ids)
}

/// Writes customers, phones, addresses, devices and their lookup documents in chunks.
#[allow(clippy::too_many_arguments)]
pub async fn load(
    app: &App,
    rng: &mut StdRng,
    names: &Names,
    cal: &Calendar,
    customers: usize,
    devices_per_customer: f64,
    orders: usize,
    policies: &HashMap<(String, String), i64>,
    progress: Progress<'_>,
) -> Result<Base> {
    let expected = (customers as f64 * devices_per_customer).max(1.0);
    let keep_every = (expected / KEPT).ceil().max(1.0) as i64;
    // Enough devices bought during the history for the installs' share of the orders.
    let installs = INSTALL_SHARE * orders.min((ORDERS_PER_DAY * cal.days as f64) as usize) as f64;
    let bought_now = (installs / (expected / keep_every as f64 * 0.75)).clamp(0.0, 0.35);
    // Days of the history (today excepted) weighted by sales.
    let sale_days: Vec<f64> = (0..cal.days - 1)
        .map(|d| SALES[cal.month0(cal.day(d))])
        .collect();
    let copiers: Vec<usize> = (0..PRODUCTS.len())
        .filter(|i| matches!(PRODUCTS[*i].category, Category::Copier | Category::Printer))
        .collect();
    let home: Vec<usize> = (0..PRODUCTS.len())
        .filter(|i| !copiers.contains(i))
        .collect();
    let district_weights: Vec<f64> = DISTRICTS.iter().map(|d| f64::from(d.weight)).collect();
    let mut kept = Vec::new();
    let (mut next_device, mut next_phone, mut next_doc) = (1i64, 1i64, 1i64);
    let chunk = 5_000usize;
    let mut start = 0usize;
    while start < customers {
        let end = (start + chunk).min(customers);
        let (mut cust, mut phones, mut addrs, mut devs, mut docs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let id = i as i64 + 1;
            let district = &DISTRICTS[weighted(rng, &district_weights)];
            let store = district.store;
            let company = rng.gen_range(0..100) < district.companies;
            let name = if company {
                names.company(rng)
            } else {
                names.person(rng)
            };
            let tier = match rng.gen_range(0..100) + if company { 10 } else { 0 } {
                0..=4 => Tier::Vip,
                5..=19 => Tier::Key,
                _ => Tier::Standard,
            };
            let (addr, lat, lng) = names.address(rng, district);
            let mut ph = vec![names.mobile(rng)];
            if rng.gen_bool(0.2) {
                ph.push(if rng.gen_bool(0.5) {
                    names.mobile(rng)
                } else {
                    format!("0571-{}", rng.gen_range(81_000_000..89_999_999))
                });
            }
            for (pos, p) in ph.iter().enumerate() {
                phones.push(args![next_phone, id, p.as_str(), pos as i64]);
                next_phone += 1;
            }
            addrs.push(args![id, id, Some("家庭"), addr.as_str(), lat, lng, 0i64]);
            let (doc, cjk) = customer_doc(&name, &ph, std::slice::from_ref(&addr));
            docs.push(args![next_doc, "customer", id, store, doc, cjk]);
            next_doc += 1;
            // Devices: whole numbers around the average.
            let base = devices_per_customer.floor() as usize;
            let n = base
                + usize::from(rng.gen_bool((devices_per_customer - base as f64).clamp(0.0, 1.0)));
            let mut first_purchase: Option<NaiveDate> = None;
            for _ in 0..n.max(1) {
                let product = if company {
                    copiers[rng.gen_range(0..copiers.len())]
                } else {
                    home[rng.gen_range(0..home.len())]
                };
                let p = &PRODUCTS[product];
                let did = next_device;
                next_device += 1;
                let keep = did % keep_every == 0;
                let in_history = keep && !sale_days.is_empty() && rng.gen_bool(bought_now);
                let purchase = if in_history {
                    cal.day(weighted(rng, &sale_days) as i64)
                } else {
                    cal.start - Duration::days(rng.gen_range(1..6 * 365))
                };
                let install = (!in_history && needs_install(p.category)).then(|| {
                    (purchase + Duration::days(rng.gen_range(0..6)))
                        .min(cal.start - Duration::days(1))
                });
                first_purchase = Some(first_purchase.map_or(purchase, |f| f.min(purchase)));
                // A bijection of the device number keeps serials unique and random-looking.
                let code = (did as u64).wrapping_mul(2_654_435_761) % 2_821_109_907_456; // 36^8
                let serial = format!(
                    "{}{}{}",
                    p.prefix,
                    purchase.format("%y"),
                    to_base36(code, 8)
                );
                let policy = policies
                    .get(&(p.brand.to_string(), p.policy.to_string()))
                    .copied()
                    .unwrap_or(1);
                let registered = cal.at(purchase, 9 * 60).min(cal.now);
                devs.push(args![
                    did,
                    store,
                    id,
                    product as i64 + 1,
                    p.brand,
                    serial.as_str(),
                    Some(id),
                    purchase,
                    Some(store),
                    install,
                    policy,
                    crate::devices::new_qr_token(),
                    registered,
                    registered
                ]);
                docs.push(args![next_doc, "device", did, store, serial, ""]);
                next_doc += 1;
                if keep {
                    kept.push(Device {
                        id: did,
                        customer: id,
                        store,
                        product,
                        address: id,
                        lat,
                        lng,
                        purchase,
                        install,
                        tier,
                    });
                }
            }
            let created = cal
                .at(first_purchase.unwrap_or(cal.start), 9 * 60)
                .min(cal.now);
            cust.push(args![
                id,
                store,
                name.as_str(),
                if company { "company" } else { "person" },
                tier.as_str(),
                created,
                created
            ]);
        }
        let mut tx = app.db.begin().await?;
        tx.bulk_insert(
            "customers",
            &[
                "id",
                "org_unit_id",
                "name",
                "kind",
                "tier",
                "created_at",
                "updated_at",
            ],
            cust,
        )
        .await?;
        tx.bulk_insert(
            "customer_phones",
            &["id", "customer_id", "phone", "position"],
            phones,
        )
        .await?;
        tx.bulk_insert(
            "customer_addresses",
            &[
                "id",
                "customer_id",
                "label",
                "address",
                "lat",
                "lng",
                "position",
            ],
            addrs,
        )
        .await?;
        tx.bulk_insert(
            "devices",
            &[
                "id",
                "org_unit_id",
                "customer_id",
                "product_id",
                "brand",
                "serial",
                "site_address_id",
                "purchase_date",
                "purchase_store_id",
                "install_date",
                "policy_id",
                "qr_token",
                "created_at",
                "updated_at",
            ],
            devs,
        )
        .await?;
        tx.bulk_insert(
            "search_docs",
            &["id", "kind", "ref_id", "org_unit_id", "doc", "cjk"],
            docs,
        )
        .await?;
        tx.commit().await?;
        progress("customers", end as u64, customers as u64);
        start = end;
    }
    Ok(Base {
        devices: kept,
        n_devices: (next_device - 1) as usize,
    })
}

/// Gives the devices installed during the history their install date (the day their install
/// order was completed), in statements of a few hundred devices.
pub async fn set_install_dates(app: &App, installed: &[(i64, NaiveDate)]) -> Result<()> {
    let mut tx = app.db.begin().await?;
    for part in installed.chunks(400) {
        let mut sql = String::from("UPDATE devices SET install_date = CASE id");
        let mut a = Vec::new();
        for (id, day) in part {
            sql.push_str(&format!(" WHEN ${} THEN ${}", a.len() + 1, a.len() + 2));
            a.extend(args![*id, *day]);
        }
        sql.push_str(" END WHERE id IN (");
        for (i, (id, _)) in part.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&id.to_string());
        }
        sql.push(')');
        tx.execute(&sql, a).await?;
    }
    tx.commit().await?;
    Ok(())
}

//! The service report (服务报告) of an order: what the technician found and did on each visit,
//! the parts used (from the product's parts list), the charges priced from the fee rules with the
//! warranty decision saying who pays, photos and the customer's signature. Everything a phone
//! sends is idempotent: parts and photos carry a client key, the rest are settings of a value.

use std::io::Cursor;

use serde::{Deserialize, Serialize};
use shouhou_domain::fees::{self, ChargeKind, Item, Payer};
use shouhou_domain::kinds::required_text;
use shouhou_domain::{Category, Role, Status, ValidationError, WorkOrderType};
use shouhou_store::records::{Product, WorkOrder};
use shouhou_store::repo::{self, customers, devices, policies, products};
use shouhou_store::service::{
    self as store, Charge, FeeRule, NewPartLine, PartLine, Photo, PhotoBytes, VisitReport,
};
use shouhou_store::work_orders as orders;
use shouhou_store::Tx;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, Result};

/// Who may write a report: the technician or partner the order is given to (visibility limits
/// them to their own orders) and the office roles that correct reports.
const REPORT_WRITERS: &[Role] = &[
    Role::Technician,
    Role::Partner,
    Role::Admin,
    Role::Manager,
    Role::Dispatcher,
];

/// Largest photo accepted before resizing, and the longest side kept.
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
pub const PHOTO_MAX_SIDE: u32 = 1600;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReportInput {
    pub findings: Option<String>,
    pub work_done: Option<String>,
    #[schema(minimum = 0, maximum = 1440)]
    pub labour_minutes: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PartInput {
    /// Chosen by the client once per line; a retry with the same key adds nothing.
    #[schema(min_length = 1, max_length = 100)]
    pub client_key: String,
    /// A part of the product's parts list.
    pub name: String,
    #[schema(minimum = 1, maximum = 99)]
    pub qty: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SignatureInput {
    /// SVG path data (`M x y L x y …`) drawn on the screen.
    pub path: String,
    /// The name of the person who signed.
    #[schema(min_length = 1, max_length = 60)]
    pub signed_by: String,
}

/// Sums of a report's charges by payer, in fen.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Totals {
    pub customer_fen: i64,
    pub manufacturer_fen: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceReport {
    pub order: WorkOrder,
    pub customer_name: String,
    pub customer_phone: String,
    pub address: String,
    pub product: Option<Product>,
    pub serial: Option<String>,
    pub visits: Vec<VisitReport>,
    pub parts: Vec<PartLine>,
    pub charges: Vec<Charge>,
    pub photos: Vec<Photo>,
    pub totals: Totals,
}

impl ServiceReport {
    /// The customer's signature on the latest visit, if any.
    pub fn signature(&self) -> Option<&VisitReport> {
        self.visits.iter().rev().find(|v| v.signature.is_some())
    }
}

/// The order, checked visible and in a state whose report may change: on site, or completed and
/// not yet signed off (a returned report is corrected this way).
async fn editable(tx: &mut Tx, actor: &Actor, id: i64) -> Result<(WorkOrder, VisitReport)> {
    actor.require(REPORT_WRITERS)?;
    let w = orders::get_for_update(tx, &actor.vis, id).await?;
    if !matches!(w.status, Status::OnSite | Status::Completed) {
        return Err(AppError::invalid(
            "status",
            ValidationError::Invalid {
                zh: format!("工单“{}”时不能填写服务报告（需在现场或已完工待审核）", w.status.label(shouhou_domain::Lang::ZhCn)),
                en: format!("the report cannot change while the order is '{}' (only on site, or completed before sign-off)", w.status.as_str()),
            },
        ));
    }
    let v = store::last_visit(tx, id)
        .await?
        .ok_or_else(|| AppError::invalid("visit", ValidationError::Required))?;
    Ok((w, v))
}

fn opt_text(v: Option<String>, field: &str, max: usize) -> Result<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Ok(Some(required_text(s, field, max)?)),
    }
}

async fn audit(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    id: i64,
    action: &str,
    changes: serde_json::Value,
) -> Result<()> {
    repo::audit::insert(
        tx,
        "work_order",
        id,
        action,
        Some(actor.id()),
        app.now(),
        &changes,
    )
    .await?;
    Ok(())
}

/// A signed report is what the customer agreed to: a change to its findings, parts or charges
/// after the signature clears the signature (audited with the change, in its transaction), so
/// the customer must sign again and the manager cannot approve it before (`review::review`).
async fn unsign(tx: &mut Tx, app: &App, actor: &Actor, id: i64, v: &VisitReport) -> Result<()> {
    if v.signature.is_some() {
        store::clear_signature(tx, v.id).await?;
        audit(
            tx,
            app,
            actor,
            id,
            "signature_cleared",
            serde_json::json!({"signed_by": [v.signed_by, null]}),
        )
        .await?;
    }
    Ok(())
}

/// The fee of a visit of `kind` on a product of `category`: the rule for the category, else the
/// rule for any category (`*`), else nothing.
pub fn fee_for(rules: &[FeeRule], kind: WorkOrderType, category: Option<Category>) -> fees::Fee {
    let of = |c: &str| {
        rules
            .iter()
            .find(|r| r.kind == kind.as_str() && r.category == c)
    };
    let r = category.and_then(|c| of(c.as_str())).or_else(|| of("*"));
    fees::Fee {
        labour_fen: r.map_or(0, |r| r.labour_fen),
        travel_fen: r.map_or(0, |r| r.travel_fen),
    }
}

async fn category_of(tx: &mut Tx, w: &WorkOrder) -> Result<Option<Product>> {
    Ok(match w.device_id {
        Some(d) => {
            let dev = devices::get_tx(tx, d).await?;
            Some(products::get_tx(tx, dev.product_id).await?)
        }
        None => None,
    })
}

/// Prices the labour and travel of a visit from the fee rules; the warranty decides who pays.
/// Called when the report changes and when the visit closes.
pub async fn price_visit(tx: &mut Tx, w: &WorkOrder, visit_id: i64) -> Result<()> {
    let rules = store::fee_rules_tx(tx).await?;
    let product = category_of(tx, w).await?;
    let fee = fee_for(&rules, w.kind, product.map(|p| p.category));
    let mut lines = Vec::new();
    for (kind, amount, item) in [
        (ChargeKind::Labour, fee.labour_fen, Item::Labour),
        (ChargeKind::Travel, fee.travel_fen, Item::Travel),
    ] {
        if amount > 0 {
            lines.push((
                kind.as_str(),
                amount,
                fees::payer(w.warranty_decision, item).as_str(),
            ));
        }
    }
    store::set_charges(tx, w.id, visit_id, &lines).await?;
    Ok(())
}

pub async fn save_report(app: &App, actor: &Actor, id: i64, r: ReportInput) -> Result<VisitReport> {
    let findings = opt_text(r.findings, "findings", 2000)?;
    let work_done = opt_text(r.work_done, "work_done", 2000)?;
    if let Some(m) = r.labour_minutes {
        if !(0..=1440).contains(&m) {
            return Err(AppError::invalid(
                "labour_minutes",
                ValidationError::OutOfRange { min: 0, max: 1440 },
            ));
        }
    }
    let mut tx = app.db.begin().await?;
    let (w, v) = editable(&mut tx, actor, id).await?;
    store::set_report(
        &mut tx,
        v.id,
        findings.as_deref(),
        work_done.as_deref(),
        r.labour_minutes,
    )
    .await?;
    price_visit(&mut tx, &w, v.id).await?;
    let changes = crate::audit::diff(
        &serde_json::json!({"findings": v.findings, "work_done": v.work_done, "labour_minutes": v.labour_minutes}),
        &serde_json::json!({"findings": findings, "work_done": work_done, "labour_minutes": r.labour_minutes}),
    );
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        audit(&mut tx, app, actor, id, "report", changes).await?;
        unsign(&mut tx, app, actor, id, &v).await?;
    }
    let after = store::last_visit(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(after)
}

fn client_key(k: &str) -> Result<String> {
    let k = k.trim();
    if k.is_empty() || k.len() > 100 {
        return Err(AppError::invalid(
            "client_key",
            ValidationError::TooLong { max: 100 },
        ));
    }
    Ok(k.to_string())
}

/// Adds a part from the product's parts list; the same client key again returns the same line.
pub async fn add_part(app: &App, actor: &Actor, id: i64, p: PartInput) -> Result<PartLine> {
    let key = client_key(&p.client_key)?;
    if !(1..=99).contains(&p.qty) {
        return Err(AppError::invalid(
            "qty",
            ValidationError::OutOfRange { min: 1, max: 99 },
        ));
    }
    let mut tx = app.db.begin().await?;
    let (w, v) = editable(&mut tx, actor, id).await?;
    let product = category_of(&mut tx, &w).await?;
    let list = product
        .as_ref()
        .map(|p| p.parts.0.clone())
        .unwrap_or_default();
    let name = p.name.trim();
    let Some(spec) = list.iter().find(|s| s.name == name) else {
        return Err(AppError::invalid(
            "name",
            ValidationError::UnknownValue {
                allowed: list
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            },
        ));
    };
    let main = match w.device_id {
        Some(d) => {
            let dev = devices::get_tx(&mut tx, d).await?;
            policies::get_tx(&mut tx, dev.policy_id)
                .await?
                .main_parts
                .0
                .iter()
                .any(|m| m == name)
        }
        None => false,
    };
    let payer = fees::payer(w.warranty_decision, Item::Part { main });
    let (line, made) = store::add_part(
        &mut tx,
        NewPartLine {
            work_order_id: id,
            visit_id: Some(v.id),
            client_key: &key,
            name,
            qty: p.qty,
            unit_price_fen: spec.price_fen,
            main_part: main,
            payer: payer.as_str(),
            created_by: actor.id(),
            at: app.now(),
        },
    )
    .await?;
    if made {
        audit(
            &mut tx,
            app,
            actor,
            id,
            "part_added",
            serde_json::json!({"part": [null, format!("{} × {}", line.name, line.qty)]}),
        )
        .await?;
        unsign(&mut tx, app, actor, id, &v).await?;
    }
    tx.commit().await?;
    Ok(line)
}

pub async fn remove_part(app: &App, actor: &Actor, id: i64, line_id: i64) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let (_, v) = editable(&mut tx, actor, id).await?;
    // Removing a line that is already gone (a retried request) is not an error.
    if let Some(l) = store::remove_part(&mut tx, id, line_id).await? {
        audit(
            &mut tx,
            app,
            actor,
            id,
            "part_removed",
            serde_json::json!({"part": [format!("{} × {}", l.name, l.qty), null]}),
        )
        .await?;
        unsign(&mut tx, app, actor, id, &v).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Checks SVG path data: only move/line commands and numbers, a sane length.
fn signature_path(p: &str) -> Result<String> {
    let p = p.trim();
    let ok = p.starts_with(['M', 'm'])
        && p.len() <= 200_000
        && p.chars()
            .all(|c| matches!(c, 'M' | 'm' | 'L' | 'l' | '0'..='9' | '.' | ',' | ' ' | '-'));
    if !ok {
        return Err(AppError::invalid(
            "path",
            ValidationError::Invalid {
                zh: "签名无效，请重新签字".into(),
                en: "the signature is not valid; please sign again".into(),
            },
        ));
    }
    if p.split([' ', ',']).filter(|x| !x.is_empty()).count() < 6 {
        return Err(AppError::invalid("path", ValidationError::Required));
    }
    Ok(p.to_string())
}

pub async fn sign(app: &App, actor: &Actor, id: i64, s: SignatureInput) -> Result<VisitReport> {
    let path = signature_path(&s.path)?;
    let by = required_text(&s.signed_by, "signed_by", 60)?;
    let mut tx = app.db.begin().await?;
    let (_, v) = editable(&mut tx, actor, id).await?;
    store::set_signature(&mut tx, v.id, &path, &by, app.now()).await?;
    audit(
        &mut tx,
        app,
        actor,
        id,
        "signed",
        serde_json::json!({"signed_by": [v.signed_by, by]}),
    )
    .await?;
    let after = store::last_visit(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(after)
}

/// Decodes a JPEG or PNG, shrinks it to at most [`PHOTO_MAX_SIDE`] on its longer side and stores
/// it as JPEG. Returns (bytes, width, height).
pub fn shrink_photo(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32)> {
    let bad = || {
        AppError::invalid(
            "photo",
            ValidationError::Invalid {
                zh: "无法读取照片，请上传 JPEG 或 PNG 图片".into(),
                en: "the photo cannot be read; upload a JPEG or PNG image".into(),
            },
        )
    };
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(AppError::invalid(
            "photo",
            ValidationError::Invalid {
                zh: format!("照片不能超过 {} MB", MAX_PHOTO_BYTES / 1024 / 1024),
                en: format!(
                    "a photo may be at most {} MB",
                    MAX_PHOTO_BYTES / 1024 / 1024
                ),
            },
        ));
    }
    let img = image::load_from_memory(bytes).map_err(|_| bad())?;
    let img = if img.width().max(img.height()) > PHOTO_MAX_SIDE {
        img.resize(
            PHOTO_MAX_SIDE,
            PHOTO_MAX_SIDE,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    let rgb = img.to_rgb8();
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&rgb)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((out.into_inner(), rgb.width(), rgb.height()))
}

pub async fn add_photo(
    app: &App,
    actor: &Actor,
    id: i64,
    key: &str,
    bytes: Vec<u8>,
) -> Result<Photo> {
    let key = client_key(key)?;
    let (jpeg, w, h) = tokio::task::spawn_blocking(move || shrink_photo(&bytes))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let mut tx = app.db.begin().await?;
    let (_, v) = editable(&mut tx, actor, id).await?;
    let (photo, made) = store::add_photo(
        &mut tx,
        id,
        Some(v.id),
        &key,
        "image/jpeg",
        (w as i64, h as i64),
        jpeg,
        actor.id(),
        app.now(),
    )
    .await?;
    if made {
        audit(
            &mut tx,
            app,
            actor,
            id,
            "photo_added",
            serde_json::json!({"photo": [null, photo.id]}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(photo)
}

pub async fn photo(app: &App, actor: &Actor, id: i64, photo_id: i64) -> Result<PhotoBytes> {
    orders::get(&app.db, &actor.vis, id).await?;
    Ok(store::photo_bytes(&app.db, id, photo_id).await?)
}

/// Everything the printed report and the review page show.
pub async fn report(app: &App, actor: &Actor, id: i64) -> Result<ServiceReport> {
    let order = orders::get(&app.db, &actor.vis, id).await?;
    report_of(app, order).await
}

/// [`report`] for an order already checked visible.
pub async fn report_of(app: &App, order: WorkOrder) -> Result<ServiceReport> {
    let id = order.id;
    let customer = customers::get(
        &app.db,
        &shouhou_store::Visibility::everything(vec![order.org_unit_id]),
        order.customer_id,
    )
    .await
    .ok();
    let (product, serial) = match order.device_id {
        Some(d) => {
            let mut tx = app.db.begin().await?;
            let dev = devices::get_tx(&mut tx, d).await?;
            let p = products::get_tx(&mut tx, dev.product_id).await?;
            tx.commit().await?;
            (Some(p), Some(dev.serial))
        }
        None => (None, None),
    };
    let address = customer
        .as_ref()
        .and_then(|c| {
            c.addresses
                .iter()
                .find(|a| Some(a.id) == order.address_id)
                .or(c.addresses.first())
        })
        .map(|a| a.address.clone())
        .unwrap_or_default();
    let parts = store::parts(&app.db, id).await?;
    let charges = store::charges(&app.db, id).await?;
    let totals = totals(&charges, &parts);
    Ok(ServiceReport {
        customer_name: customer
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        customer_phone: customer
            .as_ref()
            .and_then(|c| c.phones.first().cloned())
            .unwrap_or_default(),
        address,
        product,
        serial,
        visits: store::reports(&app.db, id).await?,
        photos: store::photos(&app.db, id).await?,
        parts,
        charges,
        totals,
        order,
    })
}

/// Sums charges and parts by who pays.
pub fn totals(charges: &[Charge], parts: &[PartLine]) -> Totals {
    let mut totals = Totals::default();
    let mut add = |payer: &str, fen: i64| {
        if payer == Payer::Manufacturer.as_str() {
            totals.manufacturer_fen += fen;
        } else {
            totals.customer_fen += fen;
        }
    };
    for c in charges {
        add(&c.payer, c.amount_fen);
    }
    for p in parts {
        add(&p.payer, p.unit_price_fen * p.qty);
    }
    totals
}

// ------------------------------------------------------------------------------ fee rules

pub async fn fee_rules(app: &App) -> Result<Vec<FeeRule>> {
    Ok(store::fee_rules(&app.db).await?)
}

/// Replaces the fee rules (admin): each type/category once, amounts 0 – 100,000 yuan.
/// The fee rules and their version (the ETag of the settings page and API).
pub async fn fee_rules_versioned(app: &App) -> Result<(Vec<FeeRule>, i64)> {
    Ok((
        fee_rules(app).await?,
        repo::versions::setting(&app.db, "fee_rules").await?,
    ))
}

/// Replaces the fee rules (based on version `if_match` when given); returns them and their new
/// version.
pub async fn set_fee_rules(
    app: &App,
    actor: &Actor,
    if_match: Option<i64>,
    rules: Vec<FeeRule>,
) -> Result<(Vec<FeeRule>, i64)> {
    actor.require(&[Role::Admin])?;
    let mut seen = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let f = |name: &str| format!("rules[{i}].{name}");
        WorkOrderType::parse_field(&r.kind, &f("kind"))?;
        if r.category != "*" {
            Category::parse_field(&r.category, &f("category"))?;
        }
        for (name, v) in [("labour_fen", r.labour_fen), ("travel_fen", r.travel_fen)] {
            if !(0..=10_000_000).contains(&v) {
                return Err(AppError::invalid(
                    &f(name),
                    ValidationError::OutOfRange {
                        min: 0,
                        max: 10_000_000,
                    },
                ));
            }
        }
        if seen.contains(&(r.kind.as_str(), r.category.as_str())) {
            return Err(AppError::invalid(
                &f("category"),
                ValidationError::Duplicate,
            ));
        }
        seen.push((r.kind.as_str(), r.category.as_str()));
    }
    let mut tx = app.db.begin().await?;
    let version = match repo::versions::bump_setting(&mut tx, "fee_rules", if_match).await? {
        Ok(v) => v,
        Err(current) => return Err(crate::audit::stale(&mut tx, "settings", 0, current).await),
    };
    let before = store::fee_rules_tx(&mut tx).await?;
    store::replace_fee_rules(&mut tx, &rules).await?;
    let after = store::fee_rules_tx(&mut tx).await?;
    let strip = |v: &[FeeRule]| {
        v.iter()
            .map(|r| serde_json::json!([r.kind, r.category, r.labour_fen, r.travel_fen]))
            .collect::<Vec<_>>()
    };
    repo::audit::insert(
        &mut tx,
        "settings",
        0,
        "fee_rules",
        Some(actor.id()),
        app.now(),
        &serde_json::json!({"fee_rules": [strip(&before), strip(&after)]}),
    )
    .await?;
    tx.commit().await?;
    Ok((after, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str, category: &str, labour: i64) -> FeeRule {
        FeeRule {
            id: 0,
            kind: kind.into(),
            category: category.into(),
            labour_fen: labour,
            travel_fen: 100,
        }
    }

    #[test]
    fn category_rule_wins_over_any() {
        let rules = [
            rule("repair_onsite", "*", 8000),
            rule("repair_onsite", "copier", 15000),
        ];
        let f = fee_for(&rules, WorkOrderType::RepairOnsite, Some(Category::Copier));
        assert_eq!(f.labour_fen, 15000);
        let f = fee_for(&rules, WorkOrderType::RepairOnsite, Some(Category::Washing));
        assert_eq!(f.labour_fen, 8000);
        let f = fee_for(&rules, WorkOrderType::Install, Some(Category::Washing));
        assert_eq!((f.labour_fen, f.travel_fen), (0, 0));
    }

    #[test]
    fn photos_are_shrunk_to_jpeg() {
        let img = image::RgbImage::from_pixel(3200, 1000, image::Rgb([200, 30, 30]));
        let mut png = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let (jpeg, w, h) = shrink_photo(png.get_ref()).unwrap();
        assert_eq!((w, h), (1600, 500));
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert!(shrink_photo(b"not an image").is_err());
    }
}

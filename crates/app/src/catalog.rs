//! The catalog shared by all units: products, warranty policies, SLA rules.

use serde::Deserialize;
use shouhou_domain::kinds::required_text;
use shouhou_domain::sla::{self, SlaClock, SlaRule};
use shouhou_domain::validate;
use shouhou_domain::warranty::fits_brand;
use shouhou_domain::{Category, Lang, Priority, Role, Tier, ValidationError, WarrantyStart};
use shouhou_store::records::{PartList, PartSpec, Product, StrList, WarrantyPolicy};
use shouhou_store::repo::versions::Versioned;
use shouhou_store::repo::{self, policies, products, Page, Paged};
use shouhou_store::Tx;
use utoipa::ToSchema;

use crate::audit;
use crate::error::conflict_as;
use crate::{Actor, App, AppError, Result};

const CATALOG_WRITERS: &[Role] = &[Role::Admin, Role::Manager];

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewProduct {
    #[schema(min_length = 1, max_length = 40)]
    pub brand: String,
    #[schema(min_length = 1, max_length = 60)]
    pub model: String,
    pub category: Category,
    pub name: Option<String>,
    /// The parts a technician may pick on a visit, with list prices.
    #[serde(default)]
    pub parts: Vec<PartSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ProductPatch {
    #[schema(min_length = 1, max_length = 40)]
    pub brand: Option<String>,
    #[schema(min_length = 1, max_length = 60)]
    pub model: Option<String>,
    pub category: Option<Category>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub parts: Option<Vec<PartSpec>>,
}

/// Checks a parts list: names present, unique and short, prices not negative.
fn parts_list(parts: Vec<PartSpec>) -> Result<PartList> {
    let mut out: Vec<PartSpec> = Vec::with_capacity(parts.len());
    for (i, p) in parts.into_iter().enumerate() {
        let field = format!("parts[{i}]");
        let name = required_text(&p.name, &field, 60)?;
        if p.price_fen < 0 || p.price_fen > 100_000_000 {
            return Err(AppError::invalid(
                &field,
                ValidationError::OutOfRange {
                    min: 0,
                    max: 100_000_000,
                },
            ));
        }
        if out.iter().any(|x| x.name == name) {
            return Err(AppError::invalid(&field, ValidationError::Duplicate));
        }
        out.push(PartSpec {
            name,
            price_fen: p.price_fen,
        });
    }
    Ok(PartList(out))
}

pub async fn list_products(
    app: &App,
    category: Option<Category>,
    page: Page,
) -> Result<Paged<Product>> {
    Ok(products::list(&app.db, category.map(|c| c.as_str()), page).await?)
}

/// Products whose brand, model or name holds `q`, or whose category's name (either language)
/// does: the intake's product picker.
pub async fn search_products(app: &App, q: &str, page: Page) -> Result<Paged<Product>> {
    validate::one_line(q, "q")?;
    let q = q.trim();
    if q.is_empty() {
        return list_products(app, None, page).await;
    }
    let needle = q.to_lowercase();
    let categories: Vec<&str> = Category::ALL
        .iter()
        .filter(|c| {
            [
                c.as_str(),
                c.label(Lang::ZhCn),
                &c.label(Lang::En).to_lowercase(),
            ]
            .iter()
            .any(|l| l.contains(&needle))
        })
        .map(|c| c.as_str())
        .collect();
    Ok(products::search(&app.db, q, &categories, page).await?)
}

/// The warranty policies that fit product `product_id`: those of its brand's manufacturer.
pub async fn policies_for_product(app: &App, product_id: i64) -> Result<Vec<WarrantyPolicy>> {
    let product = products::get(&app.db, product_id).await?;
    Ok(policies::list(&app.db, Page::LARGEST)
        .await?
        .items
        .into_iter()
        .filter(|w| fits_brand(&w.manufacturer, &product.brand))
        .collect())
}

pub async fn get_product(app: &App, id: i64) -> Result<Product> {
    Ok(products::get(&app.db, id).await?)
}

pub async fn create_product(app: &App, actor: Option<&Actor>, n: NewProduct) -> Result<Product> {
    if let Some(a) = actor {
        a.require(CATALOG_WRITERS)?;
    }
    let brand = required_text(&n.brand, "brand", 40)?;
    let model = required_text(&n.model, "model", 60)?;
    let name = match n.name {
        Some(v) if !v.trim().is_empty() => required_text(&v, "name", 100)?,
        _ => format!("{brand} {model}"),
    };
    let parts = parts_list(n.parts)?;
    let mut tx = app.db.begin().await?;
    let id = products::insert(
        &mut tx,
        &brand,
        &model,
        n.category.as_str(),
        &name,
        app.now(),
    )
    .await
    .map_err(conflict_as("model"))?;
    let mut p = products::get_tx(&mut tx, id).await?;
    if !parts.0.is_empty() {
        p.parts = parts;
        products::update(&mut tx, &p, app.now()).await?;
    }
    audit::created(app, &mut tx, actor, "product", id, &p).await?;
    tx.commit().await?;
    Ok(p)
}

pub async fn update_product(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    patch: ProductPatch,
) -> Result<Product> {
    actor.require(CATALOG_WRITERS)?;
    let before = products::get(&app.db, id).await?;
    let mut p = before.clone();
    if let Some(v) = patch.brand {
        p.brand = required_text(&v, "brand", 40)?;
    }
    if let Some(v) = patch.model {
        p.model = required_text(&v, "model", 60)?;
    }
    if let Some(c) = patch.category {
        p.category = c;
    }
    if let Some(v) = patch.name {
        p.name = required_text(&v, "name", 100)?;
    }
    if let Some(v) = patch.parts {
        p.parts = parts_list(v)?;
    }
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::Product,
        "product",
        id,
        if_match,
        before.version,
    )
    .await?;
    products::update(&mut tx, &p, app.now())
        .await
        .map_err(conflict_as("model"))?;
    let after = products::get_tx(&mut tx, id).await?;
    audit::updated(app, &mut tx, actor, "product", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPolicy {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_length = 1, max_length = 100)]
    pub manufacturer: String,
    #[schema(minimum = 0, maximum = 240)]
    pub whole_unit_months: i64,
    #[schema(minimum = 0, maximum = 240)]
    pub main_parts_months: i64,
    #[serde(default)]
    pub main_parts: Vec<String>,
    #[schema(minimum = 0, maximum = 240)]
    pub labour_months: Option<i64>,
    pub starts_from: Option<WarrantyStart>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PolicyPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub manufacturer: Option<String>,
    #[schema(minimum = 0, maximum = 240)]
    pub whole_unit_months: Option<i64>,
    #[schema(minimum = 0, maximum = 240)]
    pub main_parts_months: Option<i64>,
    pub main_parts: Option<Vec<String>>,
    #[schema(minimum = 0, maximum = 240)]
    pub labour_months: Option<i64>,
    pub starts_from: Option<WarrantyStart>,
}

fn check_policy(p: &WarrantyPolicy) -> Result<()> {
    validate::months(p.whole_unit_months, "whole_unit_months")?;
    validate::months(p.main_parts_months, "main_parts_months")?;
    validate::months(p.labour_months, "labour_months")?;
    if p.main_parts_months < p.whole_unit_months {
        return Err(AppError::invalid(
            "main_parts_months",
            ValidationError::Invalid {
                zh: "主要部件保修月数不能少于整机保修月数".into(),
                en: "main-parts months cannot be fewer than whole-unit months".into(),
            },
        ));
    }
    for (i, part) in p.main_parts.0.iter().enumerate() {
        required_text(part, &format!("main_parts[{i}]"), 60)?;
    }
    Ok(())
}

pub async fn list_policies(app: &App, page: Page) -> Result<Paged<WarrantyPolicy>> {
    Ok(policies::list(&app.db, page).await?)
}

pub async fn get_policy(app: &App, id: i64) -> Result<WarrantyPolicy> {
    Ok(policies::get(&app.db, id).await?)
}

pub async fn create_policy(
    app: &App,
    actor: Option<&Actor>,
    n: NewPolicy,
) -> Result<WarrantyPolicy> {
    if let Some(a) = actor {
        a.require(CATALOG_WRITERS)?;
    }
    let now = app.now();
    let p = WarrantyPolicy {
        id: 0,
        name: required_text(&n.name, "name", 100)?,
        manufacturer: required_text(&n.manufacturer, "manufacturer", 100)?,
        whole_unit_months: n.whole_unit_months,
        main_parts_months: n.main_parts_months,
        main_parts: StrList(n.main_parts.iter().map(|s| s.trim().to_string()).collect()),
        labour_months: n.labour_months.unwrap_or(n.whole_unit_months),
        starts_from: n.starts_from.unwrap_or(WarrantyStart::Purchase),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    check_policy(&p)?;
    let mut tx = app.db.begin().await?;
    let id = policies::insert(&mut tx, &p)
        .await
        .map_err(conflict_as("name"))?;
    let p = policies::get_tx(&mut tx, id).await?;
    audit::created(app, &mut tx, actor, "warranty_policy", id, &p).await?;
    tx.commit().await?;
    Ok(p)
}

pub async fn update_policy(
    app: &App,
    actor: &Actor,
    id: i64,
    if_match: Option<i64>,
    patch: PolicyPatch,
) -> Result<WarrantyPolicy> {
    actor.require(CATALOG_WRITERS)?;
    let before = policies::get(&app.db, id).await?;
    let mut p = before.clone();
    if let Some(v) = patch.name {
        p.name = required_text(&v, "name", 100)?;
    }
    if let Some(v) = patch.manufacturer {
        p.manufacturer = required_text(&v, "manufacturer", 100)?;
    }
    if let Some(v) = patch.whole_unit_months {
        p.whole_unit_months = v;
    }
    if let Some(v) = patch.main_parts_months {
        p.main_parts_months = v;
    }
    if let Some(v) = patch.main_parts {
        p.main_parts = StrList(v.iter().map(|s| s.trim().to_string()).collect());
    }
    if let Some(v) = patch.labour_months {
        p.labour_months = v;
    }
    if let Some(v) = patch.starts_from {
        p.starts_from = v;
    }
    check_policy(&p)?;
    let mut tx = app.db.begin().await?;
    audit::claim_version(
        &mut tx,
        Versioned::Policy,
        "warranty_policy",
        id,
        if_match,
        before.version,
    )
    .await?;
    policies::update(&mut tx, &p, app.now())
        .await
        .map_err(conflict_as("name"))?;
    let after = policies::get_tx(&mut tx, id).await?;
    audit::updated(app, &mut tx, actor, "warranty_policy", id, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// The SLA policy in force (the defaults until someone sets it).
pub async fn sla_rules_tx(tx: &mut Tx) -> Result<Vec<SlaRule>> {
    rules_of(repo::sla::rules_tx(tx).await?)
}

fn rules_of(rows: Vec<shouhou_store::records::SlaRuleRow>) -> Result<Vec<SlaRule>> {
    if rows.is_empty() {
        return Ok(sla::default_rules());
    }
    rows.into_iter()
        .map(|r| {
            Ok(SlaRule {
                priority: Priority::parse_field(&r.priority, "priority")?,
                tier: r
                    .tier
                    .as_deref()
                    .map(|t| Tier::parse_field(t, "tier"))
                    .transpose()?,
                clock: SlaClock::parse(&r.clock).unwrap_or(SlaClock::WorkingHours),
                respond_hours: r.respond_hours,
                arrive_hours: r.arrive_hours,
                resolve_hours: r.resolve_hours,
            })
        })
        .collect()
}

/// The SLA rules in force, read outside any transaction.
pub async fn sla_rules(app: &App) -> Result<Vec<SlaRule>> {
    rules_of(repo::sla::rules(&app.db).await?)
}

/// The SLA rules and their version (the ETag of the settings page and API).
pub async fn sla_rules_versioned(app: &App) -> Result<(Vec<SlaRule>, i64)> {
    Ok((
        sla_rules(app).await?,
        repo::versions::setting(&app.db, "sla_rules").await?,
    ))
}

/// Replaces the SLA rules (based on version `if_match` when given); returns them and their new
/// version.
pub async fn set_sla_rules(
    app: &App,
    actor: &Actor,
    if_match: Option<i64>,
    rules: Vec<SlaRule>,
) -> Result<(Vec<SlaRule>, i64)> {
    actor.require(&[Role::Admin])?;
    for (i, r) in rules.iter().enumerate() {
        for (name, v) in [
            ("respond_hours", r.respond_hours),
            ("arrive_hours", r.arrive_hours),
            ("resolve_hours", r.resolve_hours),
        ] {
            if !(v.is_finite() && (sla::MIN_HOURS..=sla::MAX_HOURS).contains(&v)) {
                return Err(AppError::invalid(
                    &format!("rules[{i}].{name}"),
                    ValidationError::Invalid {
                        zh: "时限须在 0.1 到 1440 小时之间（可填小数，如 0.5）".into(),
                        en: "hours must be between 0.1 and 1440 (decimals allowed, e.g. 0.5)"
                            .into(),
                    },
                ));
            }
        }
        for (name, v) in [
            ("respond_hours", r.respond_hours),
            ("arrive_hours", r.arrive_hours),
        ] {
            if v > r.resolve_hours {
                return Err(AppError::invalid(
                    &format!("rules[{i}].{name}"),
                    ValidationError::Invalid {
                        zh: "响应、到达时限不能长于完成时限".into(),
                        en: "respond and arrive hours cannot exceed the resolve hours".into(),
                    },
                ));
            }
        }
    }
    let before = sla_rules(app).await?;
    let mut tx = app.db.begin().await?;
    let version = match repo::versions::bump_setting(&mut tx, "sla_rules", if_match).await? {
        Ok(v) => v,
        Err(current) => return Err(crate::audit::stale(&mut tx, "sla_policy", 0, current).await),
    };
    repo::sla::replace(&mut tx, &rules).await?;
    repo::audit::insert(
        &mut tx,
        "sla_policy",
        0,
        "update",
        Some(actor.id()),
        app.now(),
        &serde_json::json!({"rules": [before, rules]}),
    )
    .await?;
    tx.commit().await?;
    Ok((rules, version))
}

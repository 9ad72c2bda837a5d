//! Create and edit forms for the archive's reference records (products, warranty policies,
//! technicians, org units, users). Each record describes its fields once; one template draws them;
//! the submitted form becomes the same JSON the API takes and goes through the same app function,
//! so the page and the API validate alike and a refused form saves nothing.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use shouhou_app::{catalog, org, AppError};
use shouhou_domain::money::{parse_yuan, yuan};
use shouhou_domain::{Lang, OrgKind, Role, WarrantyStart};
use shouhou_store::repo::Page as Paging;

use super::{categories, err, render, Chrome, Page};
use crate::extract::{Form, Path};
use crate::AppState;

/// How a field is drawn and how its text becomes JSON.
pub enum Kind {
    Text,
    /// Whole number.
    Int,
    /// Decimal number (coordinates).
    Decimal,
    Password,
    Select(Vec<(String, String)>),
    /// Several choices (checkboxes) → a JSON array.
    Checks(Vec<(String, String)>),
    /// Comma-separated text → a JSON array.
    List,
    /// One checkbox → a JSON bool.
    Check,
    /// `名称=价格, …` → `[{"name", "price_fen"}]`.
    Parts,
    /// A date (`YYYY-MM-DD`).
    Date,
}

pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub value: Vec<String>,
    pub error: String,
}

impl Field {
    fn new(name: &'static str, label: String, kind: Kind, value: impl Into<String>) -> Self {
        Field {
            name,
            label,
            kind,
            value: vec![value.into()],
            error: String::new(),
        }
    }

    pub fn first(&self) -> &str {
        self.value.first().map(String::as_str).unwrap_or("")
    }

    pub fn has(&self, v: &str) -> bool {
        self.value.iter().any(|x| x == v)
    }

    pub fn is(&self, k: &str) -> bool {
        matches!(
            (&self.kind, k),
            (Kind::Text, "text")
                | (Kind::Int, "int")
                | (Kind::Decimal, "decimal")
                | (Kind::Password, "password")
                | (Kind::Select(_), "select")
                | (Kind::Checks(_), "checks")
                | (Kind::List, "list")
                | (Kind::Parts, "list")
                | (Kind::Date, "date")
                | (Kind::Check, "check")
        )
    }

    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            Kind::Select(o) | Kind::Checks(o) => o,
            _ => &[],
        }
    }
}

#[derive(Template)]
#[template(path = "record_form_partial.html")]
struct FormView<'a> {
    t: crate::i18n::T,
    action: &'a str,
    fields: &'a [Field],
    saved: bool,
    error: &'a str,
    /// The version the form was filled from, sent back so that a change someone else saved in
    /// the meantime is refused (412) instead of overwritten.
    version: Option<i64>,
}

#[derive(Template)]
#[template(path = "record_form.html")]
struct FormPage {
    c: Chrome,
    title: String,
    back: String,
    back_label: String,
    form: String,
}

/// The records with a form, by their path under `/`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rec {
    Product,
    Policy,
    Technician,
    OrgUnit,
    User,
    /// Edited only (devices are registered at intake, with their owner).
    Device,
}

impl Rec {
    pub fn path(self) -> &'static str {
        match self {
            Rec::Product => "products",
            Rec::Policy => "warranty-policies",
            Rec::Technician => "technicians",
            Rec::OrgUnit => "org-units",
            Rec::User => "users",
            Rec::Device => "devices",
        }
    }

    /// The form's address for record `id` (`None`: a new one).
    pub fn form_url(self, id: Option<i64>) -> String {
        match (self, id) {
            (Rec::Device, Some(id)) => format!("/devices/{id}/edit"),
            (_, Some(id)) => format!("/{}/{id}", self.path()),
            (_, None) => format!("/{}/new", self.path()),
        }
    }

    fn title_key(self) -> &'static str {
        match self {
            Rec::Product => "archive.products",
            Rec::Policy => "archive.policies",
            Rec::Technician => "archive.technicians",
            Rec::OrgUnit => "archive.org_units",
            Rec::User => "archive.users",
            Rec::Device => "archive.devices",
        }
    }

    /// Who may create and change the record (the app layer checks again).
    pub fn writers(self) -> &'static [Role] {
        match self {
            Rec::Product | Rec::Policy | Rec::Technician => &[Role::Admin, Role::Manager],
            Rec::OrgUnit | Rec::User => &[Role::Admin],
            Rec::Device => shouhou_app::customers::ARCHIVE_WRITERS,
        }
    }
}

fn opts<E: Copy>(all: &[E], f: impl Fn(E) -> (String, String)) -> Vec<(String, String)> {
    all.iter().map(|e| f(*e)).collect()
}

async fn unit_options(s: &AppState, p: &Page, with_none: bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = if with_none {
        vec![(String::new(), "—".into())]
    } else {
        vec![]
    };
    if let Ok(units) = org::list_org_units(&s.app, &p.actor, Paging::LARGEST).await {
        v.extend(
            units
                .items
                .into_iter()
                .map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.code))),
        );
    }
    v
}

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The fields of `rec`, filled from record `id` (or empty for a new one).
async fn fields(s: &AppState, p: &Page, rec: Rec, id: Option<i64>) -> Result<Vec<Field>, AppError> {
    let t = p.t;
    let l = |k: &str| t.t(k);
    let lang = p.actor.lang;
    Ok(match rec {
        Rec::Product => {
            let x = match id {
                Some(id) => Some(catalog::get_product(&s.app, id).await?),
                None => None,
            };
            vec![
                Field::new(
                    "brand",
                    l("archive.brand"),
                    Kind::Text,
                    x.as_ref().map(|x| x.brand.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "model",
                    l("archive.model"),
                    Kind::Text,
                    x.as_ref().map(|x| x.model.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "category",
                    l("archive.category"),
                    Kind::Select(categories(lang)),
                    x.as_ref().map(|x| x.category.as_str()).unwrap_or_default(),
                ),
                Field::new(
                    "name",
                    l("archive.name"),
                    Kind::Text,
                    x.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "parts",
                    l("archive.parts"),
                    Kind::Parts,
                    x.as_ref()
                        .map(|x| {
                            x.parts
                                .0
                                .iter()
                                .map(|p| format!("{}={}", p.name, yuan(p.price_fen)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default(),
                ),
            ]
        }
        Rec::Policy => {
            let x = match id {
                Some(id) => Some(catalog::get_policy(&s.app, id).await?),
                None => None,
            };
            let starts = opts(WarrantyStart::ALL, |w| {
                (w.as_str().into(), w.label(lang).into())
            });
            vec![
                Field::new(
                    "name",
                    l("archive.name"),
                    Kind::Text,
                    x.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "manufacturer",
                    l("archive.manufacturer"),
                    Kind::Text,
                    x.as_ref()
                        .map(|x| x.manufacturer.clone())
                        .unwrap_or_default(),
                ),
                Field::new(
                    "whole_unit_months",
                    l("archive.whole_unit"),
                    Kind::Int,
                    x.as_ref()
                        .map(|x| x.whole_unit_months.to_string())
                        .unwrap_or_else(|| "12".into()),
                ),
                Field::new(
                    "main_parts_months",
                    l("archive.main_parts"),
                    Kind::Int,
                    x.as_ref()
                        .map(|x| x.main_parts_months.to_string())
                        .unwrap_or_else(|| "36".into()),
                ),
                Field::new(
                    "main_parts",
                    l("archive.main_parts_list"),
                    Kind::List,
                    x.as_ref()
                        .map(|x| x.main_parts.0.join(", "))
                        .unwrap_or_default(),
                ),
                Field::new(
                    "labour_months",
                    l("archive.labour_months"),
                    Kind::Int,
                    x.as_ref()
                        .map(|x| x.labour_months.to_string())
                        .unwrap_or_else(|| "12".into()),
                ),
                Field::new(
                    "starts_from",
                    l("archive.starts_from"),
                    Kind::Select(starts),
                    x.as_ref()
                        .map(|x| x.starts_from.as_str())
                        .unwrap_or("purchase"),
                ),
            ]
        }
        Rec::OrgUnit => {
            let x = match id {
                Some(id) => Some(org::get_org_unit(&s.app, &p.actor, id).await?),
                None => None,
            };
            let kinds = opts(OrgKind::ALL, |k| (k.as_str().into(), k.label(lang).into()));
            let mut v = Vec::new();
            if x.is_none() {
                v.push(Field::new(
                    "parent_id",
                    l("archive.parent"),
                    Kind::Select(unit_options(s, p, false).await),
                    "",
                ));
                v.push(Field::new(
                    "kind",
                    l("archive.kind"),
                    Kind::Select(kinds),
                    "store",
                ));
            }
            v.extend([
                Field::new(
                    "code",
                    l("archive.code"),
                    Kind::Text,
                    x.as_ref().map(|x| x.code.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "name",
                    l("archive.name"),
                    Kind::Text,
                    x.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "address",
                    l("archive.address"),
                    Kind::Text,
                    x.as_ref()
                        .and_then(|x| x.address.clone())
                        .unwrap_or_default(),
                ),
                Field::new(
                    "phone",
                    l("archive.hotline"),
                    Kind::Text,
                    x.as_ref().and_then(|x| x.phone.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "lat",
                    l("archive.lat"),
                    Kind::Decimal,
                    opt_num(x.as_ref().and_then(|x| x.lat)),
                ),
                Field::new(
                    "lng",
                    l("archive.lng"),
                    Kind::Decimal,
                    opt_num(x.as_ref().and_then(|x| x.lng)),
                ),
            ]);
            v
        }
        Rec::User => {
            let x = match id {
                Some(id) => Some(org::get_user(&s.app, &p.actor, id).await?),
                None => None,
            };
            let roles = opts(Role::ALL, |r| (r.as_str().into(), r.label(lang).into()));
            let mut v = Vec::new();
            if x.is_none() {
                v.push(Field::new(
                    "username",
                    l("archive.username"),
                    Kind::Text,
                    "",
                ));
            }
            v.extend([
                Field::new(
                    "display_name",
                    l("archive.name"),
                    Kind::Text,
                    x.as_ref()
                        .map(|x| x.display_name.clone())
                        .unwrap_or_default(),
                ),
                Field::new(
                    "role",
                    l("archive.role"),
                    Kind::Select(roles),
                    x.as_ref().map(|x| x.role.as_str()).unwrap_or("clerk"),
                ),
                Field::new(
                    "org_unit_id",
                    l("archive.org_unit"),
                    Kind::Select(unit_options(s, p, false).await),
                    opt_num(x.as_ref().map(|x| x.org_unit_id)),
                ),
                Field::new(
                    "phone",
                    l("archive.phone"),
                    Kind::Text,
                    x.as_ref().and_then(|x| x.phone.clone()).unwrap_or_default(),
                ),
                Field::new(
                    "password",
                    l(if x.is_some() {
                        "archive.new_password"
                    } else {
                        "login.password"
                    }),
                    Kind::Password,
                    "",
                ),
            ]);
            if x.as_ref().is_some_and(|x| x.id == p.actor.id()) {
                // Users changing their own password give the current one.
                v.push(Field::new(
                    "current_password",
                    l("archive.current_password"),
                    Kind::Password,
                    "",
                ));
            }
            if let Some(x) = &x {
                v.push(Field::new(
                    "active",
                    l("archive.active"),
                    Kind::Check,
                    if x.active { "on" } else { "" },
                ));
            }
            v
        }
        Rec::Device => {
            let Some(id) = id else {
                return Err(AppError::NotFound);
            };
            let x = shouhou_app::devices::get(&s.app, &p.actor, id).await?;
            let products = catalog::list_products(&s.app, None, Paging::LARGEST)
                .await?
                .items
                .into_iter()
                .map(|x| (x.id.to_string(), x.name))
                .collect();
            let policies = catalog::list_policies(&s.app, Paging::LARGEST)
                .await?
                .items
                .into_iter()
                .map(|x| (x.id.to_string(), x.name))
                .collect();
            vec![
                Field::new("serial", l("archive.serial"), Kind::Text, x.serial.clone()),
                Field::new(
                    "product_id",
                    l("archive.product"),
                    Kind::Select(products),
                    x.product_id.to_string(),
                ),
                Field::new(
                    "purchase_date",
                    l("archive.purchase"),
                    Kind::Date,
                    x.purchase_date.to_string(),
                ),
                Field::new(
                    "install_date",
                    l("archive.install"),
                    Kind::Date,
                    x.install_date.map(|d| d.to_string()).unwrap_or_default(),
                ),
                Field::new(
                    "policy_id",
                    l("archive.policies"),
                    Kind::Select(policies),
                    x.policy_id.to_string(),
                ),
                Field::new(
                    "purchase_store_id",
                    l("archive.purchase_store"),
                    Kind::Select(unit_options(s, p, true).await),
                    opt_num(x.purchase_store_id),
                ),
            ]
        }
        Rec::Technician => {
            let x = match id {
                Some(id) => Some(org::get_technician(&s.app, &p.actor, id).await?),
                None => None,
            };
            let mut v = Vec::new();
            if x.is_none() {
                let taken: Vec<i64> = org::list_technicians(&s.app, &p.actor, Paging::LARGEST)
                    .await?
                    .items
                    .into_iter()
                    .map(|t| t.user_id)
                    .collect();
                let free = org::list_users(&s.app, &p.actor, Paging::LARGEST)
                    .await?
                    .items
                    .into_iter()
                    .filter(|u| u.role == Role::Technician && !taken.contains(&u.id))
                    .map(|u| {
                        (
                            u.id.to_string(),
                            format!("{} ({})", u.display_name, u.username),
                        )
                    })
                    .collect();
                v.push(Field::new(
                    "user_id",
                    l("archive.user"),
                    Kind::Select(free),
                    "",
                ));
            }
            let mut skills = Field::new(
                "skills",
                l("archive.skills"),
                Kind::Checks(categories(lang)),
                "",
            );
            skills.value = x.as_ref().map(|x| x.skills.0.clone()).unwrap_or_default();
            v.extend([
                Field::new(
                    "org_unit_id",
                    l("archive.org_unit"),
                    Kind::Select(unit_options(s, p, true).await),
                    opt_num(x.as_ref().map(|x| x.org_unit_id)),
                ),
                skills,
                Field::new(
                    "start_address",
                    l("archive.address"),
                    Kind::Text,
                    x.as_ref()
                        .and_then(|x| x.start_address.clone())
                        .unwrap_or_default(),
                ),
                Field::new(
                    "start_lat",
                    l("archive.lat"),
                    Kind::Decimal,
                    opt_num(x.as_ref().map(|x| x.start_lat)),
                ),
                Field::new(
                    "start_lng",
                    l("archive.lng"),
                    Kind::Decimal,
                    opt_num(x.as_ref().map(|x| x.start_lng)),
                ),
            ]);
            if let Some(x) = &x {
                v.push(Field::new(
                    "senior",
                    l("archive.senior"),
                    Kind::Check,
                    if x.senior { "on" } else { "" },
                ));
                v.push(Field::new(
                    "active",
                    l("archive.active"),
                    Kind::Check,
                    if x.active { "on" } else { "" },
                ));
            }
            v
        }
    })
}

/// Puts the submitted values into the fields (so a refused form keeps what was typed) and builds
/// the JSON object; a number that does not parse is refused at its field.
fn fill(
    fields: &mut [Field],
    pairs: &[(String, String)],
    lang: Lang,
) -> Result<Map<String, Value>, ()> {
    let mut out = Map::new();
    let mut bad = false;
    for f in fields.iter_mut() {
        let vals: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == f.name)
            .map(|(_, v)| v.trim().to_string())
            .collect();
        f.value = vals.clone();
        let one = vals.first().cloned().unwrap_or_default();
        let v = match &f.kind {
            Kind::Check => Value::Bool(!one.is_empty()),
            Kind::Checks(_) => Value::Array(vals.into_iter().map(Value::String).collect()),
            Kind::List => Value::Array(
                one.split([',', '，', '、', ';', '；'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| Value::String(x.to_string()))
                    .collect(),
            ),
            Kind::Parts => {
                let mut parts = Vec::new();
                for item in one
                    .split([',', '，', ';', '；', '\n'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                {
                    let (name, price) = item.split_once(['=', '＝']).unwrap_or((item, "0"));
                    match parse_yuan(price) {
                        Some(fen) => {
                            parts.push(serde_json::json!({"name": name.trim(), "price_fen": fen}))
                        }
                        None => {
                            f.error = lang
                                .pick(
                                    &format!("“{item}”：请写成 名称=价格（元），如 压缩机=680"),
                                    &format!(
                                        "'{item}': write name=price in yuan, e.g. compressor=680"
                                    ),
                                )
                                .to_string();
                            bad = true;
                        }
                    }
                }
                Value::Array(parts)
            }
            _ if one.is_empty() => continue,
            Kind::Int => match one.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    f.error = lang.pick("请输入整数", "enter a whole number").to_string();
                    bad = true;
                    continue;
                }
            },
            Kind::Decimal => match one.parse::<f64>() {
                Ok(n) if n.is_finite() => Value::from(n),
                _ => {
                    f.error = lang.pick("请输入数字", "enter a number").to_string();
                    bad = true;
                    continue;
                }
            },
            Kind::Select(_) if f.name.ends_with("_id") => match one.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => continue,
            },
            Kind::Text | Kind::Password | Kind::Select(_) | Kind::Date => Value::String(one),
        };
        out.insert(f.name.to_string(), v);
    }
    if bad {
        Err(())
    } else {
        Ok(out)
    }
}

fn input<T: DeserializeOwned>(m: Map<String, Value>) -> Result<T, AppError> {
    serde_path_to_error::deserialize(Value::Object(m)).map_err(crate::input::json_error)
}

async fn fields_and_version(
    s: &AppState,
    p: &Page,
    rec: Rec,
    id: Option<i64>,
) -> Result<(Vec<Field>, Option<i64>), AppError> {
    Ok((
        fields(s, p, rec, id).await?,
        version_of(s, p, rec, id).await?,
    ))
}

/// The name of the record a form edits, for its title (which technician, which product …).
async fn name_of(s: &AppState, p: &Page, rec: Rec, id: Option<i64>) -> Option<String> {
    let id = id?;
    let (app, a) = (&s.app, &p.actor);
    match rec {
        Rec::Product => catalog::get_product(app, id)
            .await
            .ok()
            .map(|x| format!("{} {}", x.brand, x.model)),
        Rec::Policy => catalog::get_policy(app, id).await.ok().map(|x| x.name),
        Rec::OrgUnit => org::get_org_unit(app, a, id).await.ok().map(|x| x.name),
        Rec::User => org::get_user(app, a, id).await.ok().map(|x| x.display_name),
        Rec::Technician => org::get_technician(app, a, id)
            .await
            .ok()
            .map(|x| x.display_name),
        Rec::Device => shouhou_app::devices::get(app, a, id)
            .await
            .ok()
            .map(|x| x.serial),
    }
}

/// The version of the record a form edits (None for a new one).
async fn version_of(
    s: &AppState,
    p: &Page,
    rec: Rec,
    id: Option<i64>,
) -> Result<Option<i64>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let (app, a) = (&s.app, &p.actor);
    Ok(Some(match rec {
        Rec::Product => catalog::get_product(app, id).await?.version,
        Rec::Policy => catalog::get_policy(app, id).await?.version,
        Rec::OrgUnit => org::get_org_unit(app, a, id).await?.version,
        Rec::User => org::get_user(app, a, id).await?.version,
        Rec::Technician => org::get_technician(app, a, id).await?.version,
        Rec::Device => shouhou_app::devices::get(app, a, id).await?.version,
    }))
}

/// Creates (`id` = None) or changes the record through the app layer; returns its id.
async fn save(
    s: &AppState,
    p: &Page,
    rec: Rec,
    id: Option<i64>,
    v: Option<i64>,
    m: Map<String, Value>,
) -> Result<i64, AppError> {
    let (app, a) = (&s.app, &p.actor);
    Ok(match (rec, id) {
        (Rec::Product, None) => catalog::create_product(app, Some(a), input(m)?).await?.id,
        (Rec::Product, Some(id)) => catalog::update_product(app, a, id, v, input(m)?).await?.id,
        (Rec::Policy, None) => catalog::create_policy(app, Some(a), input(m)?).await?.id,
        (Rec::Policy, Some(id)) => catalog::update_policy(app, a, id, v, input(m)?).await?.id,
        (Rec::OrgUnit, None) => org::create_org_unit(app, a, input(m)?).await?.id,
        (Rec::OrgUnit, Some(id)) => org::update_org_unit(app, a, id, v, input(m)?).await?.id,
        (Rec::User, None) => org::create_user(app, a, input(m)?).await?.id,
        (Rec::User, Some(id)) => {
            let mut m = m;
            for f in ["password", "current_password"] {
                if m.get(f).and_then(Value::as_str).is_some_and(str::is_empty) {
                    m.remove(f);
                }
            }
            org::update_user(app, a, id, v, input(m)?).await?.id
        }
        (Rec::Technician, None) => org::create_technician(app, Some(a), input(m)?).await?.id,
        (Rec::Technician, Some(id)) => org::update_technician(app, a, id, v, input(m)?).await?.id,
        (Rec::Device, Some(id)) => {
            shouhou_app::devices::update(app, a, id, v, input(m)?)
                .await?
                .id
        }
        (Rec::Device, None) => return Err(AppError::NotFound),
    })
}

fn view(
    p: &Page,
    action: &str,
    fields: &[Field],
    version: Option<i64>,
    saved: bool,
    error: &str,
) -> String {
    FormView {
        t: p.t,
        action,
        fields,
        saved,
        error,
        version,
    }
    .render()
    .unwrap_or_default()
}

fn target(rec: Rec, id: Option<i64>) -> String {
    rec.form_url(id)
}

fn parse_id(s: &str) -> Option<Option<i64>> {
    if s == "new" {
        Some(None)
    } else {
        s.parse().ok().map(Some)
    }
}

/// `GET /{record}/new|{id}` and `POST` the same for every record with a form.
pub fn routes() -> axum::Router<AppState> {
    let mut r = axum::Router::new();
    for rec in [
        Rec::Product,
        Rec::Policy,
        Rec::Technician,
        Rec::OrgUnit,
        Rec::User,
        Rec::Device,
    ] {
        let path = if rec == Rec::Device {
            "/devices/{id}/edit".to_string()
        } else {
            format!("/{}/{{id}}", rec.path())
        };
        r = r.route(
            &path,
            axum::routing::get(move |s: State<AppState>, p: Page, id: Path<String>| {
                page(s, p, rec, id)
            })
            .post(
                move |s: State<AppState>,
                      p: Page,
                      id: Path<String>,
                      f: Form<Vec<(String, String)>>| { submit(s, p, rec, id, f) },
            ),
        );
    }
    r
}

/// `GET /{record}/new` and `GET /{record}/{id}`: the form on its own page.
async fn page(State(s): State<AppState>, p: Page, rec: Rec, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return err(AppError::NotFound);
    };
    if !rec.writers().contains(&p.actor.role()) {
        return err(AppError::Forbidden);
    }
    let fields = match fields(&s, &p, rec, id).await {
        Ok(f) => f,
        Err(e) => return err(e),
    };
    let version = match version_of(&s, &p, rec, id).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let action_label = p.t.t(if id.is_some() {
        "archive.edit"
    } else {
        "archive.new"
    });
    let title = match name_of(&s, &p, rec, id).await {
        Some(name) => format!("{} · {name} · {action_label}", p.t.t(rec.title_key())),
        None => format!("{} · {action_label}", p.t.t(rec.title_key())),
    };
    render(&FormPage {
        form: view(&p, &target(rec, id), &fields, version, false, ""),
        title,
        back: format!("/{}", rec.path()),
        back_label: p.t.t(rec.title_key()),
        c: p.chrome(),
    })
}

/// `POST /{record}/new` and `POST /{record}/{id}` (htmx): saves; a new record's page opens, a
/// refusal redraws the form with each message beside its field.
async fn submit(
    State(s): State<AppState>,
    p: Page,
    rec: Rec,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return err(AppError::NotFound);
    };
    let mut fields = match fields(&s, &p, rec, id).await {
        Ok(f) => f,
        Err(e) => return err(e),
    };
    let lang = p.actor.lang;
    let action = target(rec, id);
    let version = pairs
        .iter()
        .find(|(k, _)| k == "_version")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let Ok(m) = fill(&mut fields, &pairs, lang) else {
        return super::html(view(&p, &action, &fields, version, false, ""));
    };
    match save(&s, &p, rec, id, version, m).await {
        Ok(new_id) if id.is_none() => {
            let mut r = super::html(String::new());
            if let Ok(v) = HeaderValue::from_str(&format!("/{}/{new_id}", rec.path())) {
                r.headers_mut().insert("HX-Redirect", v);
            }
            r
        }
        Ok(_) => {
            // Redrawn from the saved record: its values and its new version.
            let fresh = fields_and_version(&s, &p, rec, id).await;
            match fresh {
                Ok((f, v)) => super::html(view(&p, &action, &f, v, true, "")),
                Err(e) => err(e),
            }
        }
        Err(e) => {
            let field = e
                .field()
                .map(|f| f.split(['[', '.']).next().unwrap_or(f).to_string());
            let at = field
                .as_deref()
                .and_then(|f| fields.iter_mut().find(|x| x.name == f));
            let general = match at {
                Some(x) => {
                    x.error = e.detail(lang);
                    String::new()
                }
                None => e.message(lang),
            };
            // A stale version keeps the form as typed; the message says who changed what.
            super::html(view(&p, &action, &fields, version, false, &general))
        }
    }
}

//! The archive: customers, devices (with their service history: the device is the hub), products,
//! warranty policies, technicians, org units and users (admin only).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_domain::{Category, Role};
use shouhou_store::repo::Page as Paging;

use super::forms::Rec;
use super::{err, render, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::AppState;

const PAGE: i64 = 50;

pub struct Row {
    href: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "archive_list.html")]
struct List {
    c: Chrome,
    title: String,
    tabs: Vec<(String, String)>,
    search: Option<String>,
    q: String,
    headers: Vec<String>,
    rows: Vec<Row>,
    prev: Option<String>,
    next: Option<String>,
    new_url: Option<String>,
}

#[derive(Template)]
#[template(path = "record.html")]
struct Record {
    c: Chrome,
    title: String,
    fields: Vec<(String, String)>,
    related_title: String,
    related: Vec<Row>,
    /// A fragment with the edit form, for those who may change the record.
    edit_url: Option<String>,
    /// A page with the edit form.
    edit_link: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    offset: Option<i64>,
}

fn tabs(p: &Page) -> Vec<(String, String)> {
    let mut v = vec![
        ("/customers", "archive.customers"),
        ("/devices", "archive.devices"),
        ("/products", "archive.products"),
        ("/warranty-policies", "archive.policies"),
        ("/technicians", "archive.technicians"),
        ("/org-units", "archive.org_units"),
    ];
    if p.actor.role() == Role::Admin {
        v.push(("/users", "archive.users"));
    }
    v.into_iter()
        .map(|(h, k)| (h.to_string(), p.t.t(k)))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn list_page(
    p: &Page,
    title_key: &str,
    headers: &[&str],
    rows: Vec<Row>,
    more: bool,
    path: &str,
    q: &ListQuery,
    searchable: bool,
) -> Response {
    let offset = q.offset.unwrap_or(0).max(0);
    let qs = q.q.clone().unwrap_or_default();
    let link = |off: i64| format!("{path}?offset={off}&q={qs}");
    let rec = [
        Rec::Product,
        Rec::Policy,
        Rec::Technician,
        Rec::OrgUnit,
        Rec::User,
    ]
    .into_iter()
    .find(|r| format!("/{}", r.path()) == path);
    let new_url = rec
        .filter(|r| r.writers().contains(&p.actor.role()))
        .map(|r| format!("/{}/new", r.path()));
    render(&List {
        new_url,
        title: p.t.t(title_key),
        tabs: tabs(p),
        search: searchable.then(|| p.t.t("archive.search")),
        q: qs.clone(),
        headers: headers.iter().map(|h| p.t.t(h)).collect(),
        next: more.then(|| link(offset + PAGE)),
        prev: (offset > 0).then(|| link((offset - PAGE).max(0))),
        rows,
        c: p.chrome(),
    })
}

fn paging(q: &ListQuery) -> Paging {
    Paging {
        limit: PAGE,
        offset: q.offset.unwrap_or(0).max(0),
    }
}

fn cat(p: &Page, c: Category) -> String {
    c.label(p.actor.lang).to_string()
}

pub async fn customers(State(s): State<AppState>, p: Page, Query(q): Query<ListQuery>) -> Response {
    let name = q.q.as_deref().filter(|x| !x.trim().is_empty());
    let list = match shouhou_app::customers::list(&s.app, &p.actor, name, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    let rows = list
        .items
        .into_iter()
        .map(|c| Row {
            href: format!("/customers/{}", c.id),
            cells: vec![
                c.name,
                c.phones.join(" / "),
                c.addresses
                    .first()
                    .map(|a| a.address.clone())
                    .unwrap_or_default(),
                c.tier.label(p.actor.lang).to_string(),
            ],
        })
        .collect();
    list_page(
        &p,
        "archive.customers",
        &[
            "archive.name",
            "archive.phone",
            "archive.address",
            "archive.tier",
        ],
        rows,
        more,
        "/customers",
        &q,
        true,
    )
}

/// An address with its place, for the customer and work-order pages: a placeholder place is
/// marked "位置待确认" and, for those who may, comes with the form to set it.
pub struct PlaceRow {
    pub customer_id: i64,
    pub address_id: i64,
    pub version: i64,
    pub text: String,
    pub confirmed: bool,
    pub by: String,
    pub lat: String,
    pub lng: String,
    pub may_set: bool,
}

pub fn place_row(
    p: &Page,
    c: &shouhou_store::records::Customer,
    a: &shouhou_store::records::Address,
) -> PlaceRow {
    PlaceRow {
        customer_id: c.id,
        address_id: a.id,
        version: c.version,
        text: a.address.clone(),
        confirmed: a.location_confirmed,
        by: a.located_by.label(p.actor.lang).to_string(),
        lat: format!("{:.6}", a.lat),
        lng: format!("{:.6}", a.lng),
        may_set: !a.location_confirmed
            && shouhou_app::customers::LOCATORS.contains(&p.actor.role()),
    }
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    c: Chrome,
    id: i64,
    name: String,
    fields: Vec<(String, String)>,
    places: Vec<PlaceRow>,
    geocoding: bool,
    /// Other customers with one of these phones: (id, name, phones, first address).
    duplicates: Vec<(i64, String, String, String)>,
    may_merge: bool,
    edit_url: Option<String>,
    devices: Vec<Row>,
}

pub async fn customer(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let c = match shouhou_app::customers::get(&s.app, &p.actor, id).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let devices = shouhou_app::devices::list(
        &s.app,
        &p.actor,
        Some(id),
        Paging {
            limit: 200,
            offset: 0,
        },
    )
    .await
    .unwrap_or_default();
    let mut related = Vec::new();
    for d in devices.items {
        let name = shouhou_store::repo::products::get(&s.app.db, d.product_id)
            .await
            .map(|p| p.name)
            .unwrap_or_default();
        related.push(Row {
            href: format!("/devices/{}", d.id),
            cells: vec![d.serial, name, d.purchase_date.to_string()],
        });
    }
    let t = p.t;
    let unit = shouhou_store::repo::org_units::get(&s.app.db, &p.actor.vis, c.org_unit_id)
        .await
        .map(|u| u.name)
        .unwrap_or_default();
    let duplicates = shouhou_app::customers::duplicates(&s.app, &p.actor, &c.phones, Some(id))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let address = d
                .addresses
                .first()
                .map(|a| a.address.clone())
                .unwrap_or_default();
            (d.id, d.name, d.phones.join(" / "), address)
        })
        .collect();
    render(&CustomerPage {
        id,
        name: c.name.clone(),
        fields: vec![
            (t.t("archive.phone"), c.phones.join(" / ")),
            (t.t("archive.tier"), c.tier.label(p.actor.lang).to_string()),
            (t.t("archive.unit"), unit),
        ],
        places: c.addresses.iter().map(|a| place_row(&p, &c, a)).collect(),
        geocoding: shouhou_app::geocoding::is_configured(&s.app).await,
        duplicates,
        may_merge: matches!(p.actor.role(), Role::Admin | Role::Manager),
        edit_url: shouhou_app::customers::ARCHIVE_WRITERS
            .contains(&p.actor.role())
            .then(|| format!("/customers/{id}/edit")),
        devices: related,
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct LocationForm {
    version: Option<i64>,
    lat: String,
    lng: String,
}

/// `POST /customers/{id}/addresses/{address}/location`: the dispatcher sets an address's place;
/// the page reloads with it confirmed, a refusal is shown beside the form.
pub async fn set_location(
    State(s): State<AppState>,
    p: Page,
    Path((id, address)): Path<(i64, i64)>,
    Form(f): Form<LocationForm>,
) -> Response {
    let lang = p.actor.lang;
    let number = |v: &str, field: &str| {
        v.trim().parse::<f64>().map_err(|_| {
            AppError::invalid(
                field,
                shouhou_domain::ValidationError::Invalid {
                    zh: "请填写数字坐标（如 30.27）".into(),
                    en: "give a number (e.g. 30.27)".into(),
                },
            )
        })
    };
    let result = match (number(&f.lat, "lat"), number(&f.lng, "lng")) {
        (Ok(lat), Ok(lng)) => {
            shouhou_app::customers::confirm_location(
                &s.app, &p.actor, id, address, f.version, lat, lng,
            )
            .await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(_) => (
            [("hx-refresh", "true")],
            Html(format!("<p class=\"notice\">{}</p>", p.t.t("wo.saved"))),
        )
            .into_response(),
        Err(e) => Html(format!(
            "<p class=\"error\" id=\"location-error\">{}</p>",
            e.message(lang).replace('&', "&amp;").replace('<', "&lt;")
        ))
        .into_response(),
    }
}

#[derive(Deserialize)]
pub struct MergeForm {
    merged: i64,
}

/// `POST /customers/{id}/merge`: another customer with the same phone is merged into this one.
pub async fn merge(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Response {
    match shouhou_app::customers::merge(&s.app, &p.actor, id, f.merged).await {
        Ok(_) => (
            [("hx-refresh", "true")],
            Html(format!("<p class=\"notice\">{}</p>", p.t.t("wo.saved"))),
        )
            .into_response(),
        Err(e) => Html(format!(
            "<p class=\"error\" id=\"merge-error\">{}</p>",
            e.message(p.actor.lang)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
        ))
        .into_response(),
    }
}

pub async fn devices(State(s): State<AppState>, p: Page, Query(q): Query<ListQuery>) -> Response {
    let list = match shouhou_app::devices::list(&s.app, &p.actor, None, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    let rows = list
        .items
        .into_iter()
        .map(|d| Row {
            href: format!("/devices/{}", d.id),
            cells: vec![d.serial, d.brand, d.purchase_date.to_string()],
        })
        .collect();
    list_page(
        &p,
        "archive.devices",
        &["archive.serial", "archive.brand", "archive.purchase"],
        rows,
        more,
        "/devices",
        &q,
        false,
    )
}

/// The device page: its card and its whole service history.
pub async fn device(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let h = match shouhou_app::devices::history(&s.app, &p.actor, id).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let lang = p.actor.lang;
    let t = p.t;
    let card = &h.card;
    let owner =
        shouhou_store::repo::customers::get(&s.app.db, &p.actor.vis, card.device.customer_id)
            .await
            .map(|c| c.name)
            .unwrap_or_default();
    let related = h
        .work_orders
        .iter()
        .map(|w| Row {
            href: format!("/work-orders/{}", w.id),
            cells: vec![
                w.number.clone(),
                w.kind.label(lang).to_string(),
                w.status.label(lang).to_string(),
                p.time(&s, w.created_at),
                w.fault_description.clone(),
            ],
        })
        .collect();
    render(&Record {
        title: format!("{} · {}", card.product.name, card.device.serial),
        fields: vec![
            (t.t("archive.owner"), owner),
            (t.t("archive.category"), cat(&p, card.product.category)),
            (
                t.t("archive.purchase"),
                card.device.purchase_date.to_string(),
            ),
            (
                t.t("archive.install"),
                card.device
                    .install_date
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
            (
                t.t("wo.warranty"),
                card.warranty_today.label(lang).to_string(),
            ),
            (
                t.t("archive.warranty_until"),
                format!(
                    "{} / {}",
                    card.cover.whole_unit_until, card.cover.main_parts_until
                ),
            ),
            (
                t.t("archive.policies"),
                format!("{} · {}", card.policy.name, card.policy.manufacturer),
            ),
            (
                t.t("archive.main_parts_list"),
                card.policy.main_parts.0.join("、"),
            ),
        ],
        related_title: t.t("archive.history"),
        related,
        edit_url: None,
        edit_link: Rec::Device
            .writers()
            .contains(&p.actor.role())
            .then(|| Rec::Device.form_url(Some(card.device.id))),
        c: p.chrome(),
    })
}

pub async fn products(State(s): State<AppState>, p: Page, Query(q): Query<ListQuery>) -> Response {
    let list = match shouhou_app::catalog::list_products(&s.app, None, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    let rows = list
        .items
        .into_iter()
        .map(|x| Row {
            href: format!("/products/{}", x.id),
            cells: vec![x.name, x.brand, x.model, cat(&p, x.category)],
        })
        .collect();
    list_page(
        &p,
        "archive.products",
        &[
            "archive.name",
            "archive.brand",
            "archive.model",
            "archive.category",
        ],
        rows,
        more,
        "/products",
        &q,
        false,
    )
}

pub async fn policies(State(s): State<AppState>, p: Page, Query(q): Query<ListQuery>) -> Response {
    let list = match shouhou_app::catalog::list_policies(&s.app, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    let rows = list
        .items
        .into_iter()
        .map(|x| Row {
            href: format!("/warranty-policies/{}", x.id),
            cells: vec![
                x.name,
                x.manufacturer,
                x.whole_unit_months.to_string(),
                x.main_parts_months.to_string(),
                x.main_parts.0.join("、"),
            ],
        })
        .collect();
    list_page(
        &p,
        "archive.policies",
        &[
            "archive.name",
            "archive.manufacturer",
            "archive.whole_unit",
            "archive.main_parts",
            "archive.main_parts_list",
        ],
        rows,
        more,
        "/warranty-policies",
        &q,
        false,
    )
}

pub async fn technicians(
    State(s): State<AppState>,
    p: Page,
    Query(q): Query<ListQuery>,
) -> Response {
    let list = match shouhou_app::org::list_technicians(&s.app, &p.actor, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    let rows = list
        .items
        .into_iter()
        .map(|x| Row {
            href: format!("/technicians/{}", x.id),
            cells: vec![
                x.display_name,
                x.skills
                    .0
                    .iter()
                    .map(|k| {
                        Category::parse_field(k, "skill")
                            .map(|c| cat(&p, c))
                            .unwrap_or_else(|_| k.clone())
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
                x.start_address.unwrap_or_default(),
            ],
        })
        .collect();
    list_page(
        &p,
        "archive.technicians",
        &["archive.name", "archive.skills", "archive.address"],
        rows,
        more,
        "/technicians",
        &q,
        false,
    )
}

pub async fn org_units(State(s): State<AppState>, p: Page, Query(q): Query<ListQuery>) -> Response {
    let list = match shouhou_app::org::list_org_units(&s.app, &p.actor, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    let rows = list
        .items
        .into_iter()
        .map(|x| Row {
            href: format!("/org-units/{}", x.id),
            cells: vec![
                x.name,
                x.code,
                x.kind.label(p.actor.lang).to_string(),
                x.address.unwrap_or_default(),
            ],
        })
        .collect();
    list_page(
        &p,
        "archive.org_units",
        &[
            "archive.name",
            "archive.code",
            "archive.kind",
            "archive.address",
        ],
        rows,
        more,
        "/org-units",
        &q,
        false,
    )
}

pub async fn users(State(s): State<AppState>, p: Page, Query(q): Query<ListQuery>) -> Response {
    if p.actor.role() != Role::Admin {
        return err(AppError::Forbidden);
    }
    let list = match shouhou_app::org::list_users(&s.app, &p.actor, paging(&q)).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let more = list.has_more();
    // The unit each user belongs to, by name (the store a clerk or technician works for).
    let units = shouhou_store::repo::org_units::all(&s.app.db)
        .await
        .unwrap_or_default();
    let unit_name = |id: i64| {
        units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let lang = p.actor.lang;
    let rows = list
        .items
        .into_iter()
        .map(|u| Row {
            href: format!("/users/{}", u.id),
            cells: vec![
                u.username,
                u.display_name,
                u.role.label(lang).to_string(),
                unit_name(u.org_unit_id),
                lang.pick(
                    if u.active { "在用" } else { "已停用" },
                    if u.active { "active" } else { "disabled" },
                ),
            ],
        })
        .collect();
    list_page(
        &p,
        "archive.users",
        &[
            "archive.username",
            "archive.name",
            "archive.role",
            "archive.org_unit",
            "archive.active",
        ],
        rows,
        more,
        "/users",
        &q,
        false,
    )
}

#[derive(Template)]
#[template(path = "customer_edit_partial.html")]
struct CustomerEdit {
    t: crate::i18n::T,
    id: i64,
    version: i64,
    name: String,
    phones: String,
    tier: String,
    tiers: Vec<(String, String)>,
    note: String,
    saved: bool,
    error: String,
    error_field: String,
}

fn edit_form(
    p: &Page,
    c: &shouhou_store::records::Customer,
    saved: bool,
    error: String,
    error_field: String,
) -> Response {
    render(&CustomerEdit {
        t: p.t,
        id: c.id,
        version: c.version,
        name: c.name.clone(),
        phones: c.phones.join(", "),
        tier: c.tier.as_str().to_string(),
        tiers: shouhou_domain::Tier::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), t.label(p.actor.lang).to_string()))
            .collect(),
        note: c.note.clone().unwrap_or_default(),
        saved,
        error,
        error_field,
    })
}

pub async fn customer_edit(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    match shouhou_app::customers::get(&s.app, &p.actor, id).await {
        Ok(c) => edit_form(&p, &c, false, String::new(), String::new()),
        Err(e) => err(e),
    }
}

#[derive(Deserialize)]
pub struct CustomerForm {
    name: String,
    phones: String,
    tier: shouhou_domain::Tier,
    note: String,
    /// The version the form was drawn from: a change saved meanwhile by someone else is refused.
    version: Option<i64>,
}

/// Saves the customer; a refusal keeps what was typed and shows the message beside the field.
pub async fn customer_save(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<CustomerForm>,
) -> Response {
    let patch = shouhou_app::customers::CustomerPatch {
        name: Some(f.name.clone()),
        tier: Some(f.tier),
        note: Some(f.note.clone()),
        phones: Some(
            f.phones
                .split([',', '，', ';'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        ..Default::default()
    };
    match shouhou_app::customers::update(&s.app, &p.actor, id, f.version, patch).await {
        Ok(c) => edit_form(&p, &c, true, String::new(), String::new()),
        Err(e) => {
            let Ok(mut c) = shouhou_app::customers::get(&s.app, &p.actor, id).await else {
                return err(e);
            };
            c.name = f.name;
            c.note = Some(f.note);
            c.phones = vec![f.phones];
            let field = e.field().unwrap_or("").to_string();
            let shown = field == "name" || field.starts_with("phones");
            let (msg, field) = if shown {
                (e.detail(p.actor.lang), field)
            } else {
                (e.message(p.actor.lang), String::new())
            };
            edit_form(&p, &c, false, msg, field)
        }
    }
}

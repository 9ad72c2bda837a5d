//! QR label sheets: pick a store, print its devices' labels on A4.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_domain::OrgKind;
use shouhou_store::repo::Page as Paging;

use super::{err, html, render, Chrome, Page};
use crate::extract::Query;
use crate::AppState;

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    c: Chrome,
    stores: Vec<(String, String)>,
}

/// `GET /labels`: pick a store, open its label sheet.
pub async fn labels(State(s): State<AppState>, p: Page) -> Response {
    if !p.actor.role().is_office() {
        return err(AppError::Forbidden);
    }
    let units = shouhou_app::org::list_org_units(&s.app, &p.actor, Paging::LARGEST)
        .await
        .unwrap_or_default()
        .items;
    render(&LabelsPage {
        stores: units
            .into_iter()
            .filter(|u| u.kind != OrgKind::Partner)
            .map(|u| (u.code.clone(), format!("{} ({})", u.name, u.code)))
            .collect(),
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct SheetQuery {
    store: String,
    offset: Option<i64>,
    limit: Option<i64>,
}

/// The link printed on labels: this server as the browser reached it.
fn base_url(h: &HeaderMap) -> String {
    let host = h
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let proto = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// `GET /labels/sheet?store=CODE`: the printable A4 sheet.
pub async fn sheet(
    State(s): State<AppState>,
    p: Page,
    headers: HeaderMap,
    Query(q): Query<SheetQuery>,
) -> Response {
    if !p.actor.role().is_office() {
        return err(AppError::Forbidden);
    }
    let unit = match shouhou_app::labels::store_unit(&s.app, Some(&p.actor), &q.store).await {
        Ok(u) => u,
        Err(e) => return err(e),
    };
    let base = s
        .app
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| base_url(&headers));
    match shouhou_app::labels::labels(
        &s.app,
        &unit,
        &base,
        q.offset.unwrap_or(0),
        q.limit.unwrap_or(240),
    )
    .await
    {
        Ok(l) => html(shouhou_app::labels::sheet(
            &format!("{} · {}", unit.name, p.t.t("labels.title")),
            &p.t.t("labels.scan"),
            &l,
        )),
        Err(e) => err(e),
    }
}

//! The service report (服务报告单) printable on A4, and its rows in the reader's language (shared
//! with the technician's visit page and the review queue).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use shouhou_app::service::{self, ServiceReport};
use shouhou_domain::money::yuan;
use shouhou_domain::{Lang, VisitOutcome};

use super::{err, render, Page};
use crate::extract::Path;
use crate::AppState;

pub(super) fn payer_label(p: &str, lang: Lang) -> String {
    shouhou_domain::fees::Payer::parse_field(p, "payer")
        .map(|x| x.label(lang).to_string())
        .unwrap_or_else(|_| p.to_string())
}

pub(super) fn charge_label(k: &str, lang: Lang) -> String {
    shouhou_domain::fees::ChargeKind::parse_field(k, "kind")
        .map(|x| x.label(lang).to_string())
        .unwrap_or_else(|_| k.to_string())
}

pub struct VisitRow {
    seq: i64,
    technician: String,
    times: String,
    outcome: String,
    findings: String,
    work_done: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Printable {
    t: crate::i18n::T,
    id: i64,
    org: String,
    number: String,
    kind: String,
    customer: String,
    phone: String,
    warranty: String,
    address: String,
    device: String,
    fault: String,
    visits: Vec<VisitRow>,
    /// (item, qty, amount, payer)
    lines: Vec<(String, String, String, String)>,
    customer_total: String,
    manufacturer_total: String,
    photos: Vec<i64>,
    signature: String,
    signed_by: String,
    signed_at: String,
}

/// The report's rows in the reader's language, shared by the printable page and the review queue.
pub fn lines(r: &ServiceReport, lang: Lang) -> Vec<(String, String, String, String)> {
    let mut v: Vec<(String, String, String, String)> = r
        .charges
        .iter()
        .map(|c| {
            (
                charge_label(&c.kind, lang),
                "1".into(),
                yuan(c.amount_fen),
                payer_label(&c.payer, lang),
            )
        })
        .collect();
    v.extend(r.parts.iter().map(|l| {
        let main = if l.main_part {
            crate::i18n::T(lang).t("report.main_part")
        } else {
            String::new()
        };
        (
            format!("{}{main}", l.name),
            l.qty.to_string(),
            yuan(l.unit_price_fen * l.qty),
            payer_label(&l.payer, lang),
        )
    }));
    v
}

/// `GET /work-orders/{id}/report`: the service report (服务报告单), printable on A4.
pub async fn printable(State(s): State<AppState>, p: Page, Path(id): Path<i64>) -> Response {
    let r = match service::report(&s.app, &p.actor, id).await {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let lang = p.actor.lang;
    let org = shouhou_store::repo::org_units::get(&s.app.db, &p.actor.vis, r.order.org_unit_id)
        .await
        .map(|u| u.name)
        .unwrap_or_default();
    let sig = r.signature();
    render(&Printable {
        t: p.t,
        id,
        org,
        number: r.order.number.clone(),
        kind: r.order.kind.label(lang).to_string(),
        customer: r.customer_name.clone(),
        phone: r.customer_phone.clone(),
        warranty: r.order.warranty_decision.label(lang).to_string(),
        address: r.address.clone(),
        device: r
            .product
            .as_ref()
            .map(|x| format!("{} · {}", x.name, r.serial.clone().unwrap_or_default()))
            .unwrap_or_default(),
        fault: r.order.fault_description.clone(),
        visits: r
            .visits
            .iter()
            .map(|v| VisitRow {
                seq: v.seq,
                technician: v.technician_name.clone().unwrap_or_default(),
                times: [v.arrived_at, v.left_at]
                    .iter()
                    .flatten()
                    .map(|t| p.time(&s, *t))
                    .collect::<Vec<_>>()
                    .join(" – "),
                outcome: v
                    .outcome
                    .as_deref()
                    .and_then(|o| VisitOutcome::parse_field(o, "outcome").ok())
                    .map(|o| o.label(lang).to_string())
                    .unwrap_or_default(),
                findings: v.findings.clone().unwrap_or_default(),
                work_done: v.work_done.clone().unwrap_or_default(),
            })
            .collect(),
        lines: lines(&r, lang),
        customer_total: yuan(r.totals.customer_fen),
        manufacturer_total: yuan(r.totals.manufacturer_fen),
        photos: r.photos.iter().map(|x| x.id).collect(),
        signature: sig.and_then(|v| v.signature.clone()).unwrap_or_default(),
        signed_by: sig.and_then(|v| v.signed_by.clone()).unwrap_or_default(),
        signed_at: sig
            .and_then(|v| v.signed_at)
            .map(|t| p.time(&s, t))
            .unwrap_or_default(),
    })
}

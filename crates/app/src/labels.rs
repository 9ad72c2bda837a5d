//! QR labels for the devices of a store: an A4 HTML sheet (3 × 8 labels a page) with each
//! device's self-service link `/s/{token}` as an inline SVG QR code, ready to print.

use qrcode::render::svg;
use qrcode::QrCode;
use shouhou_store::records::OrgUnit;
use shouhou_store::repo::{devices, org_units, products, Page};
use shouhou_store::Visibility;

use crate::actor::subtree;
use crate::{Actor, App, AppError, Result};

pub struct Label {
    pub url: String,
    pub product: String,
    pub serial: String,
    /// Inline SVG of the QR code.
    pub svg: String,
}

/// The QR code of `text` as an SVG element (no XML declaration), `px` wide.
pub fn qr_svg(text: &str, px: u32) -> Result<String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
    let s = code
        .render::<svg::Color>()
        .min_dimensions(px, px)
        .quiet_zone(true)
        .build();
    Ok(match s.find("<svg") {
        Some(i) => s[i..].to_string(),
        None => s,
    })
}

/// The store named by code (or id), if the actor (when given) sees it.
pub async fn store_unit(app: &App, actor: Option<&Actor>, code: &str) -> Result<OrgUnit> {
    let units = org_units::all(&app.db).await?;
    let u = units
        .into_iter()
        .find(|u| u.code == code || u.id.to_string() == code)
        .ok_or(AppError::NotFound)?;
    if actor.is_some_and(|a| !a.sees_unit(u.id)) {
        return Err(AppError::NotFound);
    }
    Ok(u)
}

/// Labels for up to `limit` devices of `unit` and the units below it, from `offset`.
pub async fn labels(
    app: &App,
    unit: &OrgUnit,
    base_url: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<Label>> {
    let all = org_units::all(&app.db).await?;
    let vis = Visibility::everything(subtree(&all, unit.id));
    let list = devices::list(
        &app.db,
        &vis,
        None,
        Page {
            limit: limit.clamp(1, 5000),
            offset: offset.max(0),
        },
    )
    .await?
    .items;
    let mut names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    let base = base_url.trim_end_matches('/');
    for d in list {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(d.product_id) {
            e.insert(
                products::get(&app.db, d.product_id)
                    .await
                    .map(|p| p.name)
                    .unwrap_or_default(),
            );
        }
        let url = format!("{base}/s/{}", d.qr_token);
        out.push(Label {
            svg: qr_svg(&url, 132)?,
            product: names[&d.product_id].clone(),
            serial: d.serial,
            url,
        });
    }
    Ok(out)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The style of the printed sheet, inline so the sheet also works as a file of its own; the
/// pages' Content-Security-Policy allows exactly this text by its hash.
pub const SHEET_CSS: &str = "\
        @page { size: A4; margin: 8mm; }\
        body { margin: 0; font: 10px/1.3 \"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\", sans-serif; }\
        .sheet { display: grid; grid-template-columns: repeat(3, 64mm); grid-auto-rows: 35mm; gap: 0 2mm; }\
        .label { display: flex; align-items: center; gap: 2mm; border: 0.2mm dashed #bbb; padding: 1.5mm; overflow: hidden; break-inside: avoid; }\
        .label svg { width: 30mm; height: 30mm; flex: none; }\
        .label b { display: block; font-size: 11px; }\
        .label small { color: #555; word-break: break-all; }\
        .label:nth-child(24n) { break-after: page; }\
        ";

/// The printable sheet: A4 pages of 3 × 8 labels, each with the QR code, product and serial.
pub fn sheet(title: &str, hint: &str, labels: &[Label]) -> String {
    let mut h = String::with_capacity(labels.len() * 4000 + 2000);
    h.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
    h.push_str(&esc(title));
    h.push_str("</title><style>");
    h.push_str(SHEET_CSS);
    h.push_str("</style></head><body><div class=\"sheet\">");
    for l in labels {
        h.push_str("<div class=\"label\">");
        h.push_str(&l.svg);
        h.push_str("<div><b>");
        h.push_str(&esc(&l.product));
        h.push_str("</b>");
        h.push_str(&esc(&l.serial));
        h.push_str("<br><small>");
        h.push_str(&esc(hint));
        h.push_str("</small><br><small>");
        h.push_str(&esc(&l.url));
        h.push_str("</small></div></div>");
    }
    h.push_str("</div></body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_is_an_svg_element() {
        let s = qr_svg("http://shop.example/s/abc123", 100).unwrap();
        assert!(s.starts_with("<svg"), "{}", &s[..40]);
        assert!(s.contains("<path") || s.contains("<rect"));
    }

    #[test]
    fn sheet_escapes_and_lists_every_label() {
        let l = Label {
            url: "http://x/s/t".into(),
            product: "A<B".into(),
            serial: "S1".into(),
            svg: "<svg></svg>".into(),
        };
        let h = sheet("标签", "扫码报修", &[l.clone_like(), l]);
        assert_eq!(h.matches("class=\"label\"").count(), 2);
        assert!(h.contains("A&lt;B") && !h.contains("A<B"));
    }

    impl Label {
        fn clone_like(&self) -> Label {
            Label {
                url: self.url.clone(),
                product: self.product.clone(),
                serial: self.serial.clone(),
                svg: self.svg.clone(),
            }
        }
    }
}

//! Satisfaction by item (分项满意度): the CSI of each questionnaire item for a period, as a radar
//! against the period before, the answers behind each score and the improvement priority; the
//! same by store, technician, brand or type; the Excel download; and the questionnaires (an
//! admin edits them, the office reads them).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use shouhou_app::csi::{self as uc, item_label, QuestionnaireInput, Table};
use shouhou_app::kpi::{By, Period};
use shouhou_app::AppError;
use shouhou_domain::csi::ItemScore;
use shouhou_domain::kpi as def;
use shouhou_domain::{Lang, OrgKind, Role, WorkOrderType};
use shouhou_store::repo::org_units;

use super::kpi::{charts, filter_args, query_of, Form};
use super::{err, render, Chrome, Page};
use crate::extract::{Form as PostForm, Path, Query};
use crate::AppState;

/// One item line of the total table.
pub struct ItemLine {
    pub item: String,
    pub n: i64,
    pub very: i64,
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
    pub csi: String,
    pub before: String,
    pub low_share: String,
    pub priority: String,
    pub priority_class: String,
}

#[derive(Template)]
#[template(path = "csi.html")]
struct CsiPage {
    c: Chrome,
    periods: Vec<(String, String, bool)>,
    from: String,
    to: String,
    range: String,
    units: Vec<(i64, String, bool)>,
    lines: Vec<ItemLine>,
    /// 非常满意 … 不满意 in the reader's language.
    rating_heads: Vec<String>,
    radar: String,
    bys: Vec<(String, String, bool)>,
    by_label: String,
    head: Vec<String>,
    groups: Vec<(String, Vec<String>)>,
    export: String,
}

fn csi_text(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into())
}

fn find<'a>(t: &'a Table, item: &str) -> Option<&'a ItemScore> {
    t.rows
        .first()
        .and_then(|r| r.items.iter().find(|i| i.item == item))
}

/// The groupings the page offers.
const BYS: &[By] = &[
    By::Store,
    By::Technician,
    By::Brand,
    By::Kind,
    By::Category,
    By::Month,
];

/// `GET /csi`: CSI by item for the period (default this month).
pub async fn page(State(s): State<AppState>, p: Page, Query(f): Query<Form>) -> Response {
    let lang = p.actor.lang;
    let zh = lang == Lang::ZhCn;
    let (q, period) = query_of(&f, s.app.today());
    let by = f.by.as_deref().and_then(By::parse).unwrap_or(By::Store);
    let prev_q = q.previous();
    let mut gq = q.clone();
    gq.by = by;
    let r = async {
        let now = uc::table(&s.app, &p.actor, &q).await?;
        let prev = uc::table(&s.app, &p.actor, &prev_q).await?;
        let groups = uc::table(&s.app, &p.actor, &gq).await?;
        let units = org_units::all(&s.app.db).await?;
        Ok::<_, AppError>((now, prev, groups, units))
    }
    .await;
    let (now, prev, groups, units) = match r {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let items: Vec<&ItemScore> = now
        .rows
        .first()
        .map(|r| r.items.iter().collect())
        .unwrap_or_default();
    let lines = items
        .iter()
        .map(|i| ItemLine {
            item: item_label(&i.item, lang),
            n: i.n,
            very: i.very_satisfied,
            satisfied: i.satisfied,
            neutral: i.neutral,
            dissatisfied: i.dissatisfied,
            csi: csi_text(i.csi),
            before: csi_text(find(&prev, &i.item).and_then(|x| x.csi)),
            low_share: i
                .low_share()
                .map(|v| format!("{:.1}%", def::round_half_away(v * 100.0, 1)))
                .unwrap_or_else(|| "—".into()),
            priority: i.priority.map(|n| n.to_string()).unwrap_or_default(),
            priority_class: i
                .priority
                .map(|n| format!("priority-{n}"))
                .unwrap_or_default(),
        })
        .collect();
    let axes: Vec<String> = items.iter().map(|i| item_label(&i.item, lang)).collect();
    let radar = charts::radar(
        if zh {
            "分项满意度（满分 100）"
        } else {
            "Satisfaction by item (out of 100)"
        },
        &axes,
        &[
            (
                format!(
                    "{}{} – {}",
                    if zh { "本期 " } else { "This period " },
                    q.from,
                    q.to
                ),
                "now",
                items.iter().map(|i| i.csi.map(|v| v / 100.0)).collect(),
            ),
            (
                format!(
                    "{}{} – {}",
                    if zh { "上期 " } else { "Previous " },
                    prev_q.from,
                    prev_q.to
                ),
                "before",
                items
                    .iter()
                    .map(|i| find(&prev, &i.item).and_then(|x| x.csi).map(|v| v / 100.0))
                    .collect(),
            ),
        ],
    );
    let head: Vec<String> = items.iter().map(|i| item_label(&i.item, lang)).collect();
    let group_rows = groups
        .rows
        .iter()
        .map(|r| {
            let cells = items
                .iter()
                .map(|i| {
                    r.items
                        .iter()
                        .find(|x| x.item == i.item)
                        .map(|x| format!("{} ({})", csi_text(x.csi), x.n))
                        .unwrap_or_else(|| "—".into())
                })
                .collect();
            (r.group.name.clone(), cells)
        })
        .collect();
    let periods = Period::ALL
        .iter()
        .map(|pp| {
            (
                format!(
                    "/csi?period={}{}&by={}",
                    pp.as_str(),
                    filter_args(&q),
                    by.as_str()
                ),
                pp.label(lang).to_string(),
                period == Some(*pp),
            )
        })
        .collect();
    let base = format!("/csi?from={}&to={}{}", q.from, q.to, filter_args(&q));
    render(&CsiPage {
        periods,
        from: q.from.to_string(),
        to: q.to.to_string(),
        range: if q.from == q.to {
            q.from.to_string()
        } else {
            format!("{} – {}", q.from, q.to)
        },
        units: units
            .iter()
            .filter(|u| p.actor.sees_unit(u.id) && u.kind != OrgKind::Partner)
            .map(|u| (u.id, u.name.clone(), q.unit_id == Some(u.id)))
            .collect(),
        lines,
        rating_heads: shouhou_domain::Rating::ALL
            .iter()
            .map(|r| r.label(lang).to_string())
            .collect(),
        radar,
        bys: BYS
            .iter()
            .map(|b| {
                (
                    format!("{base}&by={}", b.as_str()),
                    b.label(lang).to_string(),
                    *b == by,
                )
            })
            .collect(),
        by_label: by.label(lang).to_string(),
        head,
        groups: group_rows,
        export: format!(
            "/csi/export.xlsx?from={}&to={}{}&by={}",
            q.from,
            q.to,
            filter_args(&q),
            by.as_str()
        ),
        c: p.chrome(),
    })
}

/// `GET /csi/export.xlsx`: the page's numbers as Excel: the total and every group, one line per
/// item with its answers by rating, points, CSI, low answers and priority.
pub async fn export(State(s): State<AppState>, p: Page, Query(f): Query<Form>) -> Response {
    use rust_xlsxwriter::{Format, Workbook};
    let lang = p.actor.lang;
    let zh = lang == Lang::ZhCn;
    let (q, _) = query_of(&f, s.app.today());
    let by = f.by.as_deref().and_then(By::parse).unwrap_or(By::Store);
    let mut gq = q.clone();
    gq.by = by;
    let r = async {
        let total = uc::table(&s.app, &p.actor, &q).await?;
        let groups = uc::table(&s.app, &p.actor, &gq).await?;
        Ok::<_, AppError>((total, groups))
    }
    .await;
    let (total, groups) = match r {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let one = Format::new().set_num_format("0.0");
    let sheet = book.add_worksheet();
    let head: &[&str] = if zh {
        &[
            "分组",
            "题目",
            "答复数",
            "非常满意",
            "满意",
            "一般",
            "不满意",
            "得分（三分之一分）",
            "满意度",
            "低分数",
            "改进优先级",
        ]
    } else {
        &[
            "Group",
            "Item",
            "Answers",
            "Very satisfied",
            "Satisfied",
            "Neutral",
            "Dissatisfied",
            "Points (thirds)",
            "CSI",
            "Low answers",
            "Priority",
        ]
    };
    let written = (|| -> Result<(), rust_xlsxwriter::XlsxError> {
        sheet.set_name(if zh { "分项满意度" } else { "CSI" })?;
        sheet.write_string_with_format(
            0,
            0,
            format!(
                "{} {} – {}",
                if zh { "期间" } else { "Period" },
                q.from,
                q.to
            ),
            &bold,
        )?;
        for (i, h) in head.iter().enumerate() {
            sheet.write_string_with_format(2, i as u16, *h, &bold)?;
        }
        let mut row = 3u32;
        for r in total.rows.iter().chain(groups.rows.iter()) {
            for i in &r.items {
                sheet.write_string(row, 0, &r.group.name)?;
                sheet.write_string(row, 1, item_label(&i.item, lang))?;
                for (c, v) in [
                    i.n,
                    i.very_satisfied,
                    i.satisfied,
                    i.neutral,
                    i.dissatisfied,
                    i.points,
                ]
                .iter()
                .enumerate()
                {
                    sheet.write_number(row, 2 + c as u16, *v as f64)?;
                }
                if let Some(v) = i.csi {
                    sheet.write_number_with_format(row, 8, v, &one)?;
                }
                sheet.write_number(row, 9, i.low as f64)?;
                if let Some(pr) = i.priority {
                    sheet.write_number(row, 10, pr as f64)?;
                }
                row += 1;
            }
        }
        sheet.set_column_width(0, 18)?;
        sheet.set_column_width(1, 14)?;
        Ok(())
    })();
    super::xlsx(
        written.and_then(|_| book.save_to_buffer()),
        &format!("csi-{}-{}-{}.xlsx", q.from, q.to, by.as_str()),
    )
}

/// One questionnaire as the page shows and edits it.
pub struct QLine {
    pub id: i64,
    pub name: String,
    pub brand: String,
    pub kind: String,
    pub active: bool,
    pub items: String,
}

#[derive(Template)]
#[template(path = "questionnaires.html")]
struct QuestionnairesPage {
    c: Chrome,
    may_edit: bool,
    lines: Vec<QLine>,
    kinds: Vec<(String, String)>,
}

/// `GET /csi/questionnaires`: every questionnaire; an admin adds and changes them.
pub async fn questionnaires(State(s): State<AppState>, p: Page) -> Response {
    let lang = p.actor.lang;
    let qs = match uc::questionnaires(&s.app, &p.actor).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    render(&QuestionnairesPage {
        may_edit: p.actor.role() == Role::Admin,
        lines: qs
            .into_iter()
            .map(|q| QLine {
                id: q.id,
                name: q.name,
                brand: q.brand,
                kind: q.kind,
                active: q.active,
                items: q.items.join("\n"),
            })
            .collect(),
        kinds: WorkOrderType::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct QForm {
    name: String,
    brand: Option<String>,
    kind: Option<String>,
    active: Option<String>,
    items: String,
}

fn input_of(f: QForm) -> Result<QuestionnaireInput, AppError> {
    let kind = match f.kind.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(k) => Some(WorkOrderType::parse_field(k, "kind")?),
    };
    Ok(QuestionnaireInput {
        name: f.name,
        brand: f.brand,
        kind,
        active: Some(f.active.is_some()),
        items: shouhou_domain::csi::parse_items(&f.items)?,
    })
}

/// `POST /csi/questionnaires` (htmx, admin): a new questionnaire.
pub async fn create(State(s): State<AppState>, p: Page, PostForm(f): PostForm<QForm>) -> Response {
    let r = async {
        uc::create(&s.app, &p.actor, input_of(f)?).await?;
        Ok(())
    }
    .await;
    super::saved_or_error(&p, r)
}

/// `POST /csi/questionnaires/{id}` (htmx, admin): changes a questionnaire.
pub async fn update(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    PostForm(f): PostForm<QForm>,
) -> Response {
    let r = async {
        uc::update(&s.app, &p.actor, id, input_of(f)?).await?;
        Ok(())
    }
    .await;
    super::saved_or_error(&p, r)
}

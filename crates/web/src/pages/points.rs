//! Technician points (积分): the monthly ranking (积分排行) of the user's units with a month
//! picker, the technicians below the minimum of visits listed unranked with how many they lack;
//! one technician's month with the entries behind it and a manager's adjustment form; the rules
//! (versions, and the admin's form for a new one); the technician's own month on the phone
//! (`/tech/points`); and the dispatcher's difficulty grade of an order (from its page).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use shouhou_app::points::{self as uc, Month, MonthQuery, NewAdjustment, NewRules, RankRow};
use shouhou_app::AppError;
use shouhou_domain::points::{Difficulty, Points, Reason, RuleVersion, Rules};
use shouhou_domain::{Lang, Role, WorkOrderType};
use shouhou_store::points::EntryRow;

use super::{err, render, saved_or_error, Chrome, Page};
use crate::extract::{Form, Path, Query};
use crate::i18n::T;
use crate::AppState;

fn pts(v: f64) -> String {
    Points::from_f64(v).unwrap_or_default().show(false)
}

/// A rank row as the page shows it.
pub struct Row {
    pub id: i64,
    pub rank: String,
    pub name: String,
    pub store: String,
    pub visits: i64,
    pub points: String,
    /// Why not ranked ("还差 3 次上门"), empty when ranked.
    pub why: String,
}

fn row(t: &T, r: &RankRow, min: i64) -> Row {
    Row {
        id: r.technician_id,
        rank: r.rank.map(|x| x.to_string()).unwrap_or_else(|| "—".into()),
        name: r.name.clone(),
        store: r.store.clone(),
        visits: r.visits,
        points: pts(r.points),
        why: r
            .visits_short
            .map(|n| {
                t.t("points.short_of_visits")
                    .replace("{n}", &n.to_string())
                    .replace("{min}", &min.to_string())
            })
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "points.html")]
struct RankingPage {
    c: Chrome,
    month: String,
    prev: String,
    next: String,
    min_visits: i64,
    rule_version: i64,
    ranked: Vec<Row>,
    unranked: Vec<Row>,
}

/// `GET /points?month=YYYY-MM`: the month's ranking.
pub async fn ranking(State(s): State<AppState>, p: Page, Query(q): Query<MonthQuery>) -> Response {
    let m = match q.month(&s.app) {
        Ok(m) => m,
        Err(e) => return err(e),
    };
    let r = match uc::ranking(&s.app, &p.actor, m).await {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let (ranked, unranked): (Vec<&RankRow>, Vec<&RankRow>) =
        r.rows.iter().partition(|x| x.rank.is_some());
    render(&RankingPage {
        month: m.key(),
        prev: m.prev().key(),
        next: m.next().key(),
        min_visits: r.min_visits,
        rule_version: r.rule_version,
        ranked: ranked.iter().map(|x| row(&p.t, x, r.min_visits)).collect(),
        unranked: unranked
            .iter()
            .map(|x| row(&p.t, x, r.min_visits))
            .collect(),
        c: p.chrome(),
    })
}

/// `GET /points/export.xlsx?month=YYYY-MM`: the month's ranking as Excel, the same rows and
/// numbers as the page (ranked first, then the technicians below the minimum of visits).
pub async fn export(State(s): State<AppState>, p: Page, Query(q): Query<MonthQuery>) -> Response {
    use rust_xlsxwriter::{Format, Workbook};
    let zh = p.actor.lang == Lang::ZhCn;
    let m = match q.month(&s.app) {
        Ok(m) => m,
        Err(e) => return err(e),
    };
    let r = match uc::ranking(&s.app, &p.actor, m).await {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let two = Format::new().set_num_format("0.00");
    let sheet = book.add_worksheet();
    let written = (|| -> Result<(), rust_xlsxwriter::XlsxError> {
        sheet.set_name(if zh { "积分排行" } else { "Ranking" })?;
        sheet.write_string_with_format(
            0,
            0,
            format!(
                "{} {} · {}",
                if zh { "积分排行" } else { "Points ranking" },
                m.key(),
                p.t.t("points.explain")
                    .replace("{min}", &r.min_visits.to_string())
                    .replace("{v}", &r.rule_version.to_string())
            ),
            &bold,
        )?;
        let head = [
            p.t.t("points.rank"),
            p.t.t("wo.technician"),
            p.t.t("points.store"),
            p.t.t("points.visits"),
            p.t.t("points.points"),
            if zh {
                "未排名原因"
            } else {
                "Why not ranked"
            }
            .to_string(),
        ];
        for (i, h) in head.iter().enumerate() {
            sheet.write_string_with_format(2, i as u16, h, &bold)?;
        }
        for (i, x) in r.rows.iter().enumerate() {
            let row = 3 + i as u32;
            if let Some(rank) = x.rank {
                sheet.write_number(row, 0, rank as f64)?;
            }
            sheet.write_string(row, 1, &x.name)?;
            sheet.write_string(row, 2, &x.store)?;
            sheet.write_number(row, 3, x.visits as f64)?;
            sheet.write_number_with_format(row, 4, x.points, &two)?;
            if let Some(short) = x.visits_short {
                sheet.write_string(
                    row,
                    5,
                    p.t.t("points.short_of_visits")
                        .replace("{n}", &short.to_string())
                        .replace("{min}", &r.min_visits.to_string()),
                )?;
            }
        }
        sheet.set_column_width(1, 14)?;
        sheet.set_column_width(2, 14)?;
        Ok(())
    })();
    super::xlsx(
        written.and_then(|_| book.save_to_buffer()),
        &format!("points-{}.xlsx", m.key()),
    )
}

/// One ledger entry as a person reads it.
pub struct EntryLine {
    pub day: String,
    pub order: Option<(i64, String)>,
    pub reason: String,
    pub note: String,
    pub points: String,
    pub negative: bool,
    pub version: String,
}

fn entry_line(p: &Page, e: &EntryRow) -> EntryLine {
    let lang = p.actor.lang;
    let reason = e
        .reason
        .parse::<Reason>()
        .map(|r| r.label(lang).to_string())
        .unwrap_or_else(|_| e.reason.clone());
    let note = match (&e.note, &e.created_by_name) {
        (Some(n), Some(by)) => format!("{n}（{by}）"),
        (Some(n), None) => n.clone(),
        _ => String::new(),
    };
    EntryLine {
        day: e.day.format("%m-%d").to_string(),
        order: e
            .work_order_id
            .map(|id| (id, e.work_order_number.clone().unwrap_or_default())),
        reason,
        note,
        points: Points(e.points).show(true),
        negative: e.points < 0,
        version: e
            .rule_version
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "—".into()),
    }
}

fn standing(t: &T, m: &uc::TechnicianMonth, own: bool) -> String {
    match m.rank {
        Some(r) => t
            .t(if own {
                "points.rank_in_store"
            } else {
                "points.rank_of"
            })
            .replace("{rank}", &r.to_string())
            .replace("{n}", &m.ranked.to_string()),
        None => t
            .t("points.not_ranked")
            .replace("{n}", &(m.min_visits - m.visits).max(0).to_string())
            .replace("{min}", &m.min_visits.to_string()),
    }
}

#[derive(Template)]
#[template(path = "points_technician.html")]
struct TechnicianPage {
    c: Chrome,
    id: i64,
    month: String,
    prev: String,
    next: String,
    name: String,
    store: String,
    visits: i64,
    points: String,
    standing: String,
    entries: Vec<EntryLine>,
    may_adjust: bool,
    today: String,
}

/// `GET /points/technicians/{id}?month=`: a technician's month and the entries behind it.
pub async fn technician(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Query(q): Query<MonthQuery>,
) -> Response {
    let m = match q.month(&s.app) {
        Ok(m) => m,
        Err(e) => return err(e),
    };
    let tm = match uc::technician_month(&s.app, &p.actor, id, m).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let today = s.app.today();
    let day = if Month::of(today) == m {
        today
    } else {
        m.last()
    };
    render(&TechnicianPage {
        id,
        month: m.key(),
        prev: m.prev().key(),
        next: m.next().key(),
        name: tm.name.clone(),
        store: tm.store.clone(),
        visits: tm.visits,
        points: pts(tm.points),
        standing: standing(&p.t, &tm, false),
        entries: tm.entries.iter().map(|e| entry_line(&p, e)).collect(),
        may_adjust: uc::ADJUSTERS.contains(&p.actor.role()),
        today: day.to_string(),
        c: p.chrome(),
    })
}

#[derive(Deserialize)]
pub struct AdjustForm {
    points: String,
    note: String,
    day: Option<NaiveDate>,
}

fn number(field: &str, v: &str) -> Result<f64, AppError> {
    v.trim().parse::<f64>().map_err(|_| {
        AppError::invalid(
            field,
            shouhou_domain::ValidationError::Invalid {
                zh: "请填写数字".into(),
                en: "enter a number".into(),
            },
        )
    })
}

/// `POST /points/technicians/{id}/adjustments`: a manager's adjustment.
pub async fn adjust(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<AdjustForm>,
) -> Response {
    let r = async {
        let points = number("points", &f.points)?;
        uc::adjust(
            &s.app,
            &p.actor,
            NewAdjustment {
                technician_id: id,
                points,
                note: f.note.clone(),
                day: f.day,
            },
        )
        .await
        .map(|_| ())
    }
    .await;
    saved_or_error(&p, r)
}

/// One editable value of the rules form: (input name, label, value).
pub type Field = (String, String, String);

#[derive(Template)]
#[template(path = "points_rules.html")]
struct RulesPage {
    c: Chrome,
    may_edit: bool,
    current: i64,
    base: Vec<Field>,
    multipliers: Vec<Field>,
    bonuses: Vec<Field>,
    min_visits: i64,
    today: String,
    /// (version, effective from, summary)
    versions: Vec<(i64, String, String)>,
}

fn bonus_fields(t: &T, r: &Rules) -> Vec<Field> {
    [
        ("first_time_fix", r.first_time_fix),
        ("very_satisfied", r.very_satisfied),
        ("arrived_late", r.arrived_late),
        ("complaint", r.complaint),
        ("repeat_repair", r.repeat_repair),
    ]
    .iter()
    .map(|(k, v)| {
        (
            k.to_string(),
            t.t(&format!("points.rule.{k}")),
            v.show(false),
        )
    })
    .collect()
}

fn summary(lang: Lang, v: &RuleVersion) -> String {
    let r = &v.rules;
    let base = WorkOrderType::ALL
        .iter()
        .map(|k| format!("{} {}", k.label(lang), r.base.of(*k).show(false)))
        .collect::<Vec<_>>()
        .join(" · ");
    let mult = Difficulty::ALL
        .iter()
        .map(|d| format!("{} ×{}", d.label(lang), r.difficulty.of(*d).show(false)))
        .collect::<Vec<_>>()
        .join(" · ");
    format!(
        "{base} | {mult} | {} {} · {} {} · {} {} · {} {} · {} {} | ≥{}",
        Reason::FirstTimeFix.label(lang),
        r.first_time_fix.show(true),
        Reason::VerySatisfied.label(lang),
        r.very_satisfied.show(true),
        Reason::ArrivedLate.label(lang),
        r.arrived_late.show(true),
        Reason::Complaint.label(lang),
        r.complaint.show(true),
        Reason::RepeatRepair.label(lang),
        r.repeat_repair.show(true),
        r.min_visits
    )
}

/// `GET /points/rules`: the versions of the rules; an admin adds one.
pub async fn rules(State(s): State<AppState>, p: Page) -> Response {
    let view = match uc::rules(&s.app, &p.actor).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let lang = p.actor.lang;
    let r = &view.current.rules;
    render(&RulesPage {
        may_edit: uc::RULE_EDITORS.contains(&p.actor.role()),
        current: view.current.id,
        base: WorkOrderType::ALL
            .iter()
            .map(|k| {
                (
                    format!("base_{}", k.as_str()),
                    k.label(lang).to_string(),
                    r.base.of(*k).show(false),
                )
            })
            .collect(),
        multipliers: Difficulty::ALL
            .iter()
            .map(|d| {
                (
                    format!("difficulty_{}", d.as_str()),
                    d.label(lang).to_string(),
                    r.difficulty.of(*d).show(false),
                )
            })
            .collect(),
        bonuses: bonus_fields(&p.t, r),
        min_visits: r.min_visits,
        today: s.app.today().to_string(),
        versions: view
            .versions
            .iter()
            .rev()
            .map(|v| (v.id, v.effective_from.to_string(), summary(lang, v)))
            .collect(),
        c: p.chrome(),
    })
}

/// `POST /points/rules`: a new version of the rules from the admin's form.
pub async fn save_rules(
    State(s): State<AppState>,
    p: Page,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Response {
    let r = async {
        let get = |k: &str| -> Result<Points, AppError> {
            let v = number(k, f.get(k).map(String::as_str).unwrap_or(""))?;
            Points::from_f64(v).ok_or_else(|| {
                AppError::invalid(
                    k,
                    shouhou_domain::ValidationError::Invalid {
                        zh: "请填写数字".into(),
                        en: "enter a number".into(),
                    },
                )
            })
        };
        let mut rules = Rules::default();
        for k in WorkOrderType::ALL {
            rules.base.set(*k, get(&format!("base_{}", k.as_str()))?);
        }
        for d in Difficulty::ALL {
            rules
                .difficulty
                .set(*d, get(&format!("difficulty_{}", d.as_str()))?);
        }
        rules.first_time_fix = get("first_time_fix")?;
        rules.very_satisfied = get("very_satisfied")?;
        rules.arrived_late = get("arrived_late")?;
        rules.complaint = get("complaint")?;
        rules.repeat_repair = get("repeat_repair")?;
        rules.min_visits = number("min_visits", f.get("min_visits").map_or("", |v| v))? as i64;
        let effective_from = f
            .get("effective_from")
            .and_then(|v| v.parse::<NaiveDate>().ok())
            .ok_or_else(|| {
                AppError::invalid("effective_from", shouhou_domain::ValidationError::Required)
            })?;
        uc::replace_rules(
            &s.app,
            &p.actor,
            NewRules {
                effective_from,
                rules,
            },
        )
        .await
        .map(|_| ())
    }
    .await;
    saved_or_error(&p, r)
}

#[derive(Deserialize)]
pub struct GradeForm {
    difficulty: String,
}

/// `POST /work-orders/{id}/difficulty`: the dispatcher sets an order's difficulty grade.
pub async fn grade(
    State(s): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<GradeForm>,
) -> Response {
    let r = async {
        let d = Difficulty::parse_field(&f.difficulty, "difficulty")?;
        uc::set_difficulty(&s.app, &p.actor, id, d, None)
            .await
            .map(|_| ())
    }
    .await;
    saved_or_error(&p, r)
}

#[derive(Template)]
#[template(path = "tech_points.html")]
struct PhonePage {
    c: Chrome,
    month: String,
    prev: String,
    next: String,
    points: String,
    visits: i64,
    min_visits: i64,
    standing: String,
    ranked: bool,
    entries: Vec<EntryLine>,
}

/// `GET /tech/points?month=`: the technician's own points, rank and entries, on the phone.
pub async fn phone(State(s): State<AppState>, p: Page, Query(q): Query<MonthQuery>) -> Response {
    if p.actor.role() != Role::Technician {
        return err(AppError::Forbidden);
    }
    let m = match q.month(&s.app) {
        Ok(m) => m,
        Err(e) => return err(e),
    };
    let tm = match uc::mine(&s.app, &p.actor, m).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    render(&PhonePage {
        month: m.key(),
        prev: m.prev().key(),
        next: m.next().key(),
        points: pts(tm.points),
        visits: tm.visits,
        min_visits: tm.min_visits,
        standing: standing(&p.t, &tm, true),
        ranked: tm.rank.is_some(),
        entries: tm.entries.iter().map(|e| entry_line(&p, e)).collect(),
        c: p.chrome(),
    })
}

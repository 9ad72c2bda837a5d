//! The working calendar on the settings page: working weekdays and hours, and per year the
//! public holidays and adjusted working days, each year folded under its summary. Empty rows are
//! there to add a day; clearing a row removes it; "add a year" takes the next year's schedule.
//! A refused calendar saves nothing and says which year, row and field to fix.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use shouhou_app::AppError;
use shouhou_domain::calendar::{CalendarYear, Holiday, Weekday, WorkCalendar, Workday};
use shouhou_domain::Lang;

use super::{html, Page};
use crate::extract::Form;
use crate::i18n::T;
use crate::AppState;

/// A holiday as typed: (name, first day, last day).
type HolidayRow = (String, String, String);
/// An adjusted working day as typed: (date, name).
type WorkdayRow = (String, String);

/// One year's rows as shown.
struct YearRows {
    /// The year, or what was typed as the new year.
    year: String,
    holidays: Vec<HolidayRow>,
    workdays: Vec<WorkdayRow>,
    /// Unfolded (the year a refusal is about).
    open: bool,
    /// "2026 年：节假日 7 个（共 33 天），调休上班日 6 天", filled in when drawn.
    summary: String,
}

impl YearRows {
    fn days_off(&self) -> i64 {
        self.holidays
            .iter()
            .filter_map(|(_, a, b)| Some((date(a)?, date(b)?)))
            .map(|(a, b)| (b - a).num_days() + 1)
            .sum()
    }
}

#[derive(Template)]
#[template(path = "settings_calendar_partial.html")]
struct CalendarForm {
    t: T,
    /// The version the form shows, sent back as `_version` (a stale one is refused).
    version: i64,
    /// (value, label, checked).
    weekdays: Vec<(String, String, bool)>,
    opens: String,
    closes: String,
    years: Vec<YearRows>,
    new_year: YearRows,
    saved: bool,
    error: String,
}

/// Empty rows under each year to add days, and under the new year.
const SPARE: usize = 1;
const NEW_HOLIDAYS: usize = 8;
const NEW_WORKDAYS: usize = 6;

fn pad<T: Default + Clone>(rows: &mut Vec<T>, spare: usize, at_least: usize) {
    let n = (rows.len() + spare).max(at_least);
    rows.resize(n, T::default());
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The calendar's rows as shown.
fn rows_of(cal: &WorkCalendar) -> Vec<YearRows> {
    cal.years
        .iter()
        .map(|y| YearRows {
            year: y.year.to_string(),
            holidays: y
                .holidays
                .iter()
                .map(|h| (h.name.clone(), h.from.to_string(), h.until.to_string()))
                .collect(),
            workdays: y
                .workdays
                .iter()
                .map(|w| (w.date.to_string(), w.name.clone()))
                .collect(),
            open: false,
            summary: String::new(),
        })
        .collect()
}

/// What the form shows: the calendar's week and hours, its years (`years`, as stored or as
/// typed) and the new year's rows.
struct Shown {
    weekdays: Vec<Weekday>,
    opens: String,
    closes: String,
    years: Vec<YearRows>,
    new_year: YearRows,
}

impl Shown {
    fn of(cal: &WorkCalendar) -> Shown {
        Shown {
            weekdays: cal.weekdays.clone(),
            opens: cal.opens.clone(),
            closes: cal.closes.clone(),
            years: rows_of(cal),
            new_year: YearRows {
                year: String::new(),
                holidays: Vec::new(),
                workdays: Vec::new(),
                open: false,
                summary: String::new(),
            },
        }
    }
}

fn render(lang: Lang, version: i64, shown: Shown, saved: bool, error: String) -> String {
    let Shown {
        weekdays,
        opens,
        closes,
        mut years,
        mut new_year,
    } = shown;
    for y in &mut years {
        let (h, d, w) = (y.holidays.len(), y.days_off(), y.workdays.len());
        y.summary = lang.pick(
            &format!(
                "{} 年：节假日 {h} 个（共 {d} 天），调休上班日 {w} 天",
                y.year
            ),
            &format!(
                "{}: {h} holidays ({d} days off), {w} adjusted working days",
                y.year
            ),
        );
        pad(&mut y.holidays, SPARE, 0);
        pad(&mut y.workdays, SPARE, 0);
    }
    pad(&mut new_year.holidays, 0, NEW_HOLIDAYS);
    pad(&mut new_year.workdays, 0, NEW_WORKDAYS);
    CalendarForm {
        t: T(lang),
        version,
        weekdays: Weekday::ALL
            .iter()
            .map(|w| {
                (
                    w.as_str().to_string(),
                    w.label(lang).to_string(),
                    weekdays.contains(w),
                )
            })
            .collect(),
        opens,
        closes,
        years,
        new_year,
        saved,
        error,
    }
    .render()
    .unwrap_or_default()
}

/// The calendar form as the settings page first shows it.
pub fn form(lang: Lang, version: i64, cal: &WorkCalendar) -> String {
    render(lang, version, Shown::of(cal), false, String::new())
}

/// The values of the fields named `prefix…`, in order, cut into rows of `width` starting at
/// each `{prefix}year`.
fn rows(pairs: &[(String, String)], prefix: &str, width: usize) -> Vec<Vec<String>> {
    let first = format!("{prefix}year");
    let mut out: Vec<Vec<String>> = Vec::new();
    for (k, v) in pairs.iter().filter(|(k, _)| k.starts_with(prefix)) {
        if *k == first {
            out.push(Vec::with_capacity(width));
        }
        if let Some(r) = out.last_mut() {
            r.push(v.trim().to_string());
        }
    }
    out.into_iter().filter(|r| r.len() == width).collect()
}

/// A row of the form, kept (not empty), with the year it belongs to.
struct Typed<R> {
    /// The year as the form said: a year, or `new` for the new year's rows.
    year: String,
    row: R,
}

/// Why a row cannot be read, said with its place: "2026 年节假日第 3 行（国庆节）：…".
fn where_(lang: Lang, year: &str, what: &str, n: usize, name: &str) -> String {
    let (zh_what, en_what) = match what {
        "holidays" => ("节假日", "holiday"),
        _ => ("调休上班日", "adjusted working day"),
    };
    let named = if name.is_empty() {
        String::new()
    } else {
        lang.pick(&format!("（{name}）"), &format!(" ({name})"))
    };
    lang.pick(
        &format!("{year} 年{zh_what}第 {n} 行{named}"),
        &format!("{year}, {en_what} row {n}{named}"),
    )
}

/// `POST /settings/calendar` (admin).
pub async fn save(
    State(s): State<AppState>,
    p: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = p.actor.lang;
    let version = super::settings::form_version(&pairs);
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let weekdays: Vec<Weekday> = pairs
        .iter()
        .filter(|(k, _)| k == "weekday")
        .filter_map(|(_, v)| Weekday::parse(v))
        .collect();
    let new_year = one("new_year");
    let holidays: Vec<Typed<HolidayRow>> = rows(&pairs, "h_", 4)
        .into_iter()
        .filter(|r| r[1..].iter().any(|x| !x.is_empty()))
        .map(|r| Typed {
            year: r[0].clone(),
            row: (r[1].clone(), r[2].clone(), r[3].clone()),
        })
        .collect();
    let workdays: Vec<Typed<WorkdayRow>> = rows(&pairs, "w_", 3)
        .into_iter()
        .filter(|r| r[1..].iter().any(|x| !x.is_empty()))
        .map(|r| Typed {
            year: r[0].clone(),
            row: (r[1].clone(), r[2].clone()),
        })
        .collect();
    // What the form shows again when the calendar is refused: the rows as typed, by year.
    let shown = |open: Option<&str>| {
        let mut years: BTreeMap<String, YearRows> = BTreeMap::new();
        let mut new = YearRows {
            year: new_year.clone(),
            holidays: Vec::new(),
            workdays: Vec::new(),
            open: open == Some("new"),
            summary: String::new(),
        };
        for h in &holidays {
            if h.year == "new" {
                new.holidays.push(h.row.clone());
            } else {
                years
                    .entry(h.year.clone())
                    .or_insert_with(|| YearRows {
                        year: h.year.clone(),
                        holidays: Vec::new(),
                        workdays: Vec::new(),
                        open: open == Some(h.year.as_str()),
                        summary: String::new(),
                    })
                    .holidays
                    .push(h.row.clone());
            }
        }
        for w in &workdays {
            if w.year == "new" {
                new.workdays.push(w.row.clone());
            } else {
                years
                    .entry(w.year.clone())
                    .or_insert_with(|| YearRows {
                        year: w.year.clone(),
                        holidays: Vec::new(),
                        workdays: Vec::new(),
                        open: open == Some(w.year.as_str()),
                        summary: String::new(),
                    })
                    .workdays
                    .push(w.row.clone());
            }
        }
        Shown {
            weekdays: weekdays.clone(),
            opens: one("opens"),
            closes: one("closes"),
            years: years.into_values().collect(),
            new_year: new,
        }
    };
    let back = |open: Option<&str>, e: String| {
        html(render(lang, version.unwrap_or(0), shown(open), false, e))
    };
    // The year of each row: its own, or the new year's for the new year's rows.
    let year_of = |y: &str| -> Result<i32, String> {
        let typed = if y == "new" { new_year.as_str() } else { y };
        typed.parse::<i32>().map_err(|_| {
            lang.pick(
                "添加年度：请填写年份（如 2027）",
                "add a year: enter the year (e.g. 2027)",
            )
        })
    };
    let mut by_year: BTreeMap<i32, CalendarYear> = BTreeMap::new();
    // (year, "holidays" | "workdays", row number in that year as shown, name) of each kept row,
    // in the order of the document sent, to say where a refusal is.
    let mut place: BTreeMap<(i32, &str, usize), (String, usize, String)> = BTreeMap::new();
    let mut counters: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let need = |v: &str, key: &str, what: String| -> Result<NaiveDate, String> {
        date(v).ok_or_else(|| {
            format!(
                "{what}{}{} {}",
                lang.pick("：", ": "),
                T(lang).t(key),
                lang.pick(
                    "请填写日期（年-月-日，如 2027-01-01）",
                    "enter the date (YYYY-MM-DD, e.g. 2027-01-01)"
                )
            )
        })
    };
    for h in &holidays {
        let n = {
            let c = counters.entry((h.year.clone(), "holidays")).or_default();
            *c += 1;
            *c
        };
        let what = where_(
            lang,
            &shown_year(&h.year, &new_year, lang),
            "holidays",
            n,
            &h.row.0,
        );
        let y = match year_of(&h.year) {
            Ok(y) => y,
            Err(e) => return back(Some("new"), e),
        };
        let (from, until) = match (
            need(&h.row.1, "settings.calendar_from", what.clone()),
            need(&h.row.2, "settings.calendar_until", what.clone()),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return back(Some(&h.year), e),
        };
        let entry = by_year.entry(y).or_insert_with(|| CalendarYear {
            year: y,
            holidays: Vec::new(),
            workdays: Vec::new(),
        });
        place.insert(
            (y, "holidays", entry.holidays.len()),
            (h.year.clone(), n, h.row.0.clone()),
        );
        entry.holidays.push(Holiday {
            name: h.row.0.clone(),
            from,
            until,
        });
    }
    for w in &workdays {
        let n = {
            let c = counters.entry((w.year.clone(), "workdays")).or_default();
            *c += 1;
            *c
        };
        let what = where_(
            lang,
            &shown_year(&w.year, &new_year, lang),
            "workdays",
            n,
            &w.row.1,
        );
        let y = match year_of(&w.year) {
            Ok(y) => y,
            Err(e) => return back(Some("new"), e),
        };
        let on = match need(&w.row.0, "settings.calendar_date", what) {
            Ok(d) => d,
            Err(e) => return back(Some(&w.year), e),
        };
        let entry = by_year.entry(y).or_insert_with(|| CalendarYear {
            year: y,
            holidays: Vec::new(),
            workdays: Vec::new(),
        });
        place.insert(
            (y, "workdays", entry.workdays.len()),
            (w.year.clone(), n, w.row.1.clone()),
        );
        entry.workdays.push(Workday {
            date: on,
            name: w.row.1.clone(),
        });
    }
    let years: Vec<CalendarYear> = by_year.into_values().collect();
    let year_numbers: Vec<i32> = years.iter().map(|y| y.year).collect();
    let cal = WorkCalendar {
        weekdays: weekdays.clone(),
        opens: one("opens"),
        closes: one("closes"),
        years,
    };
    match shouhou_app::calendar::set_calendar(&s.app, &p.actor, version, cal).await {
        Ok((saved, v)) => html(render(lang, v, Shown::of(&saved), true, String::new())),
        Err(e) => {
            let (open, msg) = refusal(lang, &e, &year_numbers, &place, &new_year);
            back(open.as_deref(), msg)
        }
    }
}

/// The year as the admin reads it: the new year's number as typed.
fn shown_year(y: &str, new_year: &str, lang: Lang) -> String {
    match y {
        "new" if new_year.is_empty() => lang.pick("新年度", "new year"),
        "new" => new_year.to_string(),
        y => y.to_string(),
    }
}

/// A refusal of the calendar said with its place in the form ("2026 年节假日第 3 行（国庆节）：
/// 开始日期：…"), and the year to unfold.
fn refusal(
    lang: Lang,
    e: &AppError,
    years: &[i32],
    place: &BTreeMap<(i32, &str, usize), (String, usize, String)>,
    new_year: &str,
) -> (Option<String>, String) {
    let Some(field) = e.field() else {
        return (None, e.message(lang));
    };
    // years[i].holidays[j].from
    let parts: Vec<(&str, Option<usize>)> = field
        .split('.')
        .map(|seg| match seg.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse().ok()),
            None => (seg, None),
        })
        .collect();
    match parts.as_slice() {
        [("years", Some(i)), (what @ ("holidays" | "workdays"), Some(j)), (leaf, None)] => {
            let Some(y) = years.get(*i) else {
                return (None, e.message(lang));
            };
            let Some((typed, n, name)) = place.get(&(*y, *what, *j)) else {
                return (None, e.message(lang));
            };
            let at = where_(lang, &shown_year(typed, new_year, lang), what, *n, name);
            let label = shouhou_domain::fields::label_start(leaf, lang);
            let sep = lang.pick("：", ": ");
            (
                Some(typed.clone()),
                format!("{at}{sep}{label}{sep}{}", e.detail(lang)),
            )
        }
        _ => (None, e.message(lang)),
    }
}

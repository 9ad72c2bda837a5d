//! The working calendar: the days and hours in which SLA deadlines "in working hours" run —
//! the working weekdays, the working day's hours, and per year the public holidays and the
//! adjusted working days (调休: weekend days worked to make a holiday longer). Everything is in
//! the org's local time; the time zone is a parameter, like the clock.
//!
//! [`WorkCalendar`] is the document an admin edits (and the API answers); [`WorkCalendar::check`]
//! turns it into [`WorkingTime`], the only thing deadlines are computed on.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ValidationError};
use crate::i18n::Lang;
use crate::validate;

/// A day of the week.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    pub fn parse(s: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|w| w.as_str() == s)
    }

    pub fn of(d: NaiveDate) -> Weekday {
        Weekday::ALL[d.weekday().num_days_from_monday() as usize]
    }

    fn index(self) -> usize {
        self as usize
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let i = self.index();
        match lang {
            Lang::ZhCn => ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][i],
            Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
        }
    }
}

/// The working calendar as edited: which weekdays are worked, from when to when, and per year
/// the public holidays and adjusted working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkCalendar {
    /// The weekdays worked in an ordinary week.
    #[schema(min_items = 1, max_items = 7)]
    pub weekdays: Vec<Weekday>,
    /// When the working day starts, `HH:MM` (00:00–23:59).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "08:30")]
    pub opens: String,
    /// When the working day ends, `HH:MM` after `opens` (up to 24:00).
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", example = "18:00")]
    pub closes: String,
    /// Public holidays and adjusted working days, one entry per year.
    #[schema(max_items = 50)]
    pub years: Vec<CalendarYear>,
}

/// One year's public holidays and adjusted working days (as the State Council publishes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarYear {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// Days off, each a run of days from `from` to `until` (inclusive), within the year.
    #[schema(max_items = 60)]
    pub holidays: Vec<Holiday>,
    /// Days worked that would otherwise be off (调休上班), within the year.
    #[schema(max_items = 60)]
    pub workdays: Vec<Workday>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Holiday {
    #[schema(min_length = 1, max_length = 40, example = "春节")]
    pub name: String,
    /// The first day off.
    pub from: NaiveDate,
    /// The last day off (the same as `from` for one day).
    pub until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workday {
    pub date: NaiveDate,
    #[schema(min_length = 1, max_length = 40, example = "春节调休")]
    pub name: String,
}

/// The most entries of each list, as the schema says.
const MAX_YEARS: usize = 50;
const MAX_DAYS: usize = 60;
const MAX_NAME: usize = 40;

fn invalid(field: impl Into<String>, zh: String, en: String) -> DomainError {
    DomainError::invalid(field, ValidationError::Invalid { zh, en })
}

/// Minutes after midnight of `HH:MM`; `24:00` only when `end_of_day`.
fn minutes_of(s: &str, end_of_day: bool) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.chars().chain(m.chars())).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end_of_day => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// `HH:MM` of minutes after midnight.
fn hh_mm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn name(v: &str, field: String) -> Result<String, DomainError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, ValidationError::Required));
    }
    validate::one_line(v, &field)?;
    if v.chars().count() > MAX_NAME {
        return Err(DomainError::invalid(
            field,
            ValidationError::TooLong { max: MAX_NAME },
        ));
    }
    Ok(v.to_string())
}

fn in_year(d: NaiveDate, year: i32, field: String) -> Result<(), DomainError> {
    if d.year() != year {
        return Err(invalid(
            field,
            format!("日期须在 {year} 年内"),
            format!("the date must be in {year}"),
        ));
    }
    Ok(())
}

fn too_many(field: String, max: usize) -> DomainError {
    invalid(
        field,
        format!("最多 {max} 项"),
        format!("at most {max} entries"),
    )
}

impl WorkCalendar {
    /// Checks the calendar and puts it in order (weekdays Monday first, years, holidays and
    /// working days by date, names trimmed). Errors name the field by its path, e.g.
    /// `years[0].holidays[2].until`.
    pub fn check(&self) -> Result<(WorkCalendar, WorkingTime), DomainError> {
        let mut weekdays = self.weekdays.clone();
        weekdays.sort();
        weekdays.dedup();
        if weekdays.is_empty() {
            return Err(invalid(
                "weekdays",
                "请至少选择一个工作日".into(),
                "choose at least one working day".into(),
            ));
        }
        let opens = minutes_of(&self.opens, false).ok_or_else(|| {
            invalid(
                "opens",
                "请按“时:分”填写 00:00–23:59 之间的时间，如 08:30".into(),
                "enter a time between 00:00 and 23:59 as HH:MM, e.g. 08:30".into(),
            )
        })?;
        let closes = minutes_of(&self.closes, true).ok_or_else(|| {
            invalid(
                "closes",
                "请按“时:分”填写 00:00–24:00 之间的时间，如 18:00".into(),
                "enter a time between 00:00 and 24:00 as HH:MM, e.g. 18:00".into(),
            )
        })?;
        if closes <= opens {
            return Err(invalid(
                "closes",
                "下班时间须晚于上班时间".into(),
                "the closing time must be after the opening time".into(),
            ));
        }
        if self.years.len() > MAX_YEARS {
            return Err(too_many("years".into(), MAX_YEARS));
        }
        let mut years: Vec<(usize, CalendarYear)> = Vec::new();
        for (i, y) in self.years.iter().enumerate() {
            let at = |rest: &str| format!("years[{i}].{rest}");
            if !(2000..=2100).contains(&y.year) {
                return Err(DomainError::invalid(
                    at("year"),
                    ValidationError::OutOfRange {
                        min: 2000,
                        max: 2100,
                    },
                ));
            }
            if years.iter().any(|(_, o)| o.year == y.year) {
                return Err(invalid(
                    at("year"),
                    format!("{} 年已列出，请合并到同一年", y.year),
                    format!("{} is listed already; keep one entry per year", y.year),
                ));
            }
            if y.holidays.len() > MAX_DAYS {
                return Err(too_many(at("holidays"), MAX_DAYS));
            }
            if y.workdays.len() > MAX_DAYS {
                return Err(too_many(at("workdays"), MAX_DAYS));
            }
            let mut holidays: Vec<(usize, Holiday)> = Vec::new();
            for (j, h) in y.holidays.iter().enumerate() {
                let f = |rest: &str| at(&format!("holidays[{j}].{rest}"));
                let n = name(&h.name, f("name"))?;
                in_year(h.from, y.year, f("from"))?;
                in_year(h.until, y.year, f("until"))?;
                if h.until < h.from {
                    return Err(DomainError::invalid(
                        f("until"),
                        ValidationError::DateOrder { other: "from" },
                    ));
                }
                if let Some((_, o)) = holidays
                    .iter()
                    .find(|(_, o)| h.from <= o.until && o.from <= h.until)
                {
                    return Err(invalid(
                        f("from"),
                        format!("与“{}”（{} 至 {}）重叠", o.name, o.from, o.until),
                        format!("overlaps “{}” ({} to {})", o.name, o.from, o.until),
                    ));
                }
                holidays.push((
                    j,
                    Holiday {
                        name: n,
                        from: h.from,
                        until: h.until,
                    },
                ));
            }
            let mut workdays: Vec<Workday> = Vec::new();
            for (j, w) in y.workdays.iter().enumerate() {
                let f = |rest: &str| at(&format!("workdays[{j}].{rest}"));
                let n = name(&w.name, f("name"))?;
                in_year(w.date, y.year, f("date"))?;
                if let Some((_, o)) = holidays
                    .iter()
                    .find(|(_, o)| o.from <= w.date && w.date <= o.until)
                {
                    return Err(invalid(
                        f("date"),
                        format!("该日在“{}”假期内（{} 至 {}）", o.name, o.from, o.until),
                        format!(
                            "the day is within the holiday “{}” ({} to {})",
                            o.name, o.from, o.until
                        ),
                    ));
                }
                if workdays.iter().any(|o| o.date == w.date) {
                    return Err(invalid(
                        f("date"),
                        format!("{} 已列为调休上班日", w.date),
                        format!("{} is listed already", w.date),
                    ));
                }
                workdays.push(Workday {
                    date: w.date,
                    name: n,
                });
            }
            let mut holidays: Vec<Holiday> = holidays.into_iter().map(|(_, h)| h).collect();
            holidays.sort_by_key(|h| h.from);
            workdays.sort_by_key(|w| w.date);
            years.push((
                i,
                CalendarYear {
                    year: y.year,
                    holidays,
                    workdays,
                },
            ));
        }
        let mut years: Vec<CalendarYear> = years.into_iter().map(|(_, y)| y).collect();
        years.sort_by_key(|y| y.year);
        let cal = WorkCalendar {
            weekdays,
            opens: hh_mm(opens),
            closes: hh_mm(closes),
            years,
        };
        let time = WorkingTime::of(&cal, opens, closes);
        Ok((cal, time))
    }

    /// The year's entry, if the calendar lists it.
    pub fn year(&self, year: i32) -> Option<&CalendarYear> {
        self.years.iter().find(|y| y.year == year)
    }
}

/// A checked calendar: what working-hours deadlines are computed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingTime {
    weekdays: [bool; 7],
    /// Minutes after local midnight; `closes` may be 1440 (midnight at the day's end).
    opens: u32,
    closes: u32,
    off: BTreeSet<NaiveDate>,
    on: BTreeSet<NaiveDate>,
}

impl WorkingTime {
    fn of(cal: &WorkCalendar, opens: u32, closes: u32) -> WorkingTime {
        let mut weekdays = [false; 7];
        for w in &cal.weekdays {
            weekdays[w.index()] = true;
        }
        let mut off = BTreeSet::new();
        let mut on = BTreeSet::new();
        for y in &cal.years {
            for h in &y.holidays {
                off.extend(h.from.iter_days().take_while(|d| *d <= h.until));
            }
            on.extend(y.workdays.iter().map(|w| w.date));
        }
        WorkingTime {
            weekdays,
            opens,
            closes,
            off,
            on,
        }
    }

    /// Whether `day` is worked: an adjusted working day, else not a holiday and a working weekday.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        self.on.contains(&day)
            || (!self.off.contains(&day) && self.weekdays[Weekday::of(day).index()])
    }

    /// The working period of a working day, in local time: `[opens, closes)`.
    pub fn period(&self, day: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        if !self.is_working_day(day) {
            return None;
        }
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        Some((
            midnight + Duration::minutes(self.opens.into()),
            midnight + Duration::minutes(self.closes.into()),
        ))
    }

    /// The instant `work` of working time after `start`, in zone `tz`. Time outside the working
    /// periods does not count; a deadline that uses up a period exactly is that period's end
    /// (not the next opening). No work is `start` itself.
    pub fn deadline<Z: TimeZone>(
        &self,
        tz: &Z,
        start: DateTime<Utc>,
        work: Duration,
    ) -> DateTime<Utc> {
        if work <= Duration::zero() {
            return start;
        }
        let local = start.with_timezone(tz).naive_local();
        let mut left = work;
        let mut cursor = local;
        let mut day = local.date();
        // A calendar has at least one working weekday and finitely many holidays, so a period
        // always comes; the bound only keeps a broken calendar from looping for ever.
        for _ in 0..366 * 200 {
            if let Some((opens, closes)) = self.period(day) {
                let from = cursor.max(opens);
                if from < closes {
                    let here = closes - from;
                    if here >= left {
                        return to_utc(tz, from + left);
                    }
                    left -= here;
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
            cursor = day.and_time(chrono::NaiveTime::MIN);
        }
        start + work
    }
}

/// The instant of a local time; in a gap (a DST jump forward) the first instant after it.
fn to_utc<Z: TimeZone>(tz: &Z, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    for _ in 0..4 {
        if let Some(x) = tz.from_local_datetime(&t).earliest() {
            return x.with_timezone(&Utc);
        }
        t += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&local)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn holiday(name: &str, from: (i32, u32, u32), until: (i32, u32, u32)) -> Holiday {
    Holiday {
        name: name.into(),
        from: date(from.0, from.1, from.2),
        until: date(until.0, until.1, until.2),
    }
}

fn workday(name: &str, on: (i32, u32, u32)) -> Workday {
    Workday {
        date: date(on.0, on.1, on.2),
        name: name.into(),
    }
}

/// China's 2026 public holidays and adjusted working days, as the General Office of the State
/// Council published them on 4 November 2025 (《国务院办公厅关于2026年部分节假日安排的通知》).
pub fn china_2026() -> CalendarYear {
    CalendarYear {
        year: 2026,
        holidays: vec![
            holiday("元旦", (2026, 1, 1), (2026, 1, 3)),
            holiday("春节", (2026, 2, 15), (2026, 2, 23)),
            holiday("清明节", (2026, 4, 4), (2026, 4, 6)),
            holiday("劳动节", (2026, 5, 1), (2026, 5, 5)),
            holiday("端午节", (2026, 6, 19), (2026, 6, 21)),
            holiday("中秋节", (2026, 9, 25), (2026, 9, 27)),
            holiday("国庆节", (2026, 10, 1), (2026, 10, 7)),
        ],
        workdays: vec![
            workday("元旦调休", (2026, 1, 4)),
            workday("春节调休", (2026, 2, 14)),
            workday("春节调休", (2026, 2, 28)),
            workday("劳动节调休", (2026, 5, 9)),
            workday("国庆节调休", (2026, 9, 20)),
            workday("国庆节调休", (2026, 10, 10)),
        ],
    }
}

/// The calendar until an admin sets one: Monday to Friday, 08:30–18:00, with China's published
/// holidays (2026; 2027 is added by the admin once the State Council publishes it).
pub fn default_calendar() -> WorkCalendar {
    WorkCalendar {
        weekdays: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        opens: "08:30".into(),
        closes: "18:00".into(),
        years: vec![china_2026()],
    }
}

/// [`default_calendar`], checked.
pub fn default_working_time() -> WorkingTime {
    let cal = default_calendar();
    let opens = minutes_of(&cal.opens, false).unwrap_or(8 * 60 + 30);
    let closes = minutes_of(&cal.closes, true).unwrap_or(18 * 60);
    WorkingTime::of(&cal, opens, closes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use proptest::prelude::*;

    fn shanghai() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    /// A local Shanghai time as UTC.
    fn at(s: &str) -> DateTime<Utc> {
        let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        to_utc(&shanghai(), n)
    }

    fn hours(h: f64) -> Duration {
        Duration::minutes((h * 60.0).round() as i64)
    }

    fn due(start: &str, h: f64) -> DateTime<Utc> {
        default_working_time().deadline(&shanghai(), at(start), hours(h))
    }

    #[test]
    fn an_evening_order_is_due_the_next_working_morning() {
        // Tuesday 1 December 2026, 21:29: two working hours run from 08:30 on Wednesday.
        assert_eq!(due("2026-12-01 21:29", 2.0), at("2026-12-02 10:30"));
        // Within the day the hours simply add up, across the day's end into the next.
        assert_eq!(due("2026-12-02 09:00", 2.0), at("2026-12-02 11:00"));
        assert_eq!(due("2026-12-02 17:00", 2.0), at("2026-12-03 09:30"));
        // Before opening, the clock starts at opening.
        assert_eq!(due("2026-12-02 06:00", 0.5), at("2026-12-02 09:00"));
    }

    #[test]
    fn weekends_do_not_count() {
        // Friday 4 December 2026, 17:00 + 2 h: one hour on Friday, one on Monday.
        assert_eq!(due("2026-12-04 17:00", 2.0), at("2026-12-07 09:30"));
        // Saturday evening: Monday morning.
        assert_eq!(due("2026-12-05 20:00", 1.0), at("2026-12-07 09:30"));
        // 24 working hours from Monday 08:30: 9.5 + 9.5 + 5 → Wednesday 13:30.
        assert_eq!(due("2026-12-07 08:30", 24.0), at("2026-12-09 13:30"));
    }

    #[test]
    fn a_period_used_up_exactly_ends_at_closing() {
        assert_eq!(due("2026-12-02 16:00", 2.0), at("2026-12-02 18:00"));
        assert_eq!(due("2026-12-02 08:30", 9.5), at("2026-12-02 18:00"));
    }

    #[test]
    fn public_holidays_are_skipped() {
        // National Day 2026: 1–7 October off. An order on Wednesday 30 September at 17:30
        // with 2 h: half an hour that day, the rest on Thursday 8 October.
        assert_eq!(due("2026-09-30 17:30", 2.0), at("2026-10-08 10:00"));
        // Spring Festival 2026: 15–23 February off; an order on the 22nd waits for the 24th.
        assert_eq!(due("2026-02-22 10:00", 1.0), at("2026-02-24 09:30"));
    }

    #[test]
    fn an_adjusted_saturday_is_worked() {
        // Saturday 9 May 2026 is worked (劳动节调休): an order on Friday 8 May at 17:00 with
        // 2 h is due on the Saturday, not the Monday.
        assert_eq!(due("2026-05-08 17:00", 2.0), at("2026-05-09 09:30"));
        // Saturday 10 October 2026 too (国庆节调休), while Saturday 17 October is not.
        assert_eq!(due("2026-10-10 09:00", 1.0), at("2026-10-10 10:00"));
        assert_eq!(due("2026-10-16 17:30", 1.0), at("2026-10-19 09:00"));
    }

    #[test]
    fn a_day_may_run_to_midnight() {
        let cal = WorkCalendar {
            weekdays: Weekday::ALL.to_vec(),
            opens: "00:00".into(),
            closes: "24:00".into(),
            years: vec![],
        };
        let (_, t) = cal.check().unwrap();
        let s = at("2026-12-01 21:29");
        assert_eq!(
            t.deadline(&shanghai(), s, hours(2.0)),
            at("2026-12-01 23:29")
        );
        assert_eq!(
            t.deadline(&shanghai(), s, hours(30.0)),
            at("2026-12-03 03:29")
        );
    }

    fn field(e: DomainError) -> String {
        e.field().unwrap_or_default().to_string()
    }

    #[test]
    fn the_default_calendar_passes_its_own_check() {
        let (cal, t) = default_calendar().check().unwrap();
        assert_eq!(cal, default_calendar());
        assert_eq!(t, default_working_time());
        assert!(!t.is_working_day(date(2026, 10, 1)));
        assert!(t.is_working_day(date(2026, 2, 14)), "a 调休 Saturday");
        assert!(!t.is_working_day(date(2026, 2, 21)), "an ordinary Saturday");
    }

    #[test]
    fn refused_calendars_name_the_field() {
        let mut c = default_calendar();
        c.weekdays.clear();
        assert_eq!(field(c.check().unwrap_err()), "weekdays");
        let mut c = default_calendar();
        c.opens = "8:30".into();
        assert_eq!(field(c.check().unwrap_err()), "opens");
        let mut c = default_calendar();
        c.closes = "24:30".into();
        assert_eq!(field(c.check().unwrap_err()), "closes");
        let mut c = default_calendar();
        c.closes = "08:00".into();
        let e = c.check().unwrap_err();
        assert_eq!(field(e.clone()), "closes");
        assert_eq!(e.message(Lang::ZhCn), "下班时间：下班时间须晚于上班时间");
        let mut c = default_calendar();
        c.years[0].holidays[1].until = date(2026, 2, 10);
        assert_eq!(field(c.check().unwrap_err()), "years[0].holidays[1].until");
        let mut c = default_calendar();
        c.years[0].holidays[2].from = date(2026, 2, 20);
        let e = c.check().unwrap_err();
        assert_eq!(field(e.clone()), "years[0].holidays[2].from");
        assert!(e.message(Lang::ZhCn).contains("与“春节”"), "{e:?}");
        let mut c = default_calendar();
        c.years[0].workdays[0].date = date(2026, 10, 3);
        assert_eq!(field(c.check().unwrap_err()), "years[0].workdays[0].date");
        let mut c = default_calendar();
        c.years[0].workdays[0].date = date(2027, 1, 2);
        let e = c.check().unwrap_err();
        assert!(e.message(Lang::En).contains("in 2026"), "{e:?}");
        let mut c = default_calendar();
        c.years.push(china_2026());
        assert_eq!(field(c.check().unwrap_err()), "years[1].year");
        let mut c = default_calendar();
        c.years[0].holidays[0].name = "  ".into();
        assert_eq!(field(c.check().unwrap_err()), "years[0].holidays[0].name");
    }

    #[test]
    fn a_checked_calendar_is_put_in_order() {
        let mut c = default_calendar();
        c.weekdays = vec![Weekday::Fri, Weekday::Mon, Weekday::Fri];
        c.years[0].holidays.reverse();
        c.years[0].workdays[0].name = " 元旦调休 ".into();
        let (cal, _) = c.check().unwrap();
        assert_eq!(cal.weekdays, vec![Weekday::Mon, Weekday::Fri]);
        assert_eq!(cal.years[0].holidays[0].name, "元旦");
        assert_eq!(cal.years[0].workdays[0].name, "元旦调休");
    }

    /// A calendar of some working weekdays, hours and holidays around 2026.
    fn calendars() -> impl Strategy<Value = WorkingTime> {
        (
            proptest::collection::vec(any::<bool>(), 7),
            0u32..23 * 60,
            // At least a quarter of an hour open: the longest work (400 h) then ends within
            // 31 years, inside deadline()'s 200-year bound (beyond it the sum cannot add up).
            15u32..=12 * 60,
            proptest::collection::vec((0u32..800, 0u32..10), 0..8),
            proptest::collection::vec(0u32..800, 0..6),
        )
            .prop_filter_map("a working weekday", |(days, opens, len, off, on)| {
                let weekdays: Vec<Weekday> = Weekday::ALL
                    .into_iter()
                    .zip(&days)
                    .filter(|(_, on)| **on)
                    .map(|(w, _)| w)
                    .collect();
                if weekdays.is_empty() {
                    return None;
                }
                let base = date(2026, 1, 1);
                let cal = WorkCalendar {
                    weekdays,
                    opens: hh_mm(opens),
                    closes: hh_mm((opens + len).min(24 * 60)),
                    years: vec![],
                };
                let (cal, _) = cal.check().ok()?;
                let mut t = WorkingTime::of(
                    &cal,
                    minutes_of(&cal.opens, false)?,
                    minutes_of(&cal.closes, true)?,
                );
                for (d, n) in off {
                    let from = base + Duration::days(d.into());
                    t.off.extend(from.iter_days().take(n as usize + 1));
                }
                for d in on {
                    t.on.insert(base + Duration::days(d.into()));
                }
                Some(t)
            })
    }

    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..800 * 24 * 60).prop_map(|m| at("2026-01-01 00:00") + Duration::minutes(m))
    }

    fn work() -> impl Strategy<Value = Duration> {
        (1i64..200 * 60).prop_map(Duration::minutes)
    }

    /// Whether a local time lies in a working period, or is exactly a period's end.
    fn in_or_at_end(t: &WorkingTime, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&shanghai()).naive_local();
        let day = local.date();
        let inside = t.period(day).is_some_and(|(o, c)| o <= local && local < c);
        let at_end = [day, day.pred_opt().unwrap()]
            .iter()
            .any(|d| t.period(*d).is_some_and(|(_, c)| c == local));
        inside || at_end
    }

    proptest! {
        #[test]
        fn a_deadline_is_never_before_its_start(t in calendars(), s in instants(), w in work()) {
            prop_assert!(t.deadline(&shanghai(), s, w) >= s);
        }

        #[test]
        fn deadlines_grow_with_the_start_and_the_work(
            t in calendars(), s in instants(), later in 0i64..5000, w in work(), more in 0i64..3000,
        ) {
            let tz = shanghai();
            let s2 = s + Duration::minutes(later);
            prop_assert!(t.deadline(&tz, s, w) <= t.deadline(&tz, s2, w));
            prop_assert!(t.deadline(&tz, s, w) <= t.deadline(&tz, s, w + Duration::minutes(more)));
        }

        #[test]
        fn working_time_adds_up(t in calendars(), s in instants(), a in work(), b in work()) {
            let tz = shanghai();
            prop_assert_eq!(
                t.deadline(&tz, t.deadline(&tz, s, a), b),
                t.deadline(&tz, s, a + b)
            );
        }

        #[test]
        fn a_deadline_lies_in_working_time(t in calendars(), s in instants(), w in work()) {
            let d = t.deadline(&shanghai(), s, w);
            prop_assert!(in_or_at_end(&t, d), "{} lands outside working time", d);
        }

        #[test]
        fn a_deadline_counts_exactly_the_work(t in calendars(), s in instants(), w in work()) {
            // The working time between the start and the deadline, summed day by day over
            // each working period's overlap with [start, deadline).
            let tz = shanghai();
            let d = t.deadline(&tz, s, w);
            let (from, to) = (
                s.with_timezone(&tz).naive_local(),
                d.with_timezone(&tz).naive_local(),
            );
            let counted: i64 = from
                .date()
                .iter_days()
                .take_while(|day| *day <= to.date())
                .filter_map(|day| t.period(day))
                .map(|(o, c)| (c.min(to) - o.max(from)).num_minutes().max(0))
                .sum();
            prop_assert_eq!(counted, w.num_minutes());
        }
    }
}

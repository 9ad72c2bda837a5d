//! SLA deadlines from a configurable policy by priority and customer tier. A rule's hours run
//! either in working time by the working calendar ([`crate::calendar`]) or around the clock
//! (24×7, the default for urgent calls).

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingTime;
use crate::i18n::Lang;
use crate::kinds::{Priority, Tier};

/// Which clock a rule's hours run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaClock {
    /// Only the working calendar's hours count (按工作时间).
    WorkingHours,
    /// Every hour counts (全天候 24×7).
    AroundTheClock,
}

impl SlaClock {
    pub const ALL: [SlaClock; 2] = [SlaClock::WorkingHours, SlaClock::AroundTheClock];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaClock::WorkingHours => "working_hours",
            SlaClock::AroundTheClock => "around_the_clock",
        }
    }

    pub fn parse(s: &str) -> Option<SlaClock> {
        SlaClock::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SlaClock::WorkingHours, Lang::ZhCn) => "按工作时间",
            (SlaClock::WorkingHours, Lang::En) => "working hours",
            (SlaClock::AroundTheClock, Lang::ZhCn) => "全天候（24×7）",
            (SlaClock::AroundTheClock, Lang::En) => "around the clock (24×7)",
        }
    }
}

/// The smallest and largest duration of a rule, in hours (6 minutes to 60 days).
pub const MIN_HOURS: f64 = 0.1;
pub const MAX_HOURS: f64 = 1440.0;

/// One row of the SLA policy; `tier: None` applies to every tier without its own row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaRule {
    pub priority: Priority,
    pub tier: Option<Tier>,
    /// Whether the hours count working time by the calendar or every hour.
    pub clock: SlaClock,
    /// Hours to respond (decimals allowed: 0.5 is half an hour).
    #[schema(minimum = 0.1, maximum = 1440)]
    pub respond_hours: f64,
    #[schema(minimum = 0.1, maximum = 1440)]
    pub arrive_hours: f64,
    #[schema(minimum = 0.1, maximum = 1440)]
    pub resolve_hours: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaDeadlines {
    pub respond_by: DateTime<Utc>,
    pub arrive_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
}

/// Hours as a duration, to the minute.
pub fn duration(hours: f64) -> Duration {
    Duration::minutes((hours * 60.0).round() as i64)
}

/// Hours as a person reads and types them: `2`, `0.5`, `1.25`.
pub fn hours_text(hours: f64) -> String {
    let s = format!("{:.2}", hours);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The defaults of the spine: urgent 0.5 h / 4 h / 24 h around the clock, normal 2 h / 24 h /
/// 72 h in working hours.
pub fn default_rules() -> Vec<SlaRule> {
    vec![
        SlaRule {
            priority: Priority::Urgent,
            tier: None,
            clock: SlaClock::AroundTheClock,
            respond_hours: 0.5,
            arrive_hours: 4.0,
            resolve_hours: 24.0,
        },
        SlaRule {
            priority: Priority::Normal,
            tier: None,
            clock: SlaClock::WorkingHours,
            respond_hours: 2.0,
            arrive_hours: 24.0,
            resolve_hours: 72.0,
        },
    ]
}

/// Picks the most specific rule: priority and tier, then priority alone, then the built-in default.
pub fn pick_rule(rules: &[SlaRule], priority: Priority, tier: Tier) -> SlaRule {
    rules
        .iter()
        .find(|r| r.priority == priority && r.tier == Some(tier))
        .or_else(|| {
            rules
                .iter()
                .find(|r| r.priority == priority && r.tier.is_none())
        })
        .cloned()
        .unwrap_or_else(|| {
            default_rules()
                .into_iter()
                .find(|r| r.priority == priority)
                .unwrap_or_else(|| default_rules().remove(1))
        })
}

/// The clock a rule's hours run on: the working calendar in the org's time zone.
pub struct SlaTime<'a, Z: TimeZone> {
    pub calendar: &'a WorkingTime,
    pub tz: &'a Z,
}

impl<Z: TimeZone> SlaTime<'_, Z> {
    /// `hours` after `from` on the rule's clock.
    pub fn after(&self, clock: SlaClock, from: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
        match clock {
            SlaClock::AroundTheClock => from + duration(hours),
            SlaClock::WorkingHours => self.calendar.deadline(self.tz, from, duration(hours)),
        }
    }
}

/// Deadlines for an order created at `created`. With an appointment window the customer chose,
/// the arrival is due by the window's end — later than the rule's arrive-by or earlier (an urgent
/// call booked for the next hour is late after that hour) — and resolution keeps at least the
/// rule's arrive→resolve span (on the rule's clock) after it.
pub fn deadlines<Z: TimeZone>(
    rule: &SlaRule,
    created: DateTime<Utc>,
    appointment_end: Option<DateTime<Utc>>,
    time: &SlaTime<'_, Z>,
) -> SlaDeadlines {
    let respond_by = time.after(rule.clock, created, rule.respond_hours);
    let mut arrive_by = time.after(rule.clock, created, rule.arrive_hours);
    let mut resolve_by = time.after(rule.clock, created, rule.resolve_hours);
    if let Some(end) = appointment_end {
        let span = rule.resolve_hours - rule.arrive_hours;
        arrive_by = end;
        resolve_by = resolve_by.max(time.after(rule.clock, end, span));
    }
    SlaDeadlines {
        respond_by,
        arrive_by,
        resolve_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::default_working_time;
    use chrono::FixedOffset;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn shanghai() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn due(rule: &SlaRule, created: &str, end: Option<&str>) -> SlaDeadlines {
        let cal = default_working_time();
        let tz = shanghai();
        deadlines(
            rule,
            t(created),
            end.map(t),
            &SlaTime {
                calendar: &cal,
                tz: &tz,
            },
        )
    }

    #[test]
    fn urgent_rules_run_around_the_clock() {
        let rules = default_rules();
        let u = due(
            &pick_rule(&rules, Priority::Urgent, Tier::Standard),
            "2026-05-01T08:00:00Z",
            None,
        );
        assert_eq!(u.respond_by, t("2026-05-01T08:30:00Z"));
        assert_eq!(u.arrive_by, t("2026-05-01T12:00:00Z"));
        assert_eq!(u.resolve_by, t("2026-05-02T08:00:00Z"));
    }

    #[test]
    fn normal_rules_run_in_working_hours() {
        // Tuesday 1 December 2026, 21:29 in Shanghai: the 2 h to respond run from 08:30 on
        // Wednesday, so the answer is due at 10:30, not 23:29.
        let n = due(
            &pick_rule(&default_rules(), Priority::Normal, Tier::Vip),
            "2026-12-01T13:29:00Z",
            None,
        );
        assert_eq!(n.respond_by, t("2026-12-02T02:30:00Z"));
        // 24 working hours: Wed 9.5 + Thu 9.5 + 5 on Friday → Friday 13:30.
        assert_eq!(n.arrive_by, t("2026-12-04T05:30:00Z"));
        // 72 working hours: 7 full days (66.5 h, weekend skipped) + 5.5 → Friday 11 December 14:00.
        assert_eq!(n.resolve_by, t("2026-12-11T06:00:00Z"));
    }

    #[test]
    fn tier_rule_wins_over_priority_rule() {
        let mut rules = default_rules();
        rules.push(SlaRule {
            priority: Priority::Normal,
            tier: Some(Tier::Vip),
            clock: SlaClock::WorkingHours,
            respond_hours: 1.0,
            arrive_hours: 8.0,
            resolve_hours: 48.0,
        });
        assert_eq!(
            pick_rule(&rules, Priority::Normal, Tier::Vip).respond_hours,
            1.0
        );
        assert_eq!(
            pick_rule(&rules, Priority::Normal, Tier::Key).respond_hours,
            2.0
        );
    }

    #[test]
    fn a_later_appointment_moves_arrival_and_resolution() {
        let rule = pick_rule(&default_rules(), Priority::Normal, Tier::Standard);
        // Created Wednesday 2 December 09:00, the window ends Monday 7 December 14:00.
        let d = due(&rule, "2026-12-02T01:00:00Z", Some("2026-12-07T06:00:00Z"));
        assert_eq!(d.respond_by, t("2026-12-02T03:00:00Z"));
        assert_eq!(d.arrive_by, t("2026-12-07T06:00:00Z"));
        // 48 working hours after the window: Mon 4 + Tue–Fri 38 + 6 → Monday 14 December 14:30.
        assert_eq!(d.resolve_by, t("2026-12-14T06:30:00Z"));
    }

    #[test]
    fn an_appointment_ending_before_the_rules_arrival_is_the_arrival() {
        let rule = pick_rule(&default_rules(), Priority::Urgent, Tier::Standard);
        let c = t("2026-05-01T08:00:00Z");
        let rule_arrival = c + duration(rule.arrive_hours);
        let end = t("2026-05-01T08:30:00Z");
        assert!(
            end < rule_arrival,
            "the window ends before the rule's arrive-by"
        );
        let d = due(&rule, "2026-05-01T08:00:00Z", Some("2026-05-01T08:30:00Z"));
        assert_eq!(d.arrive_by, end);
        assert_eq!(d.resolve_by, c + duration(rule.resolve_hours));
    }

    #[test]
    fn hours_read_as_typed() {
        assert_eq!(hours_text(2.0), "2");
        assert_eq!(hours_text(0.5), "0.5");
        assert_eq!(hours_text(1.25), "1.25");
        assert_eq!(hours_text(240.0), "240");
        assert_eq!(duration(0.5), Duration::minutes(30));
        assert_eq!(duration(0.1), Duration::minutes(6));
    }
}

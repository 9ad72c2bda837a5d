//! SLA deadlines from a configurable policy by priority and customer tier.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::kinds::{Priority, Tier};

/// One row of the SLA policy; `tier: None` applies to every tier without its own row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaRule {
    pub priority: Priority,
    pub tier: Option<Tier>,
    #[schema(minimum = 1, maximum = 86400)]
    pub respond_minutes: i64,
    #[schema(minimum = 1, maximum = 86400)]
    pub arrive_minutes: i64,
    #[schema(minimum = 1, maximum = 86400)]
    pub resolve_minutes: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaDeadlines {
    pub respond_by: DateTime<Utc>,
    pub arrive_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
}

/// The defaults of the spine: urgent 30 min / 4 h / 24 h, normal 2 h / 24 h / 72 h.
pub fn default_rules() -> Vec<SlaRule> {
    vec![
        SlaRule {
            priority: Priority::Urgent,
            tier: None,
            respond_minutes: 30,
            arrive_minutes: 4 * 60,
            resolve_minutes: 24 * 60,
        },
        SlaRule {
            priority: Priority::Normal,
            tier: None,
            respond_minutes: 120,
            arrive_minutes: 24 * 60,
            resolve_minutes: 72 * 60,
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

/// Deadlines for an order created at `created`. With an appointment window the customer chose,
/// the arrival is due by the window's end — later than the rule's arrive-by or earlier (an urgent
/// call booked for the next hour is late after that hour) — and resolution keeps at least the
/// rule's arrive→resolve span after it.
pub fn deadlines(
    rule: &SlaRule,
    created: DateTime<Utc>,
    appointment_end: Option<DateTime<Utc>>,
) -> SlaDeadlines {
    let respond_by = created + Duration::minutes(rule.respond_minutes);
    let mut arrive_by = created + Duration::minutes(rule.arrive_minutes);
    let mut resolve_by = created + Duration::minutes(rule.resolve_minutes);
    if let Some(end) = appointment_end {
        let span = Duration::minutes(rule.resolve_minutes - rule.arrive_minutes);
        arrive_by = end;
        resolve_by = resolve_by.max(end + span);
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

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_by_priority() {
        let rules = default_rules();
        let c = t("2026-05-01T08:00:00Z");
        let u = deadlines(
            &pick_rule(&rules, Priority::Urgent, Tier::Standard),
            c,
            None,
        );
        assert_eq!(u.respond_by, t("2026-05-01T08:30:00Z"));
        assert_eq!(u.arrive_by, t("2026-05-01T12:00:00Z"));
        assert_eq!(u.resolve_by, t("2026-05-02T08:00:00Z"));
        let n = deadlines(&pick_rule(&rules, Priority::Normal, Tier::Vip), c, None);
        assert_eq!(n.respond_by, t("2026-05-01T10:00:00Z"));
        assert_eq!(n.arrive_by, t("2026-05-02T08:00:00Z"));
        assert_eq!(n.resolve_by, t("2026-05-04T08:00:00Z"));
    }

    #[test]
    fn tier_rule_wins_over_priority_rule() {
        let mut rules = default_rules();
        rules.push(SlaRule {
            priority: Priority::Normal,
            tier: Some(Tier::Vip),
            respond_minutes: 60,
            arrive_minutes: 8 * 60,
            resolve_minutes: 48 * 60,
        });
        assert_eq!(
            pick_rule(&rules, Priority::Normal, Tier::Vip).respond_minutes,
            60
        );
        assert_eq!(
            pick_rule(&rules, Priority::Normal, Tier::Key).respond_minutes,
            120
        );
    }

    #[test]
    fn a_later_appointment_moves_arrival_and_resolution() {
        let rule = pick_rule(&default_rules(), Priority::Normal, Tier::Standard);
        let c = t("2026-05-01T08:00:00Z");
        let d = deadlines(&rule, c, Some(t("2026-05-05T06:00:00Z")));
        assert_eq!(d.respond_by, t("2026-05-01T10:00:00Z"));
        assert_eq!(d.arrive_by, t("2026-05-05T06:00:00Z"));
        assert_eq!(d.resolve_by, t("2026-05-07T06:00:00Z"));
    }

    #[test]
    fn an_appointment_ending_before_the_rules_arrival_is_the_arrival() {
        let rule = pick_rule(&default_rules(), Priority::Urgent, Tier::Standard);
        let c = t("2026-05-01T08:00:00Z");
        let rule_arrival = c + Duration::minutes(rule.arrive_minutes);
        let end = t("2026-05-01T08:30:00Z");
        assert!(
            end < rule_arrival,
            "the window ends before the rule's arrive-by"
        );
        let d = deadlines(&rule, c, Some(end));
        assert_eq!(d.arrive_by, end);
        assert_eq!(d.resolve_by, c + Duration::minutes(rule.resolve_minutes));
    }
}

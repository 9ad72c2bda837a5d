//! Complaints (投诉): what a complaint is about, how severe it is, when it must be closed, and
//! who it goes to when it is not closed in time. DOMAIN.md: due by severity (normal 48 h, severe
//! 24 h after creation); "complaint on-time closure" counts complaints closed by their due time.

use chrono::{DateTime, Duration, Utc};

crate::str_enum!(
    ComplaintStatus {
        Open = "open" / "处理中" / "Open",
        Closed = "closed" / "已办结" / "Closed",
    }
);

crate::str_enum!(
    /// What the customer complains about.
    ComplaintCategory {
        Attitude = "attitude" / "服务态度" / "Service attitude",
        Quality = "quality" / "维修质量" / "Repair quality",
        Late = "late" / "上门超时" / "Late arrival",
        Charges = "charges" / "收费争议" / "Charges dispute",
        Parts = "parts" / "备件" / "Parts",
        Other = "other" / "其他" / "Other",
    }
);

crate::str_enum!(
    Severity {
        Normal = "normal" / "一般" / "Normal",
        Severe = "severe" / "严重" / "Severe",
    }
);

crate::str_enum!(
    /// An entry of a complaint's log (what was done, by whom, when).
    ComplaintActionKind {
        Note = "note" / "处理记录" / "Action",
        Escalated = "escalated" / "升级" / "Escalated",
        Closed = "closed" / "办结" / "Closed",
    }
);

/// Hours to close a complaint, by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueRules {
    pub normal_hours: i64,
    pub severe_hours: i64,
}

impl Default for DueRules {
    /// DOMAIN.md's defaults: normal 48 h, severe 24 h.
    fn default() -> Self {
        DueRules {
            normal_hours: 48,
            severe_hours: 24,
        }
    }
}

impl DueRules {
    /// When a complaint of `severity` created at `created` must be closed.
    pub fn due_at(&self, created: DateTime<Utc>, severity: Severity) -> DateTime<Utc> {
        let hours = match severity {
            Severity::Normal => self.normal_hours,
            Severity::Severe => self.severe_hours,
        };
        created + Duration::hours(hours)
    }
}

/// An open complaint past its due time (已超时).
pub fn is_overdue(status: ComplaintStatus, due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == ComplaintStatus::Open && due_at < now
}

/// Closed by its due time: what "complaint on-time closure" counts.
pub fn closed_on_time(due_at: DateTime<Utc>, closed_at: Option<DateTime<Utc>>) -> bool {
    closed_at.is_some_and(|c| c <= due_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn due_by_severity() {
        let r = DueRules::default();
        let c = at("2025-03-01T02:00:00Z");
        assert_eq!(r.due_at(c, Severity::Normal), at("2025-03-03T02:00:00Z"));
        assert_eq!(r.due_at(c, Severity::Severe), at("2025-03-02T02:00:00Z"));
    }

    #[test]
    fn overdue_only_while_open() {
        let due = at("2025-03-02T02:00:00Z");
        let later = at("2025-03-02T02:00:01Z");
        assert!(is_overdue(ComplaintStatus::Open, due, later));
        assert!(!is_overdue(ComplaintStatus::Open, due, due));
        assert!(!is_overdue(ComplaintStatus::Closed, due, later));
    }

    #[test]
    fn on_time_is_at_or_before_due() {
        let due = at("2025-03-02T02:00:00Z");
        assert!(closed_on_time(due, Some(due)));
        assert!(!closed_on_time(due, Some(at("2025-03-02T02:00:01Z"))));
        assert!(!closed_on_time(due, None));
    }

    #[test]
    fn wire_names_are_stored_names() {
        for c in ComplaintCategory::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for s in Severity::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}

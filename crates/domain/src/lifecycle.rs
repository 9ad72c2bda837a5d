//! The work-order lifecycle of DOMAIN.md, the only place that decides which transitions exist.
//!
//! ```text
//! new → assigned → accepted → en_route → on_site → completed → reviewed → closed
//!                                          on_site → waiting_parts → assigned
//! assigned / accepted → new: the technician declines (with a reason) before setting off
//! any state before completed → cancelled (with a reason)
//! repair_phone: new → accepted → completed (no visit)
//! ```

use crate::error::DomainError;
use crate::kinds::WorkOrderType;

crate::str_enum!(
    Status {
        New = "new" / "新建" / "New",
        Assigned = "assigned" / "已派工" / "Assigned",
        Accepted = "accepted" / "已接单" / "Accepted",
        EnRoute = "en_route" / "在途" / "En route",
        OnSite = "on_site" / "在现场" / "On site",
        WaitingParts = "waiting_parts" / "待备件" / "Waiting parts",
        Completed = "completed" / "已完工" / "Completed",
        Reviewed = "reviewed" / "已审核" / "Reviewed",
        Closed = "closed" / "已关闭" / "Closed",
        Cancelled = "cancelled" / "已取消" / "Cancelled",
    }
);

crate::str_enum!(
    /// Why a technician declines an order (gives it back to the dispatcher before setting off).
    DeclineReason {
        Skill = "skill" / "不熟悉该机型/缺少技能" / "not my trade or model",
        Schedule = "schedule" / "时间冲突，赶不过去" / "clashes with my schedule",
        Distance = "distance" / "路程太远" / "too far away",
        Parts = "parts" / "缺少所需备件或工具" / "missing parts or tools",
        Unwell = "unwell" / "身体不适/请假" / "unwell or on leave",
        Other = "other" / "其他原因" / "other reason",
    }
);

impl Status {
    /// States before `completed`: the ones an order can be cancelled from.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Completed | Status::Reviewed | Status::Closed | Status::Cancelled
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled)
    }
}

/// The states an order of `kind` may go to from `from`.
pub fn next_states(kind: WorkOrderType, from: Status) -> &'static [Status] {
    use Status::*;
    if kind == WorkOrderType::RepairPhone {
        return match from {
            New => &[Accepted, Cancelled],
            Accepted => &[Completed, Cancelled],
            Completed => &[Reviewed],
            Reviewed => &[Closed],
            _ => &[],
        };
    }
    match from {
        New => &[Assigned, Cancelled],
        Assigned => &[Accepted, New, Cancelled],
        Accepted => &[EnRoute, New, Cancelled],
        EnRoute => &[OnSite, Cancelled],
        OnSite => &[Completed, WaitingParts, Cancelled],
        WaitingParts => &[Assigned, Cancelled],
        Completed => &[Reviewed],
        Reviewed => &[Closed],
        Closed | Cancelled => &[],
    }
}

/// Refuses a transition the lifecycle does not have.
pub fn check_transition(kind: WorkOrderType, from: Status, to: Status) -> Result<(), DomainError> {
    if next_states(kind, from).contains(&to) {
        Ok(())
    } else {
        Err(DomainError::IllegalTransition { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Status::*;

    fn any_status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }
    fn any_kind() -> impl Strategy<Value = WorkOrderType> {
        proptest::sample::select(WorkOrderType::ALL.to_vec())
    }

    #[test]
    fn the_happy_path_of_a_field_order_is_allowed() {
        let path = [
            New, Assigned, Accepted, EnRoute, OnSite, Completed, Reviewed, Closed,
        ];
        for w in path.windows(2) {
            check_transition(WorkOrderType::RepairOnsite, w[0], w[1]).unwrap();
        }
        check_transition(WorkOrderType::Install, OnSite, WaitingParts).unwrap();
        check_transition(WorkOrderType::Install, WaitingParts, Assigned).unwrap();
    }

    #[test]
    fn phone_repairs_skip_the_visit() {
        let k = WorkOrderType::RepairPhone;
        check_transition(k, New, Accepted).unwrap();
        check_transition(k, Accepted, Completed).unwrap();
        assert!(check_transition(k, New, Assigned).is_err());
        assert!(check_transition(k, Accepted, EnRoute).is_err());
    }

    #[test]
    fn an_illegal_transition_names_both_states() {
        let e = check_transition(WorkOrderType::Install, New, Completed).unwrap_err();
        assert_eq!(e.code(), "illegal_transition");
        let zh = e.message(crate::Lang::ZhCn);
        assert!(zh.contains("新建") && zh.contains("已完工"), "{zh}");
        let en = e.message(crate::Lang::En);
        assert!(en.contains("new") && en.contains("completed"), "{en}");
    }

    /// The lifecycle as DOMAIN.md writes it, independently of `next_states`.
    fn allowed_by_spec(kind: WorkOrderType, from: Status, to: Status) -> bool {
        if to == Cancelled {
            return from.is_open() && from != Cancelled;
        }
        let pairs: &[(Status, Status)] = if kind == WorkOrderType::RepairPhone {
            &[
                (New, Accepted),
                (Accepted, Completed),
                (Completed, Reviewed),
                (Reviewed, Closed),
            ]
        } else {
            &[
                (New, Assigned),
                (Assigned, Accepted),
                (Accepted, EnRoute),
                (EnRoute, OnSite),
                (OnSite, Completed),
                (Completed, Reviewed),
                (Reviewed, Closed),
                (OnSite, WaitingParts),
                (WaitingParts, Assigned),
                // Declined by the technician before setting off: back to the queue.
                (Assigned, New),
                (Accepted, New),
            ]
        };
        pairs.contains(&(from, to))
    }

    #[test]
    fn a_field_order_is_declined_only_before_setting_off() {
        let k = WorkOrderType::RepairOnsite;
        check_transition(k, Assigned, New).unwrap();
        check_transition(k, Accepted, New).unwrap();
        for from in [
            New,
            EnRoute,
            OnSite,
            WaitingParts,
            Completed,
            Reviewed,
            Closed,
            Cancelled,
        ] {
            assert!(check_transition(k, from, New).is_err(), "{from}");
        }
        assert!(check_transition(WorkOrderType::RepairPhone, Accepted, New).is_err());
    }

    proptest! {
        /// Whatever came before, an order goes back to `new` only from assigned or accepted (no
        /// visit under way, so none is left open), and never a phone repair.
        #[test]
        fn back_to_new_only_before_a_visit(kind in any_kind(), from in any_status()) {
            let ok = check_transition(kind, from, New).is_ok();
            prop_assert_eq!(
                ok,
                kind != WorkOrderType::RepairPhone && matches!(from, Assigned | Accepted)
            );
        }

        /// Any sequence of requested transitions, applied where allowed, only walks the lifecycle:
        /// every accepted step is one the spec allows, every refused one is not, and terminal
        /// states are never left.
        #[test]
        fn no_sequence_reaches_a_forbidden_state(kind in any_kind(), steps in proptest::collection::vec(any_status(), 0..60)) {
            let mut state = New;
            let mut completed_seen = false;
            for to in steps {
                let before = state;
                match check_transition(kind, state, to) {
                    Ok(()) => {
                        prop_assert!(allowed_by_spec(kind, before, to), "{kind} {before} -> {to} allowed");
                        prop_assert!(!before.is_terminal());
                        state = to;
                    }
                    Err(DomainError::IllegalTransition { from, to: t }) => {
                        prop_assert!(!allowed_by_spec(kind, before, to));
                        prop_assert_eq!((from, t), (before, to));
                    }
                    Err(e) => prop_assert!(false, "unexpected error {e:?}"),
                }
                if state == Completed { completed_seen = true; }
                // Once completed, an order can never be cancelled nor reopened.
                if completed_seen {
                    prop_assert!(matches!(state, Completed | Reviewed | Closed));
                }
                if kind == WorkOrderType::RepairPhone {
                    prop_assert!(!matches!(state, Assigned | EnRoute | OnSite | WaitingParts));
                }
            }
        }
    }
}

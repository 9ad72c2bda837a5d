//! The closed vocabularies of DOMAIN.md as enums, each stored and sent as its snake_case name.

use crate::error::{DomainError, ValidationError};
use crate::i18n::Lang;

/// Declares a string-valued enum with `as_str`, `parse`, `ALL`, a zh-CN label and serde.
#[macro_export]
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $s:literal / $zh:literal / $en:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        // snake_case names are what the OpenAPI document shows; a test checks they equal the
        // stored names of every vocabulary.
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// The name shown to a person in `lang`.
            pub fn label(self, lang: $crate::i18n::Lang) -> &'static str {
                match lang {
                    $crate::i18n::Lang::ZhCn => match self { $($name::$variant => $zh),+ },
                    $crate::i18n::Lang::En => match self { $($name::$variant => $en),+ },
                }
            }

            /// Parses the stored/wire name; `field` names the input in the error.
            pub fn parse_field(s: &str, field: &str) -> Result<Self, $crate::error::DomainError> {
                match s { $($s => Ok($name::$variant),)+
                    _ => Err($crate::error::DomainError::invalid(field, $crate::error::ValidationError::UnknownValue {
                        allowed: [$($s),+].join(", "),
                    })),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> { Self::parse_field(&s, stringify!($name)) }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse_field(s, stringify!($name)) }
        }
    };
}

str_enum!(
    /// Roles of DOMAIN.md.
    Role {
        Admin = "admin" / "系统管理员" / "Admin",
        Manager = "manager" / "客服经理" / "Manager",
        Dispatcher = "dispatcher" / "商务调度" / "Dispatcher",
        Clerk = "clerk" / "信息员" / "Clerk",
        Technician = "technician" / "维修技术员" / "Technician",
        Partner = "partner" / "安装网点" / "Partner",
        Finance = "finance" / "结算员" / "Finance",
        Followup = "followup" / "回访员" / "Follow-up",
    }
);

str_enum!(
    /// Kinds of org unit; they form a tree under the head office.
    OrgKind {
        HeadOffice = "head_office" / "总部" / "Head office",
        Region = "region" / "区域" / "Region",
        Store = "store" / "门店" / "Store",
        Partner = "partner" / "安装网点" / "Partner",
    }
);

str_enum!(
    /// Product categories; a category names the skill a job needs.
    Category {
        TvAudio = "tv_audio" / "彩电音响" / "TV & audio",
        Refrigeration = "refrigeration" / "制冷" / "Refrigeration",
        Washing = "washing" / "洗衣机" / "Washing",
        SmallAppliance = "small_appliance" / "小家电" / "Small appliance",
        Kitchen = "kitchen" / "厨卫" / "Kitchen",
        Copier = "copier" / "复印机" / "Copier",
        Printer = "printer" / "打印机" / "Printer",
    }
);

str_enum!(
    WorkOrderType {
        Install = "install" / "安装" / "Install",
        RepairOnsite = "repair_onsite" / "上门维修" / "On-site repair",
        RepairPhone = "repair_phone" / "电话指导" / "Phone guidance",
        Replacement = "replacement" / "更换" / "Replacement",
        Maintenance = "maintenance" / "保养" / "Maintenance",
        Inspection = "inspection" / "巡检" / "Inspection",
    }
);

impl WorkOrderType {
    /// Field orders need a visit (DOMAIN.md "Field orders").
    pub fn is_field(self) -> bool {
        self != WorkOrderType::RepairPhone
    }

    pub fn is_repair(self) -> bool {
        matches!(
            self,
            WorkOrderType::RepairOnsite | WorkOrderType::RepairPhone
        )
    }
}

str_enum!(
    Channel {
        Phone = "phone" / "电话" / "Phone",
        WalkIn = "walk_in" / "到店" / "Walk-in",
        SelfService = "self_service" / "自助报修" / "Self-service",
        Sales = "sales" / "销售" / "Sales",
        Contract = "contract" / "合同" / "Contract",
    }
);

str_enum!(
    Priority {
        Urgent = "urgent" / "紧急" / "Urgent",
        Normal = "normal" / "普通" / "Normal",
    }
);

str_enum!(
    Tier {
        Vip = "vip" / "VIP" / "VIP",
        Key = "key" / "重点" / "Key",
        Standard = "standard" / "普通" / "Standard",
    }
);

str_enum!(
    CustomerKind {
        Person = "person" / "个人" / "Person",
        Company = "company" / "企业" / "Company",
    }
);

str_enum!(
    VisitOutcome {
        Fixed = "fixed" / "已修复" / "Fixed",
        NeedsParts = "needs_parts" / "需备件" / "Needs parts",
        NeedsRevisit = "needs_revisit" / "需再次上门" / "Needs revisit",
        NotFixable = "not_fixable" / "无法修复" / "Not fixable",
        CustomerAbsent = "customer_absent" / "客户不在" / "Customer absent",
    }
);

str_enum!(
    WarrantyDecision {
        InWarranty = "in_warranty" / "保内" / "In warranty",
        MainPartsOnly = "main_parts_only" / "主要部件保修" / "Main parts only",
        OutOfWarranty = "out_of_warranty" / "保外" / "Out of warranty",
        // No device on the order yet: decided when the device is known.
        Undecided = "undecided" / "待定" / "Not decided",
    }
);

str_enum!(
    WarrantyStart {
        Purchase = "purchase" / "购买日期" / "Purchase",
        Install = "install" / "安装日期" / "Install",
    }
);

impl Role {
    /// Roles that may see every record of their unit subtree (everyone but technician and partner).
    pub fn is_office(self) -> bool {
        !matches!(self, Role::Technician | Role::Partner)
    }
}

/// Parses an optional wire value, mapping absence to `None`.
pub fn parse_opt<T>(
    v: Option<&str>,
    f: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    v.map(f).transpose()
}

/// A required non-empty trimmed text of at most `max` characters.
pub fn required_text(v: &str, field: &str, max: usize) -> Result<String, DomainError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, ValidationError::Required));
    }
    if t.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            ValidationError::TooLong { max },
        ));
    }
    Ok(t.to_string())
}

/// Labels for lists shown to a person, e.g. in error messages.
pub fn labels<T: Copy>(all: &[T], f: impl Fn(T, Lang) -> &'static str, lang: Lang) -> String {
    all.iter()
        .map(|v| f(*v, lang))
        .collect::<Vec<_>>()
        .join("、")
}

str_enum!(
    /// The follow-up answer (DOMAIN.md satisfaction scale).
    Rating {
        VerySatisfied = "very_satisfied" / "非常满意" / "Very satisfied",
        Satisfied = "satisfied" / "满意" / "Satisfied",
        Neutral = "neutral" / "一般" / "Neutral",
        Dissatisfied = "dissatisfied" / "不满意" / "Dissatisfied",
    }
);

str_enum!(
    FollowUpChannel {
        Phone = "phone" / "电话回访" / "Phone",
        SelfService = "self_service" / "客户自评" / "Self-service",
    }
);

str_enum!(
    /// A sales lead (商机) captured on an order.
    OpportunityKind {
        ReplacementDue = "replacement_due" / "到期更换" / "Replacement due",
        Consumables = "consumables" / "耗材" / "Consumables",
        MaintenanceContract = "maintenance_contract" / "保养合同" / "Maintenance contract",
        TradeIn = "trade_in" / "以旧换新" / "Trade-in",
    }
);

str_enum!(
    OpportunityStatus {
        Open = "open" / "跟进中" / "Open",
        Won = "won" / "已成交" / "Won",
        Lost = "lost" / "已流失" / "Lost",
    }
);

str_enum!(
    /// A self-service fault report whose phone did not match the owner's.
    RequestStatus {
        Pending = "pending" / "待核实" / "Pending",
        Accepted = "accepted" / "已建单" / "Accepted",
        Rejected = "rejected" / "已驳回" / "Rejected",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire name (serde) of every value is its stored name, so a form value, a JSON body
    /// and a database row all mean the same thing.
    #[test]
    fn serde_names_are_the_stored_names() {
        fn check<T: serde::Serialize + Copy>(all: &[T], name: fn(T) -> &'static str) {
            for v in all {
                assert_eq!(
                    serde_json::to_value(v).unwrap(),
                    serde_json::json!(name(*v))
                );
            }
        }
        check(Category::ALL, Category::as_str);
        check(Role::ALL, Role::as_str);
        check(OrgKind::ALL, OrgKind::as_str);
        check(WorkOrderType::ALL, WorkOrderType::as_str);
        check(Channel::ALL, Channel::as_str);
        check(Priority::ALL, Priority::as_str);
        check(Tier::ALL, Tier::as_str);
        check(VisitOutcome::ALL, VisitOutcome::as_str);
        check(WarrantyDecision::ALL, WarrantyDecision::as_str);
        check(WarrantyStart::ALL, WarrantyStart::as_str);
        check(Rating::ALL, Rating::as_str);
        check(OpportunityKind::ALL, OpportunityKind::as_str);
        check(crate::Status::ALL, crate::Status::as_str);
        check(crate::fees::Payer::ALL, crate::fees::Payer::as_str);
        check(
            crate::fees::ChargeKind::ALL,
            crate::fees::ChargeKind::as_str,
        );
        check(CustomerKind::ALL, CustomerKind::as_str);
        check(FollowUpChannel::ALL, FollowUpChannel::as_str);
        check(OpportunityStatus::ALL, OpportunityStatus::as_str);
        check(RequestStatus::ALL, RequestStatus::as_str);
    }
}

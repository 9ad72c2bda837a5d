//! How the API's field names read to a person. An error keeps the machine-readable path
//! (`addresses[1].lat`) in its `field`; its message names the field as the user sees it:
//! "地址 2 的纬度" / "address 2 latitude". The one table of these labels is [`LABELS`].

use crate::i18n::Lang;

/// `(name on the wire, zh-CN, English, English for one item of a list)`.
///
/// Names of references (`customer_id`) read as the record they point at ("客户" / "customer").
const LABELS: &[(&str, &str, &str, &str)] = &[
    // Customers and addresses.
    ("name", "名称", "name", ""),
    ("kind", "类型", "type", ""),
    ("type", "类型", "type", ""),
    ("tier", "客户等级", "customer tier", ""),
    ("note", "备注", "note", ""),
    ("phone", "电话", "phone", ""),
    ("phones", "电话", "phones", "phone"),
    ("addresses", "地址", "addresses", "address"),
    ("address", "地址", "address", ""),
    ("label", "地址名称", "address label", ""),
    ("lat", "纬度", "latitude", ""),
    ("lng", "经度", "longitude", ""),
    // References.
    ("id", "编号", "ID", ""),
    ("customer_id", "客户", "customer", ""),
    ("customer", "客户", "customer", ""),
    ("device_id", "设备", "device", ""),
    ("device", "设备", "device", ""),
    ("product_id", "产品", "product", ""),
    ("product", "产品", "product", ""),
    ("policy_id", "保修政策", "warranty policy", ""),
    ("warranty_policy", "保修政策", "warranty policy", ""),
    ("org_unit_id", "所属机构", "org unit", ""),
    ("org_unit", "所属机构", "org unit", ""),
    ("parent_id", "上级机构", "parent unit", ""),
    ("partner_unit_id", "安装网点", "partner", ""),
    ("purchase_store_id", "购买门店", "store of purchase", ""),
    ("store_id", "门店", "store", ""),
    ("store", "门店", "store", ""),
    ("technician_id", "技术员", "technician", ""),
    ("technician", "技术员", "technician", ""),
    ("user_id", "用户", "user", ""),
    ("user", "用户", "user", ""),
    ("address_id", "地址", "address", ""),
    ("site_address_id", "服务地址", "service address", ""),
    ("work_order_id", "工单", "work order", ""),
    ("pinned_to", "指定技术员", "pinned technician", ""),
    ("entity", "记录类型", "record type", ""),
    // Products, devices and warranty.
    ("brand", "品牌", "brand", ""),
    ("model", "型号", "model", ""),
    ("category", "品类", "category", ""),
    ("manufacturer", "厂家", "manufacturer", ""),
    ("serial", "序列号", "serial number", ""),
    ("purchase_date", "购买日期", "purchase date", ""),
    ("install_date", "安装日期", "install date", ""),
    ("main_parts", "主要部件", "main parts", "main part"),
    (
        "whole_unit_months",
        "整机保修月数",
        "whole-unit warranty months",
        "",
    ),
    (
        "main_parts_months",
        "主要部件保修月数",
        "main-part warranty months",
        "",
    ),
    (
        "labour_months",
        "人工保修月数",
        "labour warranty months",
        "",
    ),
    // Work orders.
    ("fault_description", "故障描述", "fault description", ""),
    ("priority", "优先级", "priority", ""),
    ("status", "状态", "status", ""),
    ("to", "目标状态", "new status", ""),
    ("outcome", "处理结果", "outcome", ""),
    ("reason", "原因", "reason", ""),
    ("comment", "意见", "comment", ""),
    ("appointment_start", "预约开始时间", "appointment start", ""),
    ("appointment_end", "预约结束时间", "appointment end", ""),
    ("respond_by", "响应时限", "respond-by time", ""),
    ("resolve_by", "完成时限", "resolve-by time", ""),
    (
        "respond_hours",
        "响应时限（小时）",
        "respond-within hours",
        "",
    ),
    (
        "resolve_hours",
        "完成时限（小时）",
        "resolve-within hours",
        "",
    ),
    (
        "arrive_hours",
        "到达时限（小时）",
        "arrive-within hours",
        "",
    ),
    ("clock", "计时方式", "clock", ""),
    ("rules", "规则", "rules", "rule"),
    // Dispatch.
    ("date", "日期", "date", ""),
    ("day", "日期", "day", ""),
    ("from", "开始日期", "from", ""),
    // KPIs.
    ("kpi", "指标", "KPI", ""),
    ("period", "统计期间", "period", ""),
    ("by", "分组", "grouping", ""),
    ("side", "分子或分母", "numerator or denominator", ""),
    ("starts_at", "开始时间", "start time", ""),
    ("ends_at", "结束时间", "end time", ""),
    ("start_lat", "出发点纬度", "start latitude", ""),
    ("start_lng", "出发点经度", "start longitude", ""),
    ("start_address", "出发地址", "start address", ""),
    ("skill", "技能", "skill", ""),
    ("skills", "技能", "skills", "skill"),
    ("senior", "高级技术员", "senior technician", ""),
    ("pins", "指定", "pins", "pin"),
    ("breaks", "休息", "breaks", "break"),
    ("urgent", "紧急", "urgent", ""),
    ("active", "启用", "active", ""),
    // The visit and its report.
    ("visit", "上门记录", "visit", ""),
    ("findings", "检查结果", "findings", ""),
    ("work_done", "处理措施", "work done", ""),
    ("labour_minutes", "工时（分钟）", "labour minutes", ""),
    ("parts", "配件", "parts", "part"),
    ("qty", "数量", "quantity", ""),
    ("client_key", "客户端键", "client key", ""),
    ("key", "客户端键", "client key", ""),
    ("path", "签名", "signature", ""),
    ("signed_by", "签字人", "signed by", ""),
    ("photo", "照片", "photo", ""),
    ("part", "配件", "part", ""),
    ("review", "审核意见", "review comment", ""),
    ("line", "配件行", "part line", ""),
    ("payer", "付款方", "payer", ""),
    ("labour_fen", "人工费（分）", "labour fee (fen)", ""),
    ("travel_fen", "路程费（分）", "travel fee (fen)", ""),
    ("value_fen", "金额（分）", "value (fen)", ""),
    // Knowledge base, follow-ups, complaints.
    ("title", "标题", "title", ""),
    ("symptom", "现象", "symptom", ""),
    ("cause", "原因", "cause", ""),
    ("fix", "解决方法", "fix", ""),
    ("description", "描述", "description", ""),
    ("rating", "满意度", "rating", ""),
    ("channel", "回访方式", "channel", ""),
    ("accept", "是否受理", "accept", ""),
    ("severity", "严重程度", "severity", ""),
    ("owner_id", "负责人", "owner", ""),
    ("resolution", "办结说明", "resolution", ""),
    ("escalated_to", "升级对象", "escalated to", ""),
    ("show", "显示范围", "which complaints", ""),
    ("decision", "处理决定", "decision", ""),
    // People and sign-in.
    ("username", "用户名", "user name", ""),
    ("password", "密码", "password", ""),
    ("current_password", "当前密码", "current password", ""),
    ("display_name", "显示名称", "display name", ""),
    ("role", "角色", "role", ""),
    ("lang", "语言", "language", ""),
    ("code", "编码", "code", ""),
    // Settings.
    ("api_key", "密钥", "key", ""),
    ("city", "城市", "city", ""),
    ("endpoint", "接口地址", "endpoint", ""),
    ("provider", "服务商", "provider", ""),
    // The working calendar.
    ("weekdays", "工作日", "working days", "working day"),
    ("opens", "上班时间", "opening time", ""),
    ("closes", "下班时间", "closing time", ""),
    ("years", "年度", "years", "year"),
    ("year", "年份", "year", ""),
    ("holidays", "节假日", "holidays", "holiday"),
    (
        "workdays",
        "调休上班日",
        "adjusted working days",
        "adjusted working day",
    ),
    ("until", "结束日期", "last day", ""),
    // Points (积分).
    ("difficulty", "难度系数", "difficulty grade", ""),
    ("points", "积分", "points", ""),
    ("month", "月份", "month", ""),
    ("effective_from", "生效日期", "effective date", ""),
    ("base", "基础分", "base points", ""),
    (
        "min_visits",
        "参加排名最少上门次数",
        "visits needed to be ranked",
        "",
    ),
    (
        "first_time_fix",
        "一次修复加分",
        "first-time fix points",
        "",
    ),
    (
        "very_satisfied",
        "非常满意加分",
        "very satisfied points",
        "",
    ),
    ("arrived_late", "迟到扣分", "late arrival points", ""),
    ("complaint", "投诉扣分", "complaint points", ""),
    ("repeat_repair", "返修扣分", "repeat repair points", ""),
    // Query strings, path segments, headers and the body itself.
    ("q", "搜索词", "search text", ""),
    ("limit", "条数", "limit", ""),
    ("offset", "起始位置", "offset", ""),
    ("sort", "排序方式", "sort order", ""),
    ("token", "二维码链接", "QR link", ""),
    ("file", "文件名", "file name", ""),
    ("body", "请求正文", "request body", ""),
    ("If-Match", "If-Match 请求头", "If-Match header", ""),
    (
        "Idempotency-Key",
        "Idempotency-Key 请求头",
        "Idempotency-Key header",
        "",
    ),
];

fn entry(name: &str) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
    LABELS.iter().find(|(n, ..)| *n == name)
}

/// One step of a field path: a name (possibly empty for a list at the top) and the indices
/// that follow it (`addresses[1]` → `("addresses", [1])`).
fn steps(path: &str) -> Vec<(&str, Vec<&str>)> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .map(|seg| {
            let (name, rest) = seg.split_at(seg.find('[').unwrap_or(seg.len()));
            let idx = rest
                .split(['[', ']'])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>();
            (name, idx)
        })
        .collect()
}

/// The label of one step: "地址 2" / "address 2", "纬度" / "latitude".
fn step_label(name: &str, idx: &[&str], lang: Lang) -> String {
    let e = entry(name);
    let number = |i: &str| {
        i.parse::<usize>()
            .map_or(i.to_string(), |n| (n + 1).to_string())
    };
    let mut s = match (e, lang) {
        (Some((_, zh, ..)), Lang::ZhCn) => (*zh).to_string(),
        (Some((_, _, _, one)), Lang::En) if !idx.is_empty() && !one.is_empty() => {
            (*one).to_string()
        }
        (Some((_, _, en, _)), Lang::En) => (*en).to_string(),
        (None, _) if name.is_empty() => String::new(),
        (None, _) => name.to_string(),
    };
    for i in idx {
        if s.is_empty() {
            s = match lang {
                Lang::ZhCn => format!("第 {} 项", number(i)),
                Lang::En => format!("item {}", number(i)),
            };
        } else {
            s = format!("{s} {}", number(i));
        }
    }
    s
}

/// The field as the user sees it: `addresses[1].lat` → "地址 2 的纬度" / "address 2 latitude".
/// Names outside the table read as they are.
pub fn label(path: &str, lang: Lang) -> String {
    let parts: Vec<String> = steps(path)
        .into_iter()
        .map(|(name, idx)| step_label(name, &idx, lang))
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return path.to_string();
    }
    match lang {
        // "地址 2 的纬度", "客户的名称": a space only after a number or a Latin word.
        Lang::ZhCn => parts.iter().fold(String::new(), |mut out, p| {
            if !out.is_empty() {
                if out.ends_with(|c: char| c.is_ascii_alphanumeric()) {
                    out.push(' ');
                }
                out.push('的');
            }
            out.push_str(p);
            out
        }),
        Lang::En => parts.join(" "),
    }
}

/// The record a field names, without its place in a list: `pins[0].technician_id` → "技术员".
pub fn noun(path: &str, lang: Lang) -> String {
    steps(path)
        .into_iter()
        .rev()
        .find(|(name, _)| !name.is_empty())
        .map(|(name, _)| step_label(name, &[], lang))
        .unwrap_or_default()
}

/// [`label`] with its first letter in upper case, to open an English sentence.
pub fn label_start(path: &str, lang: Lang) -> String {
    let l = label(path, lang);
    let mut c = l.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => l,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_the_user_sees_them() {
        assert_eq!(label("addresses[1].lat", Lang::ZhCn), "地址 2 的纬度");
        assert_eq!(label("addresses[1].lat", Lang::En), "address 2 latitude");
        assert_eq!(label("phones[0]", Lang::ZhCn), "电话 1");
        assert_eq!(label("phones[0]", Lang::En), "phone 1");
        assert_eq!(label("phones", Lang::En), "phones");
        assert_eq!(label("customer_id", Lang::ZhCn), "客户");
        assert_eq!(label("[2].priority", Lang::ZhCn), "第 3 项的优先级");
        assert_eq!(label("[2].priority", Lang::En), "item 3 priority");
        assert_eq!(label("something_new", Lang::ZhCn), "something_new");
        assert_eq!(
            label_start("addresses[0].lat", Lang::En),
            "Address 1 latitude"
        );
    }

    #[test]
    fn every_name_is_labelled_once() {
        let mut names: Vec<&str> = LABELS.iter().map(|(n, ..)| *n).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a name appears twice in LABELS");
        for (n, zh, en, _) in LABELS {
            assert!(!zh.is_empty() && !en.is_empty(), "{n}");
            assert!(
                !zh.chars().any(|c| c.is_ascii_lowercase()) || n.contains('-'),
                "{n}: {zh}"
            );
        }
    }
}

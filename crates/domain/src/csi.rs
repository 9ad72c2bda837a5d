//! Satisfaction by item (分项满意度, CSI): the follow-up questionnaire and how its answers score.
//!
//! A questionnaire is a list of items (响应速度, 上门准时 …) an admin sets per brand (to match the
//! manufacturer's questions) and per work-order type; the follow-up call and the customer's own
//! rating on the QR page answer each item on the satisfaction scale, and always the overall
//! item 整体满意 (the follow-up's rating, which the satisfaction rates read). DOMAIN.md scores an
//! answer very_satisfied 100, satisfied 200/3, neutral 100/3, dissatisfied 0; kept exact here as
//! thirds of 100 points (3, 2, 1, 0), an item's CSI is 100 × Σthirds ÷ (3 × answers).

use serde::Serialize;

use crate::error::{DomainError, ValidationError};
use crate::kinds::{required_text, Rating, WorkOrderType};
use crate::kpi::div_round;

/// The overall item every questionnaire ends with: the follow-up's own rating.
pub const OVERALL: &str = "整体满意";

/// The items of the questionnaire used where no brand or type has its own.
pub const DEFAULT_ITEMS: [&str; 5] = ["响应速度", "上门准时", "服务态度", "维修质量", "收费合理"];

/// Items a questionnaire may ask besides the overall one.
pub const MAX_ITEMS: usize = 12;
/// Longest item label, in characters.
pub const MAX_ITEM_CHARS: usize = 20;

/// An answer's score in thirds of 100 points.
pub fn thirds(r: Rating) -> i64 {
    match r {
        Rating::VerySatisfied => 3,
        Rating::Satisfied => 2,
        Rating::Neutral => 1,
        Rating::Dissatisfied => 0,
    }
}

/// Whether an answer counts as low for the improvement priority (一般 or 不满意).
pub fn is_low(r: Rating) -> bool {
    matches!(r, Rating::Neutral | Rating::Dissatisfied)
}

/// A questionnaire's items as an admin typed them: trimmed, one per line or separated by
/// 、/ ,; none empty, duplicated, too long or the overall item (which every questionnaire asks
/// anyway); at least one and at most [`MAX_ITEMS`].
pub fn parse_items(text: &str) -> Result<Vec<String>, DomainError> {
    check_items(text.split(['\n', '、', ',', '，', ';', '；']))
}

/// The items of a list (as the API sends them), checked as [`parse_items`] checks them.
pub fn check_items<'a>(
    list: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, DomainError> {
    let mut items: Vec<String> = Vec::new();
    for raw in list {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        let t = required_text(t, "items", MAX_ITEM_CHARS)?;
        if t == OVERALL {
            continue;
        }
        if items.contains(&t) {
            return Err(DomainError::invalid(
                "items",
                ValidationError::Invalid {
                    zh: format!("题目“{t}”重复了"),
                    en: format!("the item \"{t}\" is listed twice"),
                },
            ));
        }
        items.push(t);
    }
    if items.is_empty() {
        return Err(DomainError::invalid("items", ValidationError::Required));
    }
    if items.len() > MAX_ITEMS {
        return Err(DomainError::invalid(
            "items",
            ValidationError::Invalid {
                zh: format!("一份问卷最多 {MAX_ITEMS} 个题目（另有整体满意）"),
                en: format!(
                    "a questionnaire asks at most {MAX_ITEMS} items (besides the overall one)"
                ),
            },
        ));
    }
    Ok(items)
}

/// How well a questionnaire set for `q_brand` / `q_kind` ('' = any) fits an order of `brand` /
/// `kind`: 3 both match, 2 the brand, 1 the type, 0 the default; `None` when it is for another
/// brand or type.
pub fn fit(q_brand: &str, q_kind: &str, brand: Option<&str>, kind: WorkOrderType) -> Option<u8> {
    let brand_fits = q_brand.is_empty() || Some(q_brand) == brand;
    let kind_fits = q_kind.is_empty() || q_kind == kind.as_str();
    if !brand_fits || !kind_fits {
        return None;
    }
    Some(match (q_brand.is_empty(), q_kind.is_empty()) {
        (false, false) => 3,
        (false, true) => 2,
        (true, false) => 1,
        (true, true) => 0,
    })
}

/// The answers of one item over a period and group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ItemScore {
    /// The item as the questionnaire asks it (整体满意 for the overall rating).
    pub item: String,
    /// Answers.
    pub n: i64,
    pub very_satisfied: i64,
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
    /// Σ scores in thirds of 100 points (the numerator; the denominator is 3 × n).
    pub points: i64,
    /// The item's CSI, 0–100 with one decimal (rounded half away from zero); none without answers.
    pub csi: Option<f64>,
    /// Answers rated 一般 or 不满意.
    pub low: i64,
    /// 1 = the item to improve first (most low answers); none for the overall item or an item
    /// nobody rated low.
    pub priority: Option<u32>,
}

impl ItemScore {
    pub fn new(item: &str) -> ItemScore {
        ItemScore {
            item: item.to_string(),
            ..Default::default()
        }
    }

    /// Adds `count` answers rated `r`.
    pub fn add(&mut self, r: Rating, count: i64) {
        self.n += count;
        self.points += thirds(r) * count;
        match r {
            Rating::VerySatisfied => self.very_satisfied += count,
            Rating::Satisfied => self.satisfied += count,
            Rating::Neutral => self.neutral += count,
            Rating::Dissatisfied => self.dissatisfied += count,
        }
        if is_low(r) {
            self.low += count;
        }
        self.csi = div_round(1000 * self.points, 3 * self.n).map(|tenths| tenths as f64 / 10.0);
    }

    /// The share of low answers; none without answers.
    pub fn low_share(&self) -> Option<f64> {
        (self.n > 0).then(|| self.low as f64 / self.n as f64)
    }
}

/// Sets each item's improvement priority: the items most often rated low come first — the
/// count of low answers, which weighs an item's share of low answers by its volume; ties go to
/// the higher share of low answers, then to the lower CSI. The overall item and items nobody
/// rated low get none.
pub fn prioritise(items: &mut [ItemScore]) {
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].item != OVERALL && items[i].low > 0)
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&items[a], &items[b]);
        y.low
            .cmp(&x.low)
            .then_with(|| (y.low * x.n).cmp(&(x.low * y.n)))
            .then_with(|| (x.points * 3 * y.n).cmp(&(y.points * 3 * x.n)))
            .then_with(|| x.item.cmp(&y.item))
    });
    for it in items.iter_mut() {
        it.priority = None;
    }
    for (rank, i) in order.into_iter().enumerate() {
        items[i].priority = Some(rank as u32 + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_scores_as_domain_md_says() {
        // 非常满意 100, 满意 66.67, 一般 33.33, 不满意 0: (100 + 66.67 + 33.33) / 3 = 66.7 (by hand).
        let mut s = ItemScore::new("服务态度");
        s.add(Rating::VerySatisfied, 1);
        s.add(Rating::Satisfied, 1);
        s.add(Rating::Neutral, 1);
        assert_eq!((s.n, s.points, s.low), (3, 6, 1));
        assert_eq!(s.csi, Some(66.7));
        // Two 满意 and one 非常满意: (66.67 + 66.67 + 100) / 3 = 77.78 → 77.8.
        let mut s = ItemScore::new("x");
        s.add(Rating::Satisfied, 2);
        s.add(Rating::VerySatisfied, 1);
        assert_eq!(s.csi, Some(77.8));
        // One 满意 of one: 66.666… → 66.7; one 一般: 33.3.
        let mut s = ItemScore::new("x");
        s.add(Rating::Satisfied, 1);
        assert_eq!(s.csi, Some(66.7));
        let mut s = ItemScore::new("x");
        s.add(Rating::Neutral, 1);
        assert_eq!(s.csi, Some(33.3));
        assert_eq!(ItemScore::new("x").csi, None);
    }

    #[test]
    fn the_item_with_most_low_answers_comes_first() {
        let mut items = vec![
            ItemScore::new(OVERALL),
            ItemScore::new("收费合理"),
            ItemScore::new("上门准时"),
            ItemScore::new("服务态度"),
        ];
        items[0].add(Rating::Dissatisfied, 50);
        // 收费合理: 4 low of 10 (40 %); 上门准时: 6 low of 100 (6 %) — more low answers in all.
        items[1].add(Rating::Neutral, 4);
        items[1].add(Rating::VerySatisfied, 6);
        items[2].add(Rating::Dissatisfied, 6);
        items[2].add(Rating::VerySatisfied, 94);
        items[3].add(Rating::VerySatisfied, 100);
        prioritise(&mut items);
        assert_eq!(
            items[0].priority, None,
            "the overall item is not an item to improve"
        );
        assert_eq!(items[2].priority, Some(1));
        assert_eq!(items[1].priority, Some(2));
        assert_eq!(items[3].priority, None, "nobody rated it low");
    }

    #[test]
    fn items_as_an_admin_types_them() {
        assert_eq!(
            parse_items("响应速度\n 上门准时、服务态度\n\n整体满意").unwrap(),
            vec!["响应速度", "上门准时", "服务态度"]
        );
        assert!(parse_items("响应速度\n响应速度").is_err());
        assert!(parse_items(" \n ").is_err());
        assert!(parse_items(&"很长".repeat(11)).is_err());
        let many = (0..13)
            .map(|i| format!("题{i}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(parse_items(&many).is_err());
    }

    #[test]
    fn the_most_specific_questionnaire_fits_best() {
        let k = WorkOrderType::Install;
        assert_eq!(fit("", "", Some("格力"), k), Some(0));
        assert_eq!(fit("", "install", Some("格力"), k), Some(1));
        assert_eq!(fit("格力", "", Some("格力"), k), Some(2));
        assert_eq!(fit("格力", "install", Some("格力"), k), Some(3));
        assert_eq!(fit("美的", "", Some("格力"), k), None);
        assert_eq!(fit("", "repair_onsite", Some("格力"), k), None);
        assert_eq!(fit("格力", "", None, k), None);
    }
}

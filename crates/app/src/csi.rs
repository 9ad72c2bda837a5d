//! Satisfaction by item (分项满意度, CSI): the follow-up questionnaires an admin sets per brand
//! and per work-order type, the answers a follow-up call or the customer's QR page records
//! against the order's questionnaire, and the CSI per item for a period and a grouping, with the
//! improvement priority. Scores and priority: `domain::csi`; rows: `store::csi`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shouhou_domain::csi::{self as rules, ItemScore, OVERALL};
use shouhou_domain::kinds::required_text;
use shouhou_domain::{Lang, Rating, Role, ValidationError, WorkOrderType};
use shouhou_store::csi::{self as store, Answer, Questionnaire};
use shouhou_store::kpi::Key;
use shouhou_store::repo;

use crate::kpi::{self as kpis, By, GroupInfo, Query};
use crate::{Actor, App, AppError, Result};

/// Who reads questionnaires and CSI; only an admin changes questionnaires.
const READERS: &[Role] = &[
    Role::Admin,
    Role::Manager,
    Role::Dispatcher,
    Role::Finance,
    Role::Followup,
];

/// A questionnaire as an admin sets it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct QuestionnaireInput {
    pub name: String,
    /// Only for this brand (as on the devices); none = every brand.
    pub brand: Option<String>,
    /// Only for this work-order type; none = every type.
    pub kind: Option<WorkOrderType>,
    /// Default true; an inactive questionnaire is kept for the answers it collected.
    pub active: Option<bool>,
    /// The items asked, in order (1–12, each at most 20 characters, no repeats); the overall
    /// item 整体满意 is always asked last and need not be listed.
    pub items: Vec<String>,
}

/// Every questionnaire.
pub async fn questionnaires(app: &App, actor: &Actor) -> Result<Vec<Questionnaire>> {
    actor.require(READERS)?;
    Ok(store::list(&app.db).await?)
}

async fn save(
    app: &App,
    actor: &Actor,
    id: Option<i64>,
    input: QuestionnaireInput,
) -> Result<Questionnaire> {
    actor.require(&[Role::Admin])?;
    let name = required_text(&input.name, "name", 60)?;
    let brand = match input.brand.as_deref().map(str::trim) {
        Some(b) if !b.is_empty() => required_text(b, "brand", 60)?,
        _ => String::new(),
    };
    let kind = input
        .kind
        .map(|k| k.as_str().to_string())
        .unwrap_or_default();
    let items = rules::check_items(input.items.iter().map(String::as_str))?;
    let active = input.active.unwrap_or(true);
    let mut tx = app.db.begin().await?;
    let now = app.now();
    // One active questionnaire per brand and type: say which one is in the way.
    if active {
        if let Some(other) = store::list(&app.db)
            .await?
            .into_iter()
            .find(|q| q.active && q.brand == brand && q.kind == kind && Some(q.id) != id)
        {
            return Err(AppError::invalid(
                "brand",
                ValidationError::Invalid {
                    zh: format!("问卷“{}”已适用于同样的品牌和工单类型；请先停用它", other.name),
                    en: format!(
                        "the questionnaire \"{}\" is already in use for the same brand and type: deactivate it first",
                        other.name
                    ),
                },
            ));
        }
    }
    let fields = store::Fields {
        name: &name,
        brand: &brand,
        kind: &kind,
        active,
        items: &items,
    };
    let before = match id {
        Some(id) => Some(store::get(&app.db, id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    let id = match id {
        Some(id) => {
            store::update(&mut tx, id, &fields, now).await?;
            id
        }
        None => store::create(&mut tx, &fields, now)
            .await
            .map_err(crate::error::conflict_as("brand"))?,
    };
    let was = |f: fn(&Questionnaire) -> serde_json::Value| before.as_ref().map(f);
    repo::audit::insert(
        &mut tx,
        "questionnaire",
        id,
        if before.is_some() { "update" } else { "create" },
        Some(actor.id()),
        now,
        &serde_json::json!({
            "name": [was(|q| q.name.clone().into()), name],
            "brand": [was(|q| q.brand.clone().into()), brand],
            "kind": [was(|q| q.kind.clone().into()), kind],
            "active": [was(|q| q.active.into()), active],
            "items": [was(|q| q.items.clone().into()), items],
        }),
    )
    .await?;
    tx.commit().await?;
    store::get(&app.db, id).await?.ok_or(AppError::NotFound)
}

/// A new questionnaire (admin).
pub async fn create(app: &App, actor: &Actor, input: QuestionnaireInput) -> Result<Questionnaire> {
    save(app, actor, None, input).await
}

/// Changes a questionnaire (admin); past answers keep the items as they were asked.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    input: QuestionnaireInput,
) -> Result<Questionnaire> {
    save(app, actor, Some(id), input).await
}

/// The questionnaire that fits an order of `brand` and `kind` best (see `domain::csi::fit`).
pub fn best_fit(
    qs: &[Questionnaire],
    brand: Option<&str>,
    kind: WorkOrderType,
) -> Option<Questionnaire> {
    qs.iter()
        .filter(|q| q.active)
        .filter_map(|q| rules::fit(&q.brand, &q.kind, brand, kind).map(|f| (f, q)))
        .max_by_key(|(f, q)| (*f, std::cmp::Reverse(q.id)))
        .map(|(_, q)| q.clone())
}

/// The questionnaire an order is asked.
pub async fn for_order(
    app: &App,
    work_order_id: i64,
    kind: WorkOrderType,
) -> Result<Option<Questionnaire>> {
    let brand = store::order_brand(&app.db, work_order_id).await?;
    let qs = store::list(&app.db).await?;
    Ok(best_fit(&qs, brand.as_deref(), kind))
}

/// The questionnaire an order's follow-up asks (in the actor's scope).
pub async fn of_order(app: &App, actor: &Actor, id: i64) -> Result<Option<Questionnaire>> {
    let w = shouhou_store::work_orders::get(&app.db, &actor.vis, id).await?;
    for_order(app, w.id, w.kind).await
}

/// One item's answer as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ItemAnswer {
    /// The item as the order's questionnaire asks it (e.g. 上门准时).
    pub item: String,
    pub rating: Rating,
}

/// The answers to store: the overall rating at position 0, then each answered item at its
/// place in the questionnaire (an item left out was not answered; none is ever defaulted).
pub fn answers(
    q: Option<&Questionnaire>,
    overall: Rating,
    items: &[ItemAnswer],
) -> Result<Vec<Answer>> {
    let mut out = vec![Answer {
        position: 0,
        item: OVERALL.to_string(),
        rating: overall.as_str().to_string(),
    }];
    for a in items {
        let label = a.item.trim();
        let position = q
            .and_then(|q| q.items.iter().position(|i| i == label))
            .ok_or_else(|| {
                AppError::invalid(
                    "items",
                    ValidationError::Invalid {
                        zh: format!("这张工单的回访问卷没有“{label}”这一项"),
                        en: format!("this order's questionnaire has no item \"{label}\""),
                    },
                )
            })?;
        let position = position as i64 + 1;
        if out.iter().any(|o| o.position == position) {
            return Err(AppError::invalid(
                "items",
                ValidationError::Invalid {
                    zh: format!("“{label}”评了两次"),
                    en: format!("\"{label}\" is rated twice"),
                },
            ));
        }
        out.push(Answer {
            position,
            item: label.to_string(),
            rating: a.rating.as_str().to_string(),
        });
    }
    out.sort_by_key(|a| a.position);
    Ok(out)
}

/// One group's CSI: every item with its answers, CSI and improvement priority.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = CsiRow)]
pub struct Row {
    pub group: GroupInfo,
    /// The items in the order the questionnaires ask them, the overall item 整体满意 last.
    pub items: Vec<ItemScore>,
}

/// CSI by item for a period, grouped like a KPI table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = CsiTable)]
pub struct Table {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: By,
    pub rows: Vec<Row>,
}

/// The order items read in: as the active questionnaires ask them (the default one first),
/// then any other item by name, the overall item last.
fn item_order(qs: &[Questionnaire], item: &str) -> (u8, usize, usize, String) {
    if item == OVERALL {
        return (2, 0, 0, String::new());
    }
    let mut qs: Vec<&Questionnaire> = qs.iter().filter(|q| q.active).collect();
    qs.sort_by_key(|q| (!q.brand.is_empty() || !q.kind.is_empty(), q.id));
    for (qi, q) in qs.iter().enumerate() {
        if let Some(p) = q.items.iter().position(|i| i == item) {
            return (0, qi, p, String::new());
        }
    }
    (1, 0, 0, item.to_string())
}

/// CSI per item of the period, grouped, in the actor's scope (the same query as the KPIs:
/// period by the order's completion, filters, grouping).
pub async fn table(app: &App, actor: &Actor, q: &Query) -> Result<Table> {
    actor.require(READERS)?;
    q.check()?;
    kpis::catch_up(app).await?;
    let memo = kpis::memo(app).await?;
    let units = app.units.units(&app.db).await?;
    if let Some(u) = q.unit_id {
        if !actor.sees_unit(u) {
            return Err(AppError::NotFound);
        }
    }
    let fq = kpis::facts_query(q, &units);
    let bucket = q.by.bucket();
    let mut groups: BTreeMap<Key, BTreeMap<String, ItemScore>> = BTreeMap::new();
    for (key, item, rating, n) in
        store::counts(&app.db, &memo, &actor.vis, &fq, q.by.group()).await?
    {
        let key = match (key, bucket) {
            (Key::Day(d), Some(b)) => Key::Day(b.start(d)),
            (k, _) => k,
        };
        let Ok(r) = rating.parse::<Rating>() else {
            continue;
        };
        groups
            .entry(key)
            .or_default()
            .entry(item.clone())
            .or_insert_with(|| ItemScore::new(&item))
            .add(r, n);
    }
    if q.by == By::All && groups.is_empty() {
        groups.insert(Key::All, BTreeMap::new());
    }
    let qs = store::list(&app.db).await?;
    let keys: Vec<Key> = groups.keys().cloned().collect();
    let names = kpis::Names::load_keys(app, &units, q.by, &keys).await?;
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(k, items)| {
            let mut items: Vec<ItemScore> = items.into_values().collect();
            items.sort_by_key(|i| item_order(&qs, &i.item));
            rules::prioritise(&mut items);
            Row {
                group: names.info(q.by, &k, actor.lang),
                items,
            }
        })
        .collect();
    if bucket.is_none() && q.by != By::All {
        rows.sort_by(|a, b| a.group.name.cmp(&b.group.name));
    }
    Ok(Table {
        from: q.from,
        to: q.to,
        by: q.by,
        rows,
    })
}

/// An item's label for the reader: the overall item in the reader's language, the others as
/// the questionnaire asks them.
pub fn item_label(item: &str, lang: Lang) -> String {
    if item == OVERALL && lang == Lang::En {
        "Overall".to_string()
    } else {
        item.to_string()
    }
}

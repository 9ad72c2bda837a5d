//! A chain's store for measuring at scale: the demo city's year copied into further regions
//! (区域 2, 区域 3 …), each with its own copy of the three stores, their staff and technicians,
//! customers, devices and the year of orders with their events, visits, money, reviews,
//! follow-ups and complaints. Copies are made in SQL (`INSERT … SELECT` with shifted ids), so a
//! million orders take minutes. The head office, the partner unit and the catalog are shared;
//! photos are not copied (they would only add bytes). Numbers stay unique per day: copy `k`
//! adds `k × 1000` to the day's sequence (`WO-20260301-3017`), and the day counters continue
//! after the highest; usernames, store codes, serials and QR tokens get the region's suffix.
//! A copy's people are others: their phones are numbered from the copied rows' ids, and their
//! flats are other rooms of the same buildings, so no phone or flat is two regions'; the
//! lookup rows are made from the copied records.

use shouhou_store::Tx;

use super::Progress;
use crate::{App, Result};

/// How a copied column is made from the original row.
#[derive(Clone, Copy)]
enum C {
    /// As it is.
    Same,
    /// An id of this table, shifted by the copy's offset for `table`.
    Id(&'static str),
    /// An org unit: a copied store moves to its copy, the head office and partner stay.
    Unit,
    /// A user: the stores' staff move to their copies, head-office users stay.
    User,
    /// A technician: the stores' technicians move to their copies, partner technicians stay.
    Tech,
    /// Text with the copy's suffix.
    Suffix,
    /// A work-order number with `k × 1000` added to its sequence.
    Number,
    /// A phone numbered from the copied row's id (the last 8 digits of a mobile, 7 of a
    /// landline), so no two copies share one.
    Phone,
    /// An address in another flat of the same building (see [`flat`]).
    Flat,
}

/// The demo's flats (`…{n}单元{room}室`) moved to another room of the same entrance in copy
/// `k`, as an SQL expression of `col`: rooms 101–2800 shifted by `k × 977`, wrapping round.
fn flat(col: &str, k: usize, backend: shouhou_store::Backend) -> String {
    let at = match backend {
        shouhou_store::Backend::Sqlite => format!("instr({col}, '单元')"),
        shouhou_store::Backend::Postgres => format!("strpos({col}, '单元')"),
    };
    format!(
        "CASE WHEN {at} > 0 AND {col} LIKE '%室' THEN substr({col}, 1, {at} + 1) || \
         CAST((CAST(substr({col}, {at} + 2, length({col}) - {at} - 2) AS BIGINT) - 101 + {}) \
         % 2700 + 101 AS TEXT) || '室' ELSE {col} END",
        (k * 977) % 2700
    )
}

/// [`C::Phone`] as an SQL expression of `col` in the row whose copy's id is `id`: the id
/// times a number prime to 10 (so distinct ids give distinct digits) in place of the last 8
/// digits of a mobile, or the last 7 of a landline (its exchange's first digit kept).
fn phone(col: &str, id: &str) -> String {
    let numbered = |digits: u32| {
        let m = 10u64.pow(digits);
        format!(
            "substr({col}, 1, length({col}) - {digits}) || \
             substr(CAST({m} + (({id}) * 7919) % {m} AS TEXT), 2)"
        )
    };
    format!(
        "CASE WHEN {col} LIKE '0%' THEN {} ELSE {} END",
        numbered(7),
        numbered(8)
    )
}

/// The tables copied, in an order that satisfies their references, with each column's rule
/// and the rows taken (`None` = all).
type Table = (
    &'static str,
    &'static [(&'static str, C)],
    Option<&'static str>,
);

const TABLES: &[Table] = &[
    (
        "users",
        &[
            ("id", C::Id("users")),
            ("username", C::Suffix),
            ("display_name", C::Same),
            ("password_hash", C::Same),
            ("role", C::Same),
            ("org_unit_id", C::Unit),
            ("phone", C::Phone),
            ("lang", C::Same),
            ("active", C::Same),
            ("created_at", C::Same),
            ("updated_at", C::Same),
            ("version", C::Same),
        ],
        Some("org_unit_id IN (SELECT id FROM org_units WHERE kind = 'store')"),
    ),
    (
        "technicians",
        &[
            ("id", C::Id("technicians")),
            ("user_id", C::User),
            ("org_unit_id", C::Unit),
            ("skills", C::Same),
            ("start_address", C::Same),
            ("start_lat", C::Same),
            ("start_lng", C::Same),
            ("active", C::Same),
            ("created_at", C::Same),
            ("updated_at", C::Same),
            ("senior", C::Same),
            ("version", C::Same),
        ],
        Some("org_unit_id IN (SELECT id FROM org_units WHERE kind = 'store')"),
    ),
    (
        "shifts",
        &[
            ("id", C::Id("shifts")),
            ("technician_id", C::Tech),
            ("day", C::Same),
            ("starts_at", C::Same),
            ("ends_at", C::Same),
        ],
        Some("technician_id IN (SELECT id FROM technicians WHERE org_unit_id IN (SELECT id FROM org_units WHERE kind = 'store'))"),
    ),
    (
        "customers",
        &[
            ("id", C::Id("customers")),
            ("org_unit_id", C::Unit),
            ("name", C::Same),
            ("kind", C::Same),
            ("tier", C::Same),
            ("note", C::Same),
            ("created_at", C::Same),
            ("updated_at", C::Same),
            ("version", C::Same),
        ],
        None,
    ),
    (
        "customer_phones",
        &[
            ("id", C::Id("customer_phones")),
            ("customer_id", C::Id("customers")),
            ("phone", C::Phone),
            ("position", C::Same),
        ],
        None,
    ),
    (
        "customer_addresses",
        &[
            ("id", C::Id("customer_addresses")),
            ("customer_id", C::Id("customers")),
            ("label", C::Same),
            ("address", C::Flat),
            ("lat", C::Same),
            ("lng", C::Same),
            ("position", C::Same),
            ("located_by", C::Same),
            ("location_confirmed", C::Same),
        ],
        None,
    ),
    (
        "devices",
        &[
            ("id", C::Id("devices")),
            ("org_unit_id", C::Unit),
            ("customer_id", C::Id("customers")),
            ("product_id", C::Same),
            ("brand", C::Same),
            ("serial", C::Suffix),
            ("site_address_id", C::Id("customer_addresses")),
            ("purchase_date", C::Same),
            ("purchase_store_id", C::Unit),
            ("install_date", C::Same),
            ("policy_id", C::Same),
            ("qr_token", C::Suffix),
            ("created_at", C::Same),
            ("updated_at", C::Same),
            ("version", C::Same),
        ],
        None,
    ),
    (
        "work_orders",
        &[
            ("id", C::Id("work_orders")),
            ("number", C::Number),
            ("org_unit_id", C::Unit),
            ("customer_id", C::Id("customers")),
            ("device_id", C::Id("devices")),
            ("address_id", C::Id("customer_addresses")),
            ("kind", C::Same),
            ("channel", C::Same),
            ("priority", C::Same),
            ("status", C::Same),
            ("fault_description", C::Same),
            ("appointment_start", C::Same),
            ("appointment_end", C::Same),
            ("respond_by", C::Same),
            ("arrive_by", C::Same),
            ("resolve_by", C::Same),
            ("warranty_decision", C::Same),
            ("technician_id", C::Tech),
            ("partner_unit_id", C::Same),
            ("created_by", C::User),
            ("created_at", C::Same),
            ("updated_at", C::Same),
            ("accepted_at", C::Same),
            ("completed_at", C::Same),
            ("reviewed_at", C::Same),
            ("closed_at", C::Same),
            ("cancelled_at", C::Same),
            ("cancel_reason", C::Same),
            ("version", C::Same),
            ("planned_seq", C::Same),
            ("planned_arrival", C::Same),
            ("difficulty", C::Same),
        ],
        None,
    ),
    (
        "work_order_events",
        &[
            ("id", C::Id("work_order_events")),
            ("work_order_id", C::Id("work_orders")),
            ("from_status", C::Same),
            ("to_status", C::Same),
            ("actor_id", C::User),
            ("at", C::Same),
            ("lat", C::Same),
            ("lng", C::Same),
            ("note", C::Same),
        ],
        None,
    ),
    (
        "visits",
        &[
            ("id", C::Id("visits")),
            ("work_order_id", C::Id("work_orders")),
            ("technician_id", C::Tech),
            ("seq", C::Same),
            ("departed_at", C::Same),
            ("arrived_at", C::Same),
            ("arrived_lat", C::Same),
            ("arrived_lng", C::Same),
            ("left_at", C::Same),
            ("outcome", C::Same),
            ("findings", C::Same),
            ("work_done", C::Same),
            ("labour_minutes", C::Same),
            ("signature", C::Same),
            ("signed_by", C::Same),
            ("signed_at", C::Same),
        ],
        None,
    ),
    (
        "charges",
        &[
            ("id", C::Id("charges")),
            ("work_order_id", C::Id("work_orders")),
            ("visit_id", C::Id("visits")),
            ("kind", C::Same),
            ("amount_fen", C::Same),
            ("payer", C::Same),
        ],
        None,
    ),
    (
        "part_lines",
        &[
            ("id", C::Id("part_lines")),
            ("work_order_id", C::Id("work_orders")),
            ("visit_id", C::Id("visits")),
            ("client_key", C::Same),
            ("name", C::Same),
            ("qty", C::Same),
            ("unit_price_fen", C::Same),
            ("main_part", C::Same),
            ("payer", C::Same),
            ("created_by", C::User),
            ("created_at", C::Same),
        ],
        None,
    ),
    (
        "reviews",
        &[
            ("id", C::Id("reviews")),
            ("work_order_id", C::Id("work_orders")),
            ("decision", C::Same),
            ("comment", C::Same),
            ("reviewer_id", C::User),
            ("at", C::Same),
        ],
        None,
    ),
    (
        "follow_ups",
        &[
            ("id", C::Id("follow_ups")),
            ("work_order_id", C::Id("work_orders")),
            ("rating", C::Same),
            ("comment", C::Same),
            ("channel", C::Same),
            ("user_id", C::User),
            ("at", C::Same),
            ("questionnaire_id", C::Same),
        ],
        None,
    ),
    (
        "follow_up_answers",
        &[
            ("follow_up_id", C::Id("follow_ups")),
            ("work_order_id", C::Id("work_orders")),
            ("position", C::Same),
            ("item", C::Same),
            ("rating", C::Same),
        ],
        None,
    ),
    (
        "follow_up_calls",
        &[
            ("id", C::Id("follow_up_calls")),
            ("work_order_id", C::Id("work_orders")),
            ("outcome", C::Same),
            ("user_id", C::User),
            ("at", C::Same),
            ("retry_at", C::Same),
        ],
        None,
    ),
    (
        "complaints",
        &[
            ("id", C::Id("complaints")),
            ("work_order_id", C::Id("work_orders")),
            ("follow_up_id", C::Id("follow_ups")),
            ("org_unit_id", C::Unit),
            ("owner_id", C::User),
            ("status", C::Same),
            ("description", C::Same),
            ("created_at", C::Same),
            ("closed_at", C::Same),
            ("category", C::Same),
            ("severity", C::Same),
            ("due_at", C::Same),
            ("resolution", C::Same),
            ("escalated_to", C::User),
            ("escalated_at", C::Same),
            ("created_by", C::User),
            ("version", C::Same),
        ],
        None,
    ),
    (
        "complaint_actions",
        &[
            ("id", C::Id("complaint_actions")),
            ("complaint_id", C::Id("complaints")),
            ("kind", C::Same),
            ("note", C::Same),
            ("user_id", C::User),
            ("to_user_id", C::User),
            ("at", C::Same),
        ],
        None,
    ),
    (
        "opportunities",
        &[
            ("id", C::Id("opportunities")),
            ("work_order_id", C::Id("work_orders")),
            ("customer_id", C::Id("customers")),
            ("org_unit_id", C::Unit),
            ("client_key", C::Same),
            ("kind", C::Same),
            ("value_fen", C::Same),
            ("note", C::Same),
            ("status", C::Same),
            ("created_by", C::User),
            ("created_at", C::Same),
            ("updated_at", C::Same),
        ],
        None,
    ),
    (
        "search_docs",
        &[
            ("id", C::Id("search_docs")),
            ("kind", C::Same),
            ("ref_id", C::Same),
            ("org_unit_id", C::Unit),
            ("doc", C::Same),
            ("cjk", C::Same),
        ],
        None,
    ),
];

/// A copied customer's lookup text, as `search::customer_doc` writes it, in SQL: its name,
/// then its phones and its addresses in their order, each after a space.
fn customer_doc(app: &App, id: &str) -> String {
    let list = |col: &str, table: &str| match app.db.backend() {
        shouhou_store::Backend::Sqlite => format!(
            "COALESCE((SELECT ' ' || group_concat({col}, ' ') FROM (SELECT {col} FROM {table} \
             WHERE customer_id = {id} ORDER BY position)), '')"
        ),
        shouhou_store::Backend::Postgres => format!(
            "COALESCE((SELECT ' ' || string_agg({col}, ' ' ORDER BY position) FROM {table} \
             WHERE customer_id = {id}), '')"
        ),
    };
    format!(
        "(SELECT name FROM customers WHERE id = {id}) || {} || {}",
        list("phone", "customer_phones"),
        list("address", "customer_addresses")
    )
}

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

async fn ids(tx: &mut Tx, sql: &str) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = tx.fetch_all(sql, vec![]).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

async fn max_id(tx: &mut Tx, table: &str) -> Result<i64> {
    let (n,): (Option<i64>,) = tx
        .fetch_one(&format!("SELECT MAX(id) FROM {table}"), vec![])
        .await?;
    Ok(n.unwrap_or(0))
}

/// Copies the city `copies − 1` times into regions 2 … `copies` (the city itself becomes
/// region 1's stores, left where they are under the head office).
pub async fn replicate(app: &App, copies: usize, progress: Progress<'_>) -> Result<()> {
    if copies < 2 {
        return Ok(());
    }
    let mut tx = app.db.begin().await?;
    let stores = ids(
        &mut tx,
        "SELECT id FROM org_units WHERE kind = 'store' ORDER BY id",
    )
    .await?;
    let store_users = ids(
        &mut tx,
        &format!(
            "SELECT id FROM users WHERE org_unit_id IN ({})",
            id_list(&stores)
        ),
    )
    .await?;
    let store_techs = ids(
        &mut tx,
        &format!(
            "SELECT id FROM technicians WHERE org_unit_id IN ({})",
            id_list(&stores)
        ),
    )
    .await?;
    let (max_seq,): (Option<i64>,) = tx
        .fetch_one("SELECT MAX(last) FROM wo_counters", vec![])
        .await?;
    if max_seq.unwrap_or(0) >= 1000 {
        return Err(crate::AppError::Internal(
            "a day of the city has 1,000 orders or more: its copies' numbers would collide".into(),
        ));
    }
    // Every table's highest id in the city: copy k shifts ids by k × that.
    let mut max: Vec<(&str, i64)> = Vec::new();
    for (t, _, _) in TABLES {
        if *t != "follow_up_answers" {
            max.push((t, max_id(&mut tx, t).await?));
        }
    }
    let unit_max = max_id(&mut tx, "org_units").await?;
    let (hq,): (i64,) = tx
        .fetch_one(
            "SELECT id FROM org_units WHERE kind = 'head_office' ORDER BY id LIMIT 1",
            vec![],
        )
        .await?;
    tx.commit().await?;
    let offset = |t: &str| max.iter().find(|m| m.0 == t).map(|m| m.1).unwrap_or(0);
    // Units: region k at unit_max × copies + k; copy k of store s at s + k × unit_max.
    for k in 1..copies {
        let mut tx = app.db.begin().await?;
        let region_no = k + 1;
        let region = (unit_max * copies as i64) + k as i64;
        let du = k as i64 * unit_max;
        tx.execute(
            "INSERT INTO org_units (id, parent_id, kind, code, name, address, lat, lng, created_at, updated_at, version, phone) \
             SELECT $1, id, 'region', $2, $3, address, lat, lng, created_at, updated_at, 1, phone FROM org_units WHERE id = $4",
            shouhou_store::args![
                region,
                format!("R{region_no:02}"),
                format!("区域{region_no}"),
                hq
            ],
        )
        .await?;
        tx.execute(
            &format!(
                "INSERT INTO org_units (id, parent_id, kind, code, name, address, lat, lng, created_at, updated_at, version, phone) \
                 SELECT id + {du}, {region}, kind, code || '-R{region_no:02}', name || '（区域{region_no}）', address, lat, lng, created_at, updated_at, version, {} \
                 FROM org_units WHERE id IN ({})",
                phone("phone", &format!("id + {du}")),
                id_list(&stores)
            ),
            vec![],
        )
        .await?;
        let suffix = format!("-r{region_no}");
        for (table, cols, filter) in TABLES {
            let list: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let exprs: Vec<String> = cols
                .iter()
                .map(|(name, rule)| match rule {
                    C::Same => name.to_string(),
                    C::Id(t) => format!("{name} + {}", k as i64 * offset(t)),
                    C::Unit => format!(
                        "CASE WHEN {name} IN ({}) THEN {name} + {du} ELSE {name} END",
                        id_list(&stores)
                    ),
                    C::User => format!(
                        "CASE WHEN {name} IN ({}) THEN {name} + {} ELSE {name} END",
                        id_list(&store_users),
                        k as i64 * offset("users")
                    ),
                    C::Tech => format!(
                        "CASE WHEN {name} IN ({}) THEN {name} + {} ELSE {name} END",
                        id_list(&store_techs),
                        k as i64 * offset("technicians")
                    ),
                    C::Suffix => format!("{name} || '{suffix}'"),
                    C::Phone => phone(name, &format!("id + {}", k as i64 * offset(table))),
                    C::Flat => flat(name, k, app.db.backend()),
                    C::Number => format!(
                        "substr({name}, 1, 12) || CAST(CAST(substr({name}, 13) AS INTEGER) + {} AS TEXT)",
                        k * 1000
                    ),
                })
                .collect();
            // search_docs name customers and devices by ref_id.
            let exprs: Vec<String> = if *table == "search_docs" {
                exprs
                    .into_iter()
                    .zip(cols.iter())
                    .map(|(e, (name, _))| {
                        let customer = format!("ref_id + {}", k as i64 * offset("customers"));
                        match *name {
                            "ref_id" => format!(
                                "CASE WHEN kind = 'customer' THEN {customer} ELSE ref_id + {} END",
                                k as i64 * offset("devices")
                            ),
                            // A device's is its serial; a customer's is made again from the
                            // copy's name, phones and addresses (`search::customer_doc`).
                            "doc" => format!(
                                "CASE WHEN kind = 'customer' THEN {} ELSE doc || '{suffix}' END",
                                customer_doc(app, &customer)
                            ),
                            _ => e,
                        }
                    })
                    .collect()
            } else {
                exprs
            };
            let filter = match (*table, filter) {
                (_, Some(f)) => format!(" WHERE {f} AND id <= {}", offset(table)),
                ("follow_up_answers", None) => {
                    format!(" WHERE follow_up_id <= {}", offset("follow_ups"))
                }
                (_, None) => format!(" WHERE id <= {}", offset(table)),
            };
            tx.execute(
                &format!(
                    "INSERT INTO {table} ({}) SELECT {} FROM {table}{filter}",
                    list.join(", "),
                    exprs.join(", ")
                ),
                vec![],
            )
            .await?;
        }
        tx.commit().await?;
        progress("regions", k as u64 + 1, copies as u64);
    }
    // The day counters continue after the last copy's numbers.
    let mut tx = app.db.begin().await?;
    tx.execute(
        &format!(
            "UPDATE wo_counters SET last = last + {}",
            (copies - 1) * 1000
        ),
        vec![],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

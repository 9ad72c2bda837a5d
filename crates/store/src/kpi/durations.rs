//! Exact durations packed per calendar month and unit (`kpi_durations`).
//!
//! A year's median response time at a chain's size is the median of about a million values; read
//! as a row per fact it costs seconds. The same values, packed as one row per (duration, month,
//! owning unit, counting unit, partner), are a few thousand rows: the reader unpacks them,
//! filters by day and technician, and the medians stay exact. The rows are rewritten in the
//! transaction that replaces the orders' facts ([`repack`]), built in one pass where a migration
//! left them to the catch-up ([`build`]).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};
use shouhou_domain::kpi::Fact;

use super::{group_expr, id_list, key_of, DurationOf, FactQuery, Group, Key};
use crate::scope::{Scoped, Sql};
use crate::{args, Db, Result, StoreError, Tx, Visibility};

/// One order's duration in a packed row: the order, its technician (0: none), the day of the
/// month and the seconds. Little-endian, [`Entry::SIZE`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub order: i64,
    pub technician: i64,
    pub day: u8,
    pub seconds: i64,
}

impl Entry {
    const SIZE: usize = 17;

    fn put(&self, out: &mut Vec<u8>) -> Result<()> {
        let narrow = |v: i64, what: &str| {
            u32::try_from(v)
                .map_err(|_| StoreError::Bind(format!("{what} {v} does not fit a packed duration")))
        };
        out.extend_from_slice(&narrow(self.order, "order id")?.to_le_bytes());
        out.extend_from_slice(&narrow(self.technician, "technician id")?.to_le_bytes());
        out.push(self.day);
        out.extend_from_slice(&self.seconds.to_le_bytes());
        Ok(())
    }

    fn read(b: &[u8]) -> Entry {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as i64;
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[9..17]);
        Entry {
            order: u32_at(0),
            technician: u32_at(4),
            day: b[8],
            seconds: i64::from_le_bytes(s),
        }
    }
}

fn unpack(blob: &[u8]) -> impl Iterator<Item = Entry> + '_ {
    blob.chunks_exact(Entry::SIZE).map(Entry::read)
}

fn pack(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(entries.len() * Entry::SIZE);
    for e in entries {
        e.put(&mut out)?;
    }
    Ok(out)
}

/// The entries' seconds alone, as little-endian `i32` in the entries' order (a quarter of the
/// bytes: what a reading of whole months without technicians or days reads), or `None` where a
/// value does not fit (such a row is read from its entries).
fn pack_seconds(entries: &[Entry]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(entries.len() * 4);
    for e in entries {
        out.extend_from_slice(&i32::try_from(e.seconds).ok()?.to_le_bytes());
    }
    Some(out)
}

fn unpack_seconds(blob: &[u8]) -> impl Iterator<Item = i64> + '_ {
    blob.chunks_exact(4)
        .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// The key of a packed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RowKey {
    which: i64,
    month: NaiveDate,
    org_unit_id: i64,
    unit_id: i64,
    partner_unit_id: i64,
}

fn which_code(w: DurationOf) -> i64 {
    match w {
        DurationOf::Response => 0,
        DurationOf::Cycle => 1,
    }
}

pub(crate) fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("every month has a first day")
}

/// A fact row's durations (response time, repair cycle) as packed entries with their rows'
/// keys.
struct FactRow {
    order: i64,
    day: NaiveDate,
    org_unit_id: i64,
    unit_id: i64,
    partner_unit_id: i64,
    technician: i64,
    response: Option<i64>,
    cycle: Option<i64>,
}

impl FactRow {
    fn packed(&self) -> impl Iterator<Item = (RowKey, Entry)> + '_ {
        [
            (DurationOf::Response, self.response),
            (DurationOf::Cycle, self.cycle),
        ]
        .into_iter()
        .filter_map(move |(w, s)| {
            Some((
                RowKey {
                    which: which_code(w),
                    month: month_of(self.day),
                    org_unit_id: self.org_unit_id,
                    unit_id: self.unit_id,
                    partner_unit_id: self.partner_unit_id,
                },
                Entry {
                    order: self.order,
                    technician: self.technician,
                    day: self.day.day() as u8,
                    seconds: s?,
                },
            ))
        })
    }
}

/// The rows of the facts with a duration, as stored.
type StoredRow = (
    i64,
    NaiveDate,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

const STORED: &str =
    "SELECT work_order_id, day, org_unit_id, unit_id, COALESCE(partner_unit_id, 0), \
     technician_id, response_seconds, cycle_seconds FROM kpi_facts \
     WHERE (response_seconds IS NOT NULL OR cycle_seconds IS NOT NULL)";

fn stored(r: StoredRow) -> FactRow {
    let (order, day, org_unit_id, unit_id, partner_unit_id, tech, response, cycle) = r;
    FactRow {
        order,
        day,
        org_unit_id,
        unit_id,
        partner_unit_id,
        technician: tech.unwrap_or(0),
        response,
        cycle,
    }
}

/// A fact's durations as packed entries with their rows' keys.
pub(crate) fn entries_of(
    work_order_id: i64,
    org_unit_id: i64,
    unit_id: i64,
    partner_unit_id: Option<i64>,
    f: &Fact,
) -> Vec<(RowKey, Entry)> {
    FactRow {
        order: work_order_id,
        day: f.day,
        org_unit_id,
        unit_id,
        partner_unit_id: partner_unit_id.unwrap_or(0),
        technician: f.technician_id.unwrap_or(0),
        response: f.response_seconds,
        cycle: f.cycle_seconds,
    }
    .packed()
    .collect()
}

/// The keys of the packed rows that hold durations of the orders `list` now.
pub(crate) async fn keys_of(tx: &mut Tx, list: &str) -> Result<Vec<RowKey>> {
    let rows: Vec<StoredRow> = tx
        .fetch_all(&format!("{STORED} AND work_order_id IN ({list})"), args![])
        .await?;
    Ok(rows
        .into_iter()
        .flat_map(|r| stored(r).packed().map(|(k, _)| k).collect::<Vec<_>>())
        .collect())
}

/// Rewrites the packed rows `old` (where the orders `ids` had durations) and those of `new`:
/// the orders' entries taken out, their new entries put in, empty rows deleted.
pub(crate) async fn repack(
    tx: &mut Tx,
    ids: &[i64],
    old: Vec<RowKey>,
    new: Vec<(RowKey, Entry)>,
) -> Result<()> {
    let mut rows: HashMap<RowKey, Vec<Entry>> = HashMap::new();
    for k in old {
        rows.entry(k).or_default();
    }
    for (k, _) in &new {
        rows.entry(*k).or_default();
    }
    if rows.is_empty() {
        return Ok(());
    }
    let gone: HashSet<i64> = ids.iter().copied().collect();
    for (k, entries) in rows.iter_mut() {
        let blob: Option<(Vec<u8>,)> = tx
            .fetch_optional(
                "SELECT entries FROM kpi_durations WHERE which = $1 AND month = $2 \
                 AND org_unit_id = $3 AND unit_id = $4 AND partner_unit_id = $5",
                args![
                    k.which,
                    k.month,
                    k.org_unit_id,
                    k.unit_id,
                    k.partner_unit_id
                ],
            )
            .await?;
        if let Some((blob,)) = blob {
            entries.extend(unpack(&blob).filter(|e| !gone.contains(&e.order)));
        }
    }
    for (k, e) in new {
        rows.entry(k).or_default().push(e);
    }
    let mut keys: Vec<RowKey> = rows.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        let entries = &rows[&k];
        if entries.is_empty() {
            tx.execute(
                "DELETE FROM kpi_durations WHERE which = $1 AND month = $2 \
                 AND org_unit_id = $3 AND unit_id = $4 AND partner_unit_id = $5",
                args![
                    k.which,
                    k.month,
                    k.org_unit_id,
                    k.unit_id,
                    k.partner_unit_id
                ],
            )
            .await?;
        } else {
            write(tx, &k, entries).await?;
        }
    }
    Ok(())
}

async fn write(tx: &mut Tx, k: &RowKey, entries: &[Entry]) -> Result<()> {
    tx.execute(
        "INSERT INTO kpi_durations \
         (which, month, org_unit_id, unit_id, partner_unit_id, n, entries, seconds) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (which, month, org_unit_id, unit_id, partner_unit_id) \
         DO UPDATE SET n = excluded.n, entries = excluded.entries, seconds = excluded.seconds",
        args![
            k.which,
            k.month,
            k.org_unit_id,
            k.unit_id,
            k.partner_unit_id,
            entries.len() as i64,
            pack(entries)?,
            pack_seconds(entries)
        ],
    )
    .await?;
    Ok(())
}

/// Packs every duration of the facts again (after a migration, or to check [`repack`]).
pub async fn build(tx: &mut Tx) -> Result<usize> {
    tx.execute("DELETE FROM kpi_durations", args![]).await?;
    let facts: Vec<StoredRow> = tx.fetch_all(STORED, args![]).await?;
    let mut rows: HashMap<RowKey, Vec<Entry>> = HashMap::new();
    for r in facts {
        for (k, e) in stored(r).packed() {
            rows.entry(k).or_default().push(e);
        }
    }
    let n = rows.len();
    let mut keys: Vec<RowKey> = rows.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        write(tx, &k, &rows[&k]).await?;
    }
    Ok(n)
}

/// Whether [`read`] can answer the query: no category, brand or type filter, a grouping the
/// packed rows carry, and a user who is not a technician (whose scope is a technician, not a
/// unit; a technician's own durations are few).
pub(crate) fn packed_answers(vis: &Visibility, q: &FactQuery, group: Group) -> bool {
    vis.technician_id.is_none()
        && q.category.is_none()
        && q.brand.is_none()
        && q.kind.is_none()
        && matches!(
            group,
            Group::None
                | Group::Unit
                | Group::Region
                | Group::Technician
                | Group::Day
                | Group::Month
        )
}

/// Every duration of the period per group, in seconds, from the packed rows.
pub(crate) async fn read(
    db: &Db,
    vis: &Visibility,
    q: &FactQuery,
    group: Group,
    which: DurationOf,
) -> Result<HashMap<Key, Vec<i64>>> {
    // Units and regions come from the row; technicians and days from each entry.
    let gi = match group {
        Group::Unit | Group::Region => group_expr(group).0,
        _ => "CAST(NULL AS BIGINT)",
    };
    // Months wholly inside the period keep all their days: read without technicians or days,
    // their rows' seconds alone will do.
    let whole = super::whole_months(q.from, q.to);
    let slim = whole
        .filter(|_| q.technician_id.is_none() && !matches!(group, Group::Technician | Group::Day));
    let mut sql = Sql::new(&format!("SELECT {gi} AS g_id, f.month, "));
    let in_slim = match slim {
        Some((m0, m1)) => {
            let a = sql.arg(m0);
            let b = sql.arg(m1);
            format!("f.month >= {a} AND f.month <= {b} AND f.seconds IS NOT NULL")
        }
        None => "1 = 0".to_string(),
    };
    sql.push(&format!(
        "CASE WHEN {in_slim} THEN f.seconds END AS seconds, \
         CASE WHEN {in_slim} THEN NULL ELSE f.entries END AS entries \
         FROM kpi_durations f WHERE f.which = "
    ));
    let w = sql.arg(which_code(which));
    sql.push(&w);
    let m0 = sql.arg(month_of(q.from));
    let m1 = sql.arg(month_of(q.to));
    sql.push(&format!(" AND f.month >= {m0} AND f.month <= {m1} AND "));
    let scope = vis.clause(Scoped::KpiFact, "f", &mut sql);
    sql.push(&scope);
    if let Some(units) = &q.units {
        sql.push(&format!(" AND f.unit_id IN ({})", id_list(units)));
    }
    type Packed = (Option<i64>, NaiveDate, Option<Vec<u8>>, Option<Vec<u8>>);
    let mut out: HashMap<Key, Vec<i64>> = HashMap::new();
    let all_days_of = |m: NaiveDate| whole.is_some_and(|(a, b)| m >= a && m <= b);
    // Row by row: a year of a chain's blobs is tens of megabytes.
    db.for_each(
        &sql.text,
        sql.args,
        |(g_id, month, seconds, blob): Packed| {
            if let Some(seconds) = seconds {
                let k = match group {
                    Group::Month => Key::Day(month),
                    _ => key_of(group, g_id, None, None),
                };
                let v = out.entry(k).or_default();
                v.reserve(seconds.len() / 4);
                v.extend(unpack_seconds(&seconds));
                return;
            }
            let blob = blob.unwrap_or_default();
            let all_days = all_days_of(month);
            let entries = unpack(&blob).filter(|e| {
                q.technician_id.is_none_or(|t| t == e.technician)
                    && (all_days || {
                        let d = month + Duration::days(i64::from(e.day) - 1);
                        d >= q.from && d <= q.to
                    })
            });
            match group {
                Group::Technician => {
                    for e in entries {
                        let t = (e.technician != 0).then_some(e.technician);
                        out.entry(Key::Id(t)).or_default().push(e.seconds);
                    }
                }
                Group::Day => {
                    for e in entries {
                        let d = month + Duration::days(i64::from(e.day) - 1);
                        out.entry(Key::Day(d)).or_default().push(e.seconds);
                    }
                }
                Group::Month => {
                    let v = out.entry(Key::Day(month)).or_default();
                    v.reserve(blob.len() / Entry::SIZE);
                    v.extend(entries.map(|e| e.seconds));
                }
                _ => {
                    let v = out.entry(key_of(group, g_id, None, None)).or_default();
                    v.reserve(blob.len() / Entry::SIZE);
                    v.extend(entries.map(|e| e.seconds));
                }
            }
        },
    )
    .await?;
    Ok(out)
}

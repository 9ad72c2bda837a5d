//! Readings of finished months kept in memory.
//!
//! A head office's year reads eleven finished months that hardly ever change again, and a
//! dashboard reads them for five tables at once. A reading first reads its stamp ([`Memo::begin`]):
//! the version of every month the KPI sums hold (`kpi_month_versions`, moved in the transaction
//! of every change to that month's facts, answer counts, durations or shifts; its first row is
//! the epoch, moved by a rebuild), and the fingerprints of the org units and the technicians
//! (grouping by region and a shift's unit read them). Each piece of a reading is kept under its
//! inputs (the SQL with its arguments, or the function's arguments) and the versions of its
//! months: a change to a month moves its version, so the piece is read again; nothing is ever
//! served from a month that changed since it was read. The stamp is read before the pieces, so
//! a piece is never older than its stamp. A reading is cut at the current month's first day
//! ([`Memo::halves`]): the finished months, which hardly change, are one piece, and the current
//! month, whose version moves with nearly every write, another; a dashboard read again before
//! the next write reads neither. What depends on the clock rather than on the records (field
//! orders whose arrive-by has passed) is never kept.
//!
//! Every process has its own cache, and the versions are in the database: another server's
//! change is seen by the next reading.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::durations::month_of;
use crate::{args, Db, Result};

/// The epoch's row in `kpi_month_versions` (not a month of data).
pub(crate) const EPOCH: &str = "0001-01-01";

/// Bytes the cache of one process holds at most (least recently used pieces go first).
pub const CACHE_BYTES: u64 = 48 << 20;

#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    bytes: u64,
}

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<String, Entry> for Weigh {
    fn weight(&self, key: &String, v: &Entry) -> u64 {
        key.len() as u64 + v.bytes
    }
}

/// The pieces of readings of finished months, shared by a process's readings.
pub struct Cache(quick_cache::sync::Cache<String, Entry, Weigh>);

impl Cache {
    /// A cache of at most `bytes` (roughly: the pieces' values and keys).
    pub fn new(bytes: u64) -> Cache {
        // One shard: a year's durations are megabytes, and a shard holds only its share of
        // the bytes (with the default eight, one such piece in a 6 MiB shard pushed the others
        // out). Half for pieces read again, half for new ones: a dashboard's new pieces must
        // be admitted at their first reading, not at their second.
        let options = quick_cache::OptionsBuilder::new()
            .shards(1)
            .hot_allocation(0.5)
            .estimated_items_capacity(256)
            .weight_capacity(bytes)
            .build()
            .expect("the cache's options are complete");
        Cache(quick_cache::sync::Cache::with_options(
            options,
            Weigh,
            Default::default(),
            Default::default(),
        ))
    }

    /// Pieces held now.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Bytes held now (as weighed when kept).
    pub fn bytes(&self) -> u64 {
        self.0.weight()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Cache {
    fn default() -> Cache {
        Cache::new(CACHE_BYTES)
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kpi::Cache({} pieces)", self.0.len())
    }
}

/// One reading's view of the cache: its stamp and the first day of the current month.
pub struct Memo<'a> {
    cache: Option<&'a Cache>,
    months: BTreeMap<NaiveDate, i64>,
    head: String,
    current: NaiveDate,
    today: NaiveDate,
}

type Fingerprints = (i64, i64, Option<DateTime<Utc>>, i64, Option<DateTime<Utc>>);

impl<'a> Memo<'a> {
    /// No cache: every piece is read from the database.
    pub fn off() -> Memo<'static> {
        Memo {
            cache: None,
            months: BTreeMap::new(),
            head: String::new(),
            current: NaiveDate::MIN,
            today: NaiveDate::MAX,
        }
    }

    /// Reads the stamp for a reading on the local date `today`.
    pub async fn begin(db: &Db, cache: &'a Cache, today: NaiveDate) -> Result<Memo<'a>> {
        let rows: Vec<(NaiveDate, i64)> = db
            .fetch_all("SELECT month, version FROM kpi_month_versions", args![])
            .await?;
        let f: Fingerprints = db
            .fetch_one(
                "SELECT (SELECT COUNT(*) FROM org_units), \
                 (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM org_units), \
                 (SELECT MAX(updated_at) FROM org_units), \
                 (SELECT COUNT(*) FROM technicians), (SELECT MAX(updated_at) FROM technicians)",
                args![],
            )
            .await?;
        let mut months: BTreeMap<NaiveDate, i64> = rows.into_iter().collect();
        let epoch = EPOCH.parse().map_err(|e| {
            crate::StoreError::Bind(format!("the epoch's date {EPOCH} does not parse: {e}"))
        })?;
        let head = format!("{}|{f:?}", months.remove(&epoch).unwrap_or(0));
        Ok(Memo {
            cache: Some(cache),
            months,
            head,
            current: month_of(today),
            today,
        })
    }

    /// The reading's local date (`NaiveDate::MAX` without a cache: no day is taken for today).
    pub(crate) fn today(&self) -> NaiveDate {
        self.today
    }

    /// `from..=to` cut at the current month's first day: the part before it (which the cache
    /// may serve) and the part from it on, each present only if not empty.
    pub(crate) fn halves(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
        if self.cache.is_none() || to < self.current || from >= self.current {
            return vec![(from, to)];
        }
        vec![(from, self.current - Duration::days(1)), (self.current, to)]
    }

    /// The key of a piece over the dates `from..=to` described by `what`, or `None` when there
    /// is no cache. The key holds the versions of the piece's months, so a change to any of
    /// them (the current month's changes with nearly every write) reads the piece again.
    pub(crate) fn key(&self, from: NaiveDate, to: NaiveDate, what: &str) -> Option<String> {
        if self.cache.is_none() || to < from {
            return None;
        }
        let mut k = String::with_capacity(what.len() + 64);
        k.push_str(what);
        let _ = write!(k, "\n{}\n", self.head);
        for (m, v) in self.months.range(month_of(from)..=month_of(to)) {
            let _ = write!(k, "{m}:{v},");
        }
        Some(k)
    }

    /// The piece kept under `key`, if any.
    pub(crate) fn get<T: Send + Sync + 'static>(&self, key: Option<&String>) -> Option<Arc<T>> {
        let e = self.cache?.0.get(key?)?;
        e.value.downcast::<T>().ok()
    }

    /// Keeps a piece of about `bytes` under `key` (nothing when `key` is `None`).
    pub(crate) fn put<T: Send + Sync + 'static>(
        &self,
        key: Option<String>,
        value: Arc<T>,
        bytes: usize,
    ) {
        if let (Some(cache), Some(key)) = (self.cache, key) {
            cache.0.insert(
                key,
                Entry {
                    value,
                    bytes: bytes as u64,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of megabytes are kept at their first reading, side by side, up to the cap.
    #[test]
    fn large_pieces_are_kept_together() {
        let cache = Cache::new(10 << 20);
        let piece = |n: u64| Entry {
            value: Arc::new(n),
            bytes: 3 << 20,
        };
        for n in 0..3 {
            cache.0.insert(format!("piece {n}"), piece(n));
        }
        for n in 0..3 {
            let got = cache.0.get(&format!("piece {n}")).expect("kept");
            assert_eq!(got.value.downcast::<u64>().ok().map(|v| *v), Some(n));
        }
        // A fourth goes over the cap: something is let go.
        cache.0.insert("piece 3".into(), piece(3));
        assert!(cache.bytes() <= 10 << 20);
        assert!(cache.len() <= 3);
    }
}

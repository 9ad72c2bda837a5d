//! Lookup of customers and devices by any fragment of a phone, serial, name or address.
//!
//! One row per customer and per device in `search_docs`. SQLite indexes it with FTS5 (trigram for
//! fragments of 3+ characters, a bigram column for two-character Chinese fragments), and reads a
//! small scope's documents through the unit index instead; PostgreSQL with a pg_trgm GIN index
//! and a GIN index over the same bigrams, each with the document's unit first (btree_gin).

use serde::Serialize;
use shouhou_domain::validate::is_cjk;
use utoipa::ToSchema;

use crate::args;
use crate::db::{Backend, Db, Tx};
use crate::scope::{Scoped, Sql, Visibility};
use crate::Result;

/// Space-separated bigrams of the CJK runs of `texts`, without repeats.
pub fn cjk_bigrams<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        let chars: Vec<char> = t.chars().collect();
        for w in chars.windows(2) {
            if is_cjk(w[0]) && is_cjk(w[1]) {
                let b: String = w.iter().collect();
                if !out.contains(&b) {
                    out.push(b);
                }
            }
        }
    }
    out.join(" ")
}

/// The lookup text of a customer: name, phones and addresses.
pub fn customer_doc(name: &str, phones: &[String], addresses: &[String]) -> (String, String) {
    let mut doc = name.to_string();
    for p in phones {
        doc.push(' ');
        doc.push_str(p);
    }
    for a in addresses {
        doc.push(' ');
        doc.push_str(a);
    }
    let cjk = cjk_bigrams(std::iter::once(name).chain(addresses.iter().map(String::as_str)));
    (doc, cjk)
}

pub async fn upsert(
    tx: &mut Tx,
    kind: &str,
    ref_id: i64,
    org_unit_id: i64,
    doc: &str,
    cjk: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO search_docs (kind, ref_id, org_unit_id, doc, cjk) VALUES ($1,$2,$3,$4,$5) \
         ON CONFLICT (kind, ref_id) DO UPDATE SET org_unit_id = excluded.org_unit_id, doc = excluded.doc, cjk = excluded.cjk",
        args![kind, ref_id, org_unit_id, doc, cjk],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CustomerHit {
    pub id: i64,
    pub name: String,
    pub tier: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeviceHit {
    pub id: i64,
    pub serial: String,
    pub brand: String,
    pub model: String,
    pub category: String,
    pub customer_id: i64,
    pub customer_name: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SearchResult {
    pub customers: Vec<CustomerHit>,
    pub devices: Vec<DeviceHit>,
}

#[derive(sqlx::FromRow)]
struct Hit {
    kind: String,
    ref_id: i64,
}

/// How many documents the PostgreSQL lookup scans before it turns to the index (see `lookup`).
const PROBE: i64 = 2_000;

fn like_pattern(q: &str) -> String {
    let esc = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{esc}%")
}

/// The most documents a user's scope may hold for SQLite's lookup to read them one by one
/// rather than ask the full-text index (≈ 5 ms of LIKE on this machine).
const SCOPE_SCAN: i64 = 50_000;

/// Whether SQLite's lookup reads the scope's documents rather than the full-text index: a user
/// scoped to units (not head office's whole org, not a technician's or partner's orders) whose
/// units hold at most [`SCOPE_SCAN`] documents (counted from the unit index, stopping there).
async fn scans_scope(db: &Db, vis: &Visibility) -> Result<bool> {
    if vis.all_units || vis.technician_id.is_some() || vis.partner_unit_id.is_some() {
        return Ok(false);
    }
    let mut c = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM search_docs s WHERE ");
    let cl = vis.clause(Scoped::SearchDoc, "s", &mut c);
    c.push(&cl);
    c.push(&format!(" LIMIT {}) scoped", SCOPE_SCAN + 1));
    let (n,): (i64,) = db.fetch_one(&c.text, c.args).await?;
    Ok(n <= SCOPE_SCAN)
}

/// Finds up to `limit` customers and devices matching `q` that `vis` may see. The caller checks
/// the query's length (`shouhou_domain::validate::search_query_ok`).
pub async fn lookup(db: &Db, vis: &Visibility, q: &str, limit: i64) -> Result<SearchResult> {
    let q = q.trim();
    let n = q.chars().count();
    let all_cjk = q.chars().all(is_cjk);
    let mut s = Sql::default();
    let scan = db.backend() == Backend::Sqlite && scans_scope(db, vis).await?;
    let hits: Vec<Hit> = match db.backend() {
        Backend::Sqlite if scan => {
            // A scope of few documents (a store's user in a chain): the full-text index would
            // give every match in the chain before the unit is tested (a district's name: a
            // quarter of three million documents), so the scope's own documents are read
            // through the unit index and tested. LIKE folds ASCII case as the trigram index
            // does; two Chinese characters side by side are exactly a bigram of the index.
            s.push_bind(
                "SELECT s.kind, s.ref_id FROM search_docs s WHERE s.doc LIKE {} ESCAPE '\\' AND ",
                like_pattern(q),
            );
            let cl = vis.clause(Scoped::SearchDoc, "s", &mut s);
            s.push(&cl);
            let l = s.arg(limit);
            s.push(&format!(" LIMIT {l}"));
            db.fetch_all(&s.text, s.args).await?
        }
        Backend::Sqlite => {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            if n >= 3 {
                s.push("SELECT s.kind, s.ref_id FROM search_tri f JOIN search_docs s ON s.id = f.rowid WHERE search_tri MATCH ");
            } else {
                s.push("SELECT s.kind, s.ref_id FROM search_cjk f JOIN search_docs s ON s.id = f.rowid WHERE search_cjk MATCH ");
            }
            let p = s.arg(phrase);
            s.push(&p);
            s.push(" AND ");
            let cl = vis.clause(Scoped::SearchDoc, "s", &mut s);
            s.push(&cl);
            let l = s.arg(limit);
            s.push(&format!(" LIMIT {l}"));
            db.fetch_all(&s.text, s.args).await?
        }
        Backend::Postgres => {
            if all_cjk && n >= 3 {
                // pg_trgm indexes Chinese only where the database's character classes call it
                // a letter (not under LC_CTYPE=C). The test is on a constant, so the planner
                // folds it: the trigram index alone where it works (ANDed with the bigram
                // index, both would build a bitmap of every match), the bigrams where not.
                s.push_bind("s.doc LIKE {}", like_pattern(q));
                s.push_bind(
                    " AND (cardinality(show_trgm('中文字')) > 0 \
                     OR string_to_array(s.cjk, ' ') @> string_to_array({}, ' '))",
                    cjk_bigrams([q]),
                );
            } else if all_cjk {
                // Two characters: one bigram. The LIKE is what a scan tests cheaply (the
                // bigrams are space-separated, so it holds exactly when the array does); the
                // array is what the index answers.
                s.push_bind("s.cjk LIKE {}", like_pattern(q));
                s.push_bind(
                    " AND string_to_array(s.cjk, ' ') @> string_to_array({}, ' ')",
                    cjk_bigrams([q]),
                );
            } else if q.chars().all(|c| c.is_lowercase() == c.is_uppercase()) {
                // Digits and Chinese have no case: a plain LIKE, three times cheaper to scan.
                s.push_bind("s.doc LIKE {}", like_pattern(q));
            } else {
                s.push_bind("s.doc ILIKE {}", like_pattern(q));
            }
            s.push(" AND ");
            let cl = vis.clause(Scoped::SearchDoc, "s", &mut s);
            s.push(&cl);
            let l = s.arg(limit);
            let cond = std::mem::take(&mut s.text);
            // A GIN index gives every match before LIMIT applies, so a fragment that thousands
            // of documents hold (a district, a common surname) costs what its matches cost,
            // while a scan stops at the first `limit`. The planner cannot tell the two apart
            // from its statistics (it misjudges either way: tens of milliseconds for a bitmap
            // of 140,000 matches, seconds for a scan of 3,000,000 rows that finds five), so
            // the lookup asks the data: a scan of the first PROBE documents, which finds
            // `limit` hits for any fragment held by more than about 1 % of them; otherwise the
            // fragment is rare and the index answers, cheaply, with every seq scan off.
            let probe = format!(
                "SELECT s.kind, s.ref_id FROM (SELECT * FROM search_docs LIMIT {PROBE}) s \
                 WHERE {cond} LIMIT {l}"
            );
            let hits: Vec<Hit> = db.fetch_all(&probe, s.args.clone()).await?;
            if hits.len() as i64 >= limit {
                hits
            } else {
                let indexed =
                    format!("SELECT s.kind, s.ref_id FROM search_docs s WHERE {cond} LIMIT {l}");
                db.fetch_all_by_index(&indexed, s.args).await?
            }
        }
    };

    let ids = |k: &str| {
        hits.iter()
            .filter(|h| h.kind == k)
            .map(|h| h.ref_id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = SearchResult::default();
    let cids = ids("customer");
    if !cids.is_empty() {
        out.customers = db
            .fetch_all(
                &format!(
                    "SELECT c.id, c.name, c.tier, \
                     (SELECT phone FROM customer_phones p WHERE p.customer_id = c.id ORDER BY position LIMIT 1) AS phone, \
                     (SELECT address FROM customer_addresses a WHERE a.customer_id = c.id ORDER BY position LIMIT 1) AS address \
                     FROM customers c WHERE c.id IN ({cids}) ORDER BY c.id"
                ),
                args![],
            )
            .await?;
    }
    let dids = ids("device");
    if !dids.is_empty() {
        out.devices = db
            .fetch_all(
                &format!(
                    "SELECT d.id, d.serial, d.brand, p.model, p.category, d.customer_id, c.name AS customer_name \
                     FROM devices d JOIN products p ON p.id = d.product_id JOIN customers c ON c.id = d.customer_id \
                     WHERE d.id IN ({dids}) ORDER BY d.id"
                ),
                args![],
            )
            .await?;
    }
    Ok(out)
}

/// The devices of the given customers (intake: a phone hit shows the devices to pick from).
pub async fn devices_of(db: &Db, customer_ids: &[i64], limit: i64) -> Result<Vec<DeviceHit>> {
    if customer_ids.is_empty() {
        return Ok(vec![]);
    }
    let ids = customer_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    db.fetch_all(
        &format!(
            "SELECT d.id, d.serial, d.brand, p.model, p.category, d.customer_id, c.name AS customer_name \
             FROM devices d JOIN products p ON p.id = d.product_id JOIN customers c ON c.id = d.customer_id \
             WHERE d.customer_id IN ({ids}) ORDER BY d.id LIMIT $1"
        ),
        args![limit],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_of_chinese_runs_only() {
        assert_eq!(cjk_bigrams(["王小明"]), "王小 小明");
        assert_eq!(cjk_bigrams(["A座王芳", "王芳"]), "座王 王芳");
        assert_eq!(cjk_bigrams(["abc 12"]), "");
    }
}

//! Idempotent requests: the claim on a key, and the unit of work that makes a request's writes
//! and its stored answer commit in one transaction.
//!
//! A request with an `Idempotency-Key` runs inside a [`Unit`]. While it does, [`Tx::commit`]
//! does not commit: it parks the transaction in the unit, and whatever the request reads or
//! writes afterwards goes through that parked transaction (so it sees its own writes). The web
//! layer then stores the answer in the same transaction with [`complete`] and commits once. A
//! crash before that commit leaves neither the write nor the answer; a crash after it leaves
//! both. So a key is either answered (the retry gets the stored answer) or never wrote anything
//! (the retry may run the request again) — never "written but unanswerable".
//!
//! [`Tx::commit`]: crate::Tx::commit

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::Mutex;

use crate::db::{Db, Tx};
use crate::{args, Result};

tokio::task_local! {
    static UNIT: Unit;
}

/// The transaction of one idempotent request, parked by its first commit.
#[derive(Clone, Default)]
pub struct Unit(pub(crate) Arc<Mutex<Option<Tx>>>);

impl Unit {
    pub fn new() -> Unit {
        Unit::default()
    }

    /// Runs `f` with this unit as the task's unit of work.
    pub async fn scope<F: Future>(&self, f: F) -> F::Output {
        UNIT.scope(self.clone(), f).await
    }

    /// The parked transaction, if the request wrote anything.
    pub async fn take(&self) -> Option<Tx> {
        self.0.lock().await.take()
    }
}

/// The unit of work of the running task, if it is an idempotent request.
pub(crate) fn current() -> Option<Unit> {
    UNIT.try_with(Unit::clone).ok()
}

/// Parks `tx` in the running task's unit instead of committing it; gives it back when there is
/// no unit (or one is parked already).
pub(crate) async fn park(tx: Tx) -> Option<Tx> {
    let Some(unit) = current() else {
        return Some(tx);
    };
    let mut slot = unit.0.lock().await;
    if slot.is_some() {
        return Some(tx);
    }
    *slot = Some(tx);
    None
}

/// How long a stored answer is kept: a retry later than this runs as a new request.
pub const KEEP: Duration = Duration::hours(24);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub request_hash: String,
    pub status: Option<i64>,
    /// JSON object of the answer's replayed headers (`etag`, `location`, `content-type`).
    pub headers: Option<String>,
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub claim_token: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// What a request finds when it claims its key.
#[derive(Debug)]
pub enum Claim {
    /// The request holds the key: run it and complete with this token.
    Mine(String),
    /// The key's request was answered: replay the stored answer.
    Answered(Stored),
    /// Another request holds the key and its lease runs this many more seconds.
    Running { retry_after_secs: i64 },
    /// The key was used for a different request.
    Reused,
}

fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

const COLUMNS: &str = "request_hash, status, headers, body, created_at, claim_token, locked_until";

async fn stored(db: &Db, user_id: i64, key: &str) -> Result<Option<Stored>> {
    db.fetch_optional(
        &format!("SELECT {COLUMNS} FROM idempotency_keys WHERE user_id = $1 AND key = $2"),
        args![user_id, key],
    )
    .await
}

/// Claims `key` of `user_id` for a request whose hash is `hash`. An unanswered claim whose lease
/// ran out (its request crashed or was abandoned) is taken over; an answer older than [`KEEP`]
/// is forgotten.
pub async fn claim(
    db: &Db,
    user_id: i64,
    key: &str,
    hash: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Claim> {
    for _ in 0..3 {
        let token = new_token();
        let n = db
            .execute(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, claim_token, locked_until) \
                 VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (user_id, key) DO NOTHING",
                args![user_id, key, hash, now, token.as_str(), now + lease],
            )
            .await?;
        if n == 1 {
            return Ok(Claim::Mine(token));
        }
        let Some(s) = stored(db, user_id, key).await? else {
            continue; // released in between: claim again
        };
        if s.created_at + KEEP < now {
            db.execute(
                "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at = $3",
                args![user_id, key, s.created_at],
            )
            .await?;
            continue;
        }
        if s.request_hash != hash {
            return Ok(Claim::Reused);
        }
        if s.status.is_some() {
            return Ok(Claim::Answered(s));
        }
        if let Some(until) = s.locked_until.filter(|u| *u > now) {
            return Ok(Claim::Running {
                retry_after_secs: (until - now).num_seconds().max(1),
            });
        }
        // The holder's lease ran out: take the key over, unless someone else just did.
        let n = db
            .execute(
                "UPDATE idempotency_keys SET claim_token = $1, locked_until = $2 \
                 WHERE user_id = $3 AND key = $4 AND status IS NULL AND claim_token IS NOT DISTINCT FROM $5",
                args![token.as_str(), now + lease, user_id, key, s.claim_token],
            )
            .await?;
        if n == 1 {
            return Ok(Claim::Mine(token));
        }
    }
    Ok(Claim::Running {
        retry_after_secs: 1,
    })
}

/// Stores the answer of the request holding `token`, in the request's own transaction. `false`
/// when the claim was lost (taken over after its lease ran out): the caller rolls back.
pub async fn complete(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    token: &str,
    status: i64,
    headers: &str,
    body: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE idempotency_keys SET status = $1, headers = $2, body = $3, claim_token = NULL, locked_until = NULL \
             WHERE user_id = $4 AND key = $5 AND claim_token = $6 AND status IS NULL",
            args![status, headers, body, user_id, key, token],
        )
        .await?;
    Ok(n == 1)
}

/// The stored answer of a key, if it has one.
pub async fn answer(db: &Db, user_id: i64, key: &str) -> Result<Option<Stored>> {
    Ok(stored(db, user_id, key)
        .await?
        .filter(|s| s.status.is_some()))
}

/// Gives the key up (the request failed on the server's side): a retry runs it again.
pub async fn release(db: &Db, user_id: i64, key: &str, token: &str) -> Result<()> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim_token = $3 AND status IS NULL",
        args![user_id, key, token],
    )
    .await?;
    Ok(())
}

/// Forgets every unanswered claim: on SQLite, at start, no other process can hold one.
pub async fn release_unanswered(db: &Db) -> Result<u64> {
    db.execute("DELETE FROM idempotency_keys WHERE status IS NULL", vec![])
        .await
}

/// Forgets answers older than [`KEEP`].
pub async fn purge(db: &Db, now: DateTime<Utc>) -> Result<u64> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE created_at < $1",
        args![now - KEEP],
    )
    .await
}

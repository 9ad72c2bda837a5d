//! SQLite's one writer, shared by concurrent transactions that commit together (group commit).
//!
//! With `synchronous=FULL` every commit waits for the disk, so a writer that committed each
//! request's transaction on its own would be bound by the disk's flush rate, whatever the CPU.
//! Here each request's transaction is a savepoint inside a batch transaction on the one writer
//! connection. A request that commits leaves its savepoint to be released (with the next
//! statement the writer runs, in one script) and queues for the writer again;
//! the writers that queued while the previous batch was flushing go first and add their work to
//! the open batch, and the first committer to reach the head of the queue commits the batch for
//! all of them. Every request returns from `commit` only after the batch holding its work is
//! durable, and learns of a failed batch as its own failure: an acknowledged write is on disk.
//!
//! A transaction dropped without commit rolls its savepoint back before the writer runs
//! anything else, so its work never reaches the batch. If SQLite abandons the whole batch (an
//! I/O error, a full disk), the savepoints are gone: that is detected when a savepoint is
//! released or rolled back, and every request of the batch is told it failed.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{Result, StoreError};

/// Failed batches remembered for the requests still waiting to hear of them.
const FAILED_KEPT: usize = 64;

#[derive(Debug, Clone)]
pub struct Writer {
    pool: SqlitePool,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    conn: Option<PoolConnection<Sqlite>>,
    /// The batch open on `conn` (`BEGIN IMMEDIATE` issued), by number.
    open: Option<u64>,
    /// Transactions released into the open batch that wait for its commit.
    waiting: usize,
    /// The last batch number given out.
    last: u64,
    /// Every batch up to this number has ended (committed or failed).
    done: u64,
    /// The most recent failed batches.
    failed: VecDeque<u64>,
    /// A transaction dropped without commit left its savepoint to roll back.
    undo: bool,
    /// A committed transaction's savepoint is still to be released: by the script of the next
    /// statement the writer runs, or with the batch's `COMMIT` (one hand-off fewer per
    /// transaction; a release that fails there fails the batch, as it would have here).
    release: bool,
}

/// Runs `sql` (no parameters) on the writer's connection. A boxed future of a named lifetime:
/// sqlx's executor bound is otherwise too general for a future spawned on the runtime.
fn run<'a>(
    conn: &'a mut SqliteConnection,
    sql: &'static str,
) -> Pin<Box<dyn Future<Output = sqlx::Result<()>> + Send + 'a>> {
    Box::pin(async move { sqlx::Executor::execute(conn, sql).await.map(|_| ()) })
}

impl State {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("the writer holds its connection while a batch is open")
    }

    /// Rolls back the savepoint of a transaction dropped without commit; if SQLite has
    /// abandoned the batch meanwhile, ends it as failed.
    async fn settle(&mut self) {
        if !std::mem::take(&mut self.undo) {
            return;
        }
        let undone = run(
            self.conn(),
            "ROLLBACK TO SAVEPOINT tx; RELEASE SAVEPOINT tx",
        )
        .await;
        if undone.is_err() {
            self.end(false).await;
        }
    }

    /// Ends the open batch: `COMMIT` when `commit` (and it is durable when this returns Ok),
    /// else `ROLLBACK`. The connection goes back to the pool either way.
    async fn end(&mut self, commit: bool) -> bool {
        let Some(batch) = self.open.take() else {
            return true;
        };
        let sql = if std::mem::take(&mut self.release) {
            "RELEASE SAVEPOINT tx; COMMIT"
        } else {
            "COMMIT"
        };
        let ok = commit && run(self.conn(), sql).await.is_ok();
        if !ok {
            // Best effort: the batch may already be gone.
            let _ = run(self.conn(), "ROLLBACK").await;
            self.failed.push_back(batch);
            if self.failed.len() > FAILED_KEPT {
                self.failed.pop_front();
            }
        }
        self.done = batch;
        self.waiting = 0;
        self.conn = None;
        ok
    }

    fn outcome(&self, batch: u64) -> Result<()> {
        if self.failed.contains(&batch) {
            Err(StoreError::NotSaved)
        } else {
            Ok(())
        }
    }
}

impl Writer {
    /// The writer over `pool`, a pool of one connection.
    pub fn new(pool: SqlitePool) -> Writer {
        Writer {
            pool,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The pool itself, for what runs outside a transaction (migrations, `VACUUM INTO`); it
    /// waits while a batch holds the connection.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a transaction: a savepoint in the open batch (opening one with `BEGIN IMMEDIATE`
    /// when none is). The writer is this transaction's until it commits or is dropped.
    pub async fn begin(&self) -> Result<WriterTx> {
        let mut g = self.state.clone().lock_owned().await;
        g.settle().await;
        if g.conn.is_none() {
            g.conn = Some(self.pool.acquire().await?);
        }
        if g.open.is_none() {
            if let Err(e) = run(g.conn(), "BEGIN IMMEDIATE").await {
                g.conn = None;
                return Err(e.into());
            }
            g.last += 1;
            g.open = Some(g.last);
        }
        // The savepoint is opened by the transaction's first statement, in the same script
        // (see [`WriterTx::prepare`]).
        Ok(WriterTx {
            guard: Some(g),
            writer: self.clone(),
            savepoint: false,
        })
    }

    /// After a dropped transaction: rolls its savepoint back and, when no committed work
    /// waits in the batch, ends it so the writer's lock on the file is not held idle.
    async fn tidy(&self) {
        let mut g = self.state.lock().await;
        g.settle().await;
        if g.open.is_some() && g.waiting == 0 {
            g.end(false).await;
        }
    }
}

/// One request's transaction on the writer (a savepoint of the open batch).
#[derive(Debug)]
pub struct WriterTx {
    guard: Option<OwnedMutexGuard<State>>,
    writer: Writer,
    /// The transaction's savepoint has been sent (with its first statement).
    savepoint: bool,
}

impl WriterTx {
    /// What must run before the transaction's next statement: the previous transaction's
    /// pending `RELEASE`, and this one's `SAVEPOINT` before its first statement. Once this is
    /// called they count as run (the savepoint as open): the caller must send them.
    fn pending(&mut self) -> Option<&'static str> {
        let g = self
            .guard
            .as_mut()
            .expect("a transaction holds the writer until it ends");
        let release = std::mem::take(&mut g.release);
        let open = !std::mem::replace(&mut self.savepoint, true);
        match (release, open) {
            (false, false) => None,
            (true, true) => Some("RELEASE SAVEPOINT tx; SAVEPOINT tx"),
            (false, true) => Some("SAVEPOINT tx"),
            (true, false) => Some("RELEASE SAVEPOINT tx"),
        }
    }

    fn connection(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .expect("a transaction holds the writer until it ends")
            .conn()
    }

    /// The connection, and `sql` to run on it: what is pending ([`WriterTx::pending`]) goes
    /// first in the same script, so opening a transaction (and releasing the previous one)
    /// costs no hand-off of its own to the connection's thread. For statements whose rows are
    /// read; everything that can fail before the script is sent (binding the arguments) must
    /// come before this call.
    pub fn prepare<'s>(&mut self, sql: &'s str) -> (&mut SqliteConnection, Cow<'s, str>) {
        let sql = match self.pending() {
            None => Cow::Borrowed(sql),
            Some(p) => Cow::Owned(format!("{p}; {sql}")),
        };
        (self.connection(), sql)
    }

    /// The connection, for a statement whose count of changed rows is read: what is pending
    /// runs first on its own, since SQLite reports for a statement that changes no row (such
    /// as `SAVEPOINT`) the count of the last one that did, and a script's counts are summed.
    pub async fn prepare_counted(&mut self) -> Result<&mut SqliteConnection> {
        if let Some(p) = self.pending() {
            run(self.connection(), p).await?;
        }
        Ok(self.connection())
    }

    /// Undoes what the transaction wrote (back to its savepoint, which stays open). If SQLite has
    /// abandoned the batch meanwhile, that is an error, and dropping the transaction ends the
    /// batch as failed.
    pub async fn undo(&mut self) -> Result<()> {
        if !self.savepoint {
            return Ok(());
        }
        // (The previous transaction's release went with this one's savepoint.)
        run(self.connection(), "ROLLBACK TO SAVEPOINT tx").await?;
        Ok(())
    }

    /// Leaves the savepoint to be released into the batch and returns once the batch is committed.
    pub async fn commit(mut self) -> Result<()> {
        let mut g = self.guard.take().expect("a transaction commits once");
        // Released with what the writer runs next (a transaction that ran nothing has no
        // savepoint to release).
        if self.savepoint {
            g.release = true;
        }
        let batch = g.open.expect("a transaction runs inside a batch");
        g.waiting += 1;
        drop(g);
        // Writers queued meanwhile add their work; then the first of the batch commits it.
        let mut g = self.writer.state.lock().await;
        if g.done < batch {
            g.settle().await;
            if g.done < batch {
                g.end(true).await;
            }
        }
        g.outcome(batch)
    }
}

impl Drop for WriterTx {
    fn drop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            // A savepoint sent is rolled back, even if its statement failed (if the savepoint
            // itself did not run, the rollback fails and ends the batch as failed: safe).
            g.undo = self.savepoint;
            drop(g);
            let writer = self.writer.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move { writer.tidy().await });
            }
        }
    }
}

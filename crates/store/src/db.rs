use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, FromRow, Postgres};

use crate::writer::{Writer, WriterTx};
use crate::{idempotency, Result, StoreError};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: SQLite with one writer connection (its transactions committed in groups, see
/// [`Writer`]) and a read pool, or a PostgreSQL pool.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { write: Writer, read: SqlitePool },
    Postgres(PgPool),
}

/// A value bound to a query parameter; `None` binds NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($t:ty, $v:ident, $e:expr) => {
        impl From<$t> for Arg {
            fn from($v: $t) -> Arg {
                $e
            }
        }
    };
}
arg_from!(i64, v, Arg::I64(Some(v)));
arg_from!(Option<i64>, v, Arg::I64(v));
arg_from!(f64, v, Arg::F64(Some(v)));
arg_from!(Option<f64>, v, Arg::F64(v));
arg_from!(bool, v, Arg::Bool(Some(v)));
arg_from!(String, v, Arg::Text(Some(v)));
arg_from!(&String, v, Arg::Text(Some(v.clone())));
arg_from!(&str, v, Arg::Text(Some(v.to_string())));
arg_from!(Option<String>, v, Arg::Text(v));
arg_from!(Option<&str>, v, Arg::Text(v.map(str::to_string)));
arg_from!(DateTime<Utc>, v, Arg::Time(Some(v)));
arg_from!(Option<DateTime<Utc>>, v, Arg::Time(v));
arg_from!(NaiveDate, v, Arg::Date(Some(v)));
arg_from!(Option<NaiveDate>, v, Arg::Date(v));
arg_from!(Vec<u8>, v, Arg::Bytes(Some(v)));
arg_from!(Option<Vec<u8>>, v, Arg::Bytes(v));

/// Builds a `Vec<Arg>` from values of mixed types.
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => { vec![$($crate::Arg::from($e)),*] };
}

/// A row type that decodes from both databases (derive `sqlx::FromRow`).
pub trait FromDbRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> FromDbRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

fn bind_err(e: sqlx::error::BoxDynError) -> StoreError {
    StoreError::Bind(e.to_string())
}

fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments<'static>> {
    let mut out = SqliteArguments::default();
    for a in args {
        match a {
            Arg::I64(v) => out.add(v),
            Arg::F64(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            // One fixed width (microseconds, like PostgreSQL), so stored times sort as text.
            Arg::Time(v) => out.add(v.map(|t| t.format(SQLITE_TIME).to_string())),
            Arg::Date(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(bind_err)?;
    }
    Ok(out)
}

/// How SQLite stores a time: RFC 3339 in UTC with six decimals.
/// Rows a reader's worker thread may hand over ahead of the task reading them (sqlx's default
/// is 50: a reading of a thousand rows then parks and wakes the thread twenty times).
const ROW_BUFFER: usize = 1024;

pub const SQLITE_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f+00:00";

fn pg_args(args: Vec<Arg>) -> Result<PgArguments> {
    let mut out = PgArguments::default();
    for a in args {
        match a {
            Arg::I64(v) => out.add(v),
            Arg::F64(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Time(v) => out.add(v),
            Arg::Date(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(bind_err)?;
    }
    Ok(out)
}

impl Db {
    /// Opens the store at `url`: a `postgres://` URL or an SQLite file path (`sqlite:` optional).
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // All SQLite's memory in the process, every connection's page cache with it, kept
            // near 12 MiB: past it, a connection reuses its least recently used pages instead
            // of taking more. At a million orders this cut the server's RSS under `bench http`
            // from 86–130 MB to 81–106 MB, the throughput within the runs' spread
            // (docs/BENCHMARKS.md).
            .pragma("soft_heap_limit", "12582912");
        // Page caches: the writer's 8 MiB, each reader's 2 MiB, so nine connections stay
        // within ~24 MiB however large the store (the OS's file cache serves the rest; a page
        // missed here is a copy from it). Twice these (16 and 4 MiB) were half the server's
        // memory under load at a million orders (heaptrack: 56 of 99 MB peak heap) for no
        // throughput `bench http` could tell apart from the runs' spread.
        // No ping before a connection is handed out: a file has no network to lose, and the
        // ping is a round trip to the connection's worker thread, as costly as a statement.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone().pragma("cache_size", "-8192"))
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                opts.read_only(true)
                    .pragma("cache_size", "-2048")
                    .row_buffer_size(ROW_BUFFER),
            )
            .await?;
        Ok(Db::Sqlite {
            write: Writer::new(write),
            read,
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write.pool()).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction (on SQLite a savepoint in the writer's batch, opened with
    /// `BEGIN IMMEDIATE`, so writers queue up front).
    /// Inside an idempotent request whose transaction is parked, continues that transaction.
    pub async fn begin(&self) -> Result<Tx> {
        if let Some(unit) = idempotency::current() {
            if let Some(tx) = unit.take().await {
                return Ok(tx);
            }
        }
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Starts a series of reads beside the writer (on SQLite one reader connection, so other
    /// requests' writes do not wait for them). Each read sees what was committed when it ran —
    /// no snapshot holds them together (on PostgreSQL a read-only transaction at its default
    /// READ COMMITTED, on SQLite no transaction: its BEGIN and COMMIT would cost as much as two
    /// reads) — and none sees the uncommitted writes of an idempotent request's parked
    /// transaction: what is computed from them must be checked again in the write transaction
    /// (see `versions`).
    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::SqliteRead(read.acquire().await?),
            Db::Postgres(p) => {
                let mut t = p.begin().await?;
                sqlx::query("SET TRANSACTION READ ONLY")
                    .execute(&mut *t)
                    .await?;
                Tx::Postgres(t)
            }
        })
    }

    pub async fn fetch_all<T: FromDbRow>(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>> {
        if let Some(unit) = idempotency::current() {
            if let Some(tx) = unit.0.lock().await.as_mut() {
                return tx.fetch_all(sql, args).await;
            }
        }
        Ok(match self {
            Db::Sqlite { read, .. } => {
                sqlx::query_as_with(sql, sqlite_args(args)?)
                    .fetch_all(read)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as_with(sql, pg_args(args)?)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// As [`Db::fetch_all`], but each row goes to `each` as it comes, so a large answer (the
    /// KPI's packed durations) is never all in memory at once.
    pub async fn for_each<T: FromDbRow>(
        &self,
        sql: &str,
        args: Vec<Arg>,
        mut each: impl FnMut(T),
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        if let Some(unit) = idempotency::current() {
            if let Some(tx) = unit.0.lock().await.as_mut() {
                tx.fetch_all(sql, args).await?.into_iter().for_each(each);
                return Ok(());
            }
        }
        match self {
            Db::Sqlite { read, .. } => {
                let args = sqlite_args(args)?;
                let mut rows = sqlx::query_as_with(sql, args).fetch(read);
                while let Some(row) = rows.try_next().await? {
                    each(row);
                }
            }
            Db::Postgres(p) => {
                let args = pg_args(args)?;
                let mut rows = sqlx::query_as_with(sql, args).fetch(p);
                while let Some(row) = rows.try_next().await? {
                    each(row);
                }
            }
        }
        Ok(())
    }

    /// As [`Db::fetch_all`], but PostgreSQL may not scan a table: its planner is made to use
    /// indexes (`enable_seqscan` off for one read-only transaction). For queries whose cheap
    /// plan the planner's statistics cannot find, such as a LIKE fragment that only an index
    /// answers quickly when it is rare. SQLite plans as usual.
    pub async fn fetch_all_by_index<T: FromDbRow>(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>> {
        match self {
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await?;
                let rows = sqlx::query_as_with(sql, pg_args(args)?)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.rollback().await?;
                Ok(rows)
            }
            Db::Sqlite { .. } => self.fetch_all(sql, args).await,
        }
    }

    pub async fn fetch_optional<T: FromDbRow>(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>> {
        if let Some(unit) = idempotency::current() {
            if let Some(tx) = unit.0.lock().await.as_mut() {
                return tx.fetch_optional(sql, args).await;
            }
        }
        Ok(match self {
            Db::Sqlite { read, .. } => {
                sqlx::query_as_with(sql, sqlite_args(args)?)
                    .fetch_optional(read)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as_with(sql, pg_args(args)?)
                    .fetch_optional(p)
                    .await?
            }
        })
    }

    pub async fn fetch_one<T: FromDbRow>(&self, sql: &str, args: Vec<Arg>) -> Result<T> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Runs one statement in its own transaction (on SQLite through the writer's batch).
    pub async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        if let Some(unit) = idempotency::current() {
            if let Some(tx) = unit.0.lock().await.as_mut() {
                return tx.execute(sql, args).await;
            }
        }
        Ok(match self {
            Db::Sqlite { write, .. } => {
                let mut tx = write.begin().await?;
                let args = sqlite_args(args)?;
                let conn = tx.prepare_counted().await?;
                let n = sqlx::query_with(sql, args)
                    .execute(conn)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                n
            }
            Db::Postgres(p) => sqlx::query_with(sql, pg_args(args)?)
                .execute(p)
                .await?
                .rows_affected(),
        })
    }

    /// A consistent copy of a live SQLite store (`VACUUM INTO`).
    pub async fn backup_to(&self, path: &str) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => {
                sqlx::query("VACUUM INTO $1")
                    .bind(path)
                    .execute(write.pool())
                    .await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Bind(
                "backup of a PostgreSQL store: use pg_dump".into(),
            )),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read } => {
                read.close().await;
                write.pool().close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// A transaction on either database; dropped without `commit` it rolls back.
pub enum Tx {
    Sqlite(WriterTx),
    /// A series of reads on one of SQLite's reader connections ([`Db::begin_read`]).
    SqliteRead(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// `sql` with each parameter `$n` written `$(n + offset)`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(n) = rest[..digits].parse::<usize>() {
            out.push_str(&(n + offset).to_string());
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `statements` as one script, each statement's parameters renumbered after the ones before.
fn script(statements: Vec<(&str, Vec<Arg>)>) -> (String, Vec<Arg>) {
    let mut script = String::new();
    let mut all = Vec::new();
    for (sql, args) in statements {
        if !script.is_empty() {
            script.push_str(";\n");
        }
        script.push_str(&renumber(sql, all.len()));
        all.extend(args);
    }
    (script, all)
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) | Tx::SqliteRead(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Commits; inside an idempotent request the transaction is parked instead and commits with
    /// the request's stored answer (see [`idempotency`]).
    pub async fn commit(self) -> Result<()> {
        let Some(tx) = idempotency::park(self).await else {
            return Ok(());
        };
        tx.commit_now().await
    }

    /// Commits now, even inside an idempotent request.
    pub async fn commit_now(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::SqliteRead(_) => {}
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn fetch_all<T: FromDbRow>(&mut self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>> {
        Ok(match self {
            Tx::Sqlite(t) => {
                let args = sqlite_args(args)?;
                let (conn, sql) = t.prepare(sql);
                sqlx::query_as_with(&sql, args).fetch_all(conn).await?
            }
            Tx::SqliteRead(t) => {
                sqlx::query_as_with(sql, sqlite_args(args)?)
                    .fetch_all(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                sqlx::query_as_with(sql, pg_args(args)?)
                    .fetch_all(&mut **t)
                    .await?
            }
        })
    }

    pub async fn fetch_optional<T: FromDbRow>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>> {
        Ok(match self {
            Tx::Sqlite(t) => {
                let args = sqlite_args(args)?;
                let (conn, sql) = t.prepare(sql);
                sqlx::query_as_with(&sql, args).fetch_optional(conn).await?
            }
            Tx::SqliteRead(t) => {
                sqlx::query_as_with(sql, sqlite_args(args)?)
                    .fetch_optional(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                sqlx::query_as_with(sql, pg_args(args)?)
                    .fetch_optional(&mut **t)
                    .await?
            }
        })
    }

    pub async fn fetch_one<T: FromDbRow>(&mut self, sql: &str, args: Vec<Arg>) -> Result<T> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => {
                let args = sqlite_args(args)?;
                let conn = t.prepare_counted().await?;
                sqlx::query_with(sql, args)
                    .execute(conn)
                    .await?
                    .rows_affected()
            }
            Tx::SqliteRead(t) => sqlx::query_with(sql, sqlite_args(args)?)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Postgres(t) => sqlx::query_with(sql, pg_args(args)?)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }

    /// Runs `statements` in order, each with its own arguments (its `$1`, `$2` …): on SQLite as
    /// one script, one hand-off to the connection's thread instead of one per statement (each
    /// statement's parameters renumbered into the script's); on PostgreSQL one by one. No count
    /// of changed rows comes back: a script's would be a sum, and SQLite's count for a statement
    /// that changes nothing is the last one's.
    pub async fn execute_all(&mut self, statements: Vec<(&str, Vec<Arg>)>) -> Result<()> {
        if let Tx::Postgres(_) = self {
            for (sql, args) in statements {
                self.execute(sql, args).await?;
            }
            return Ok(());
        }
        let (script, all) = script(statements);
        self.execute(&script, all).await?;
        Ok(())
    }

    /// Runs `statements` in order as [`Tx::execute_all`] does (on SQLite one script), and returns
    /// the rows they produce, all of type `T` (typically a last `SELECT` that checks the others).
    pub async fn fetch_script<T: FromDbRow>(
        &mut self,
        statements: Vec<(&str, Vec<Arg>)>,
    ) -> Result<Vec<T>> {
        if let Tx::Postgres(_) = self {
            let mut rows = Vec::new();
            for (sql, args) in statements {
                rows.extend(self.fetch_all(sql, args).await?);
            }
            return Ok(rows);
        }
        let (script, all) = script(statements);
        self.fetch_all(&script, all).await
    }

    /// Undoes everything this transaction wrote, leaving it open for more (on SQLite's writer,
    /// back to its savepoint). Only SQLite's writer can: elsewhere an error.
    pub async fn undo(&mut self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.undo().await,
            _ => Err(StoreError::Bind(
                "only a transaction on SQLite's writer can be undone and kept open".into(),
            )),
        }
    }

    /// Inserts and returns the new row's `id` (the statement must end in `RETURNING id`).
    pub async fn insert(&mut self, sql: &str, args: Vec<Arg>) -> Result<i64> {
        let (id,): (i64,) = self.fetch_one(sql, args).await?;
        Ok(id)
    }
}

impl Tx {
    /// Inserts many rows in multi-row statements (bulk loads: demo data, imports).
    pub async fn bulk_insert(
        &mut self,
        table: &str,
        cols: &[&str],
        rows: Vec<Vec<Arg>>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // SQLite gets anonymous `?` parameters: sqlx asks SQLite for each parameter's name,
        // which SQLite finds by walking the list of the statement's names, so with `$n` names
        // a statement's binding grows with the square of its parameters (a 2,000-parameter
        // insert spent more time binding than inserting, in the writer that every request
        // waits for); `?` parameters have no name to look for.
        let (budget, anonymous) = match self.backend() {
            Backend::Sqlite => (2_000, true),
            Backend::Postgres => (30_000, false),
        };
        let per = (budget / cols.len().max(1)).clamp(1, 1000);
        let mut it = rows.into_iter().peekable();
        while it.peek().is_some() {
            let chunk: Vec<Vec<Arg>> = it.by_ref().take(per).collect();
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(","));
            let mut args = Vec::with_capacity(chunk.len() * cols.len());
            for (r, row) in chunk.into_iter().enumerate() {
                if row.len() != cols.len() {
                    return Err(StoreError::Bind(format!(
                        "{table}: row has {} values for {} columns",
                        row.len(),
                        cols.len()
                    )));
                }
                sql.push_str(if r == 0 { "(" } else { ",(" });
                for c in 0..cols.len() {
                    if c > 0 {
                        sql.push(',');
                    }
                    if anonymous {
                        sql.push('?');
                    } else {
                        sql.push_str(&format!("${}", args.len() + c + 1));
                    }
                }
                sql.push(')');
                args.extend(row);
            }
            self.execute(&sql, args).await?;
        }
        Ok(())
    }

    /// After rows were inserted with explicit ids, moves PostgreSQL's identity past them.
    pub async fn reset_identity(&mut self, table: &str) -> Result<()> {
        if self.backend() == Backend::Postgres {
            self.execute(
                &format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"),
                vec![],
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn parameters_are_renumbered_into_the_script() {
        assert_eq!(
            renumber("INSERT INTO t (a, b) VALUES ($1, $2) -- $x", 6),
            "INSERT INTO t (a, b) VALUES ($7, $8) -- $x"
        );
        assert_eq!(renumber("SELECT $10, $1", 0), "SELECT $10, $1");
        assert_eq!(renumber("SELECT 1", 3), "SELECT 1");
        assert_eq!(renumber("SELECT $", 3), "SELECT $");
    }
}

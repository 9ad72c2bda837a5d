#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    /// A unique constraint refused the write; the text names the constraint or columns.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A foreign key refused the write.
    #[error("reference violation: {0}")]
    Reference(String),
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("bad argument: {0}")]
    Bind(String),
    /// The batch holding the transaction failed to commit (SQLite's group commit): nothing of
    /// it was saved.
    #[error("the write was not saved: its batch failed to commit")]
    NotSaved,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(
                d.constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| d.message().to_string()),
            ),
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Reference(
                d.constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| d.message().to_string()),
            ),
            _ => StoreError::Db(e),
        }
    }
}

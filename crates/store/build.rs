// `sqlx::migrate!` embeds the migration files at compile time; a new file must rebuild the
// crate (as sqlx's documentation advises).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

// `sqlx::migrate!` embeds the migration files at compile time, but the
// compiler only watches Rust sources: without this a new migration would not
// trigger a rebuild and would silently never run.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

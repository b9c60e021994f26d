//! The committed completions and man pages are what the clap definitions generate.

#[test]
fn completions_and_man_pages_are_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let files = clp_bins::generate::files().unwrap();
    let mut stale = Vec::new();
    for (relative, contents) in &files {
        if std::fs::read(dir.join(relative)).ok().as_deref() != Some(contents.as_slice()) {
            stale.push(relative.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `cargo run --bin clp-gen` and commit completions/"
    );
}

//! Regenerates `completions/` (bash, zsh, fish completions and man pages).
fn main() -> std::process::ExitCode {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    match clp_bins::generate::write_all(&dir) {
        Ok(count) => {
            println!("wrote {count} files under {}", dir.display());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("clp-gen: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clp_ml::Args>("clp_ml", clp_bins::clp_ml::run)
}

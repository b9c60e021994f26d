fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clp_ml", clp_bins::clp_ml::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clp_mlftp", clp_bins::clp_mlftp::run)
}

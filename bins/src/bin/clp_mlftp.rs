fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clp_mlftp::Args>("clp_mlftp", clp_bins::clp_mlftp::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clphealthchk::Args>("clphealthchk", clp_bins::clphealthchk::run)
}

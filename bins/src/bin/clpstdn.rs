fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpstdn::Args>("clpstdn", clp_bins::clpstdn::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpstdn", clp_bins::clpstdn::run)
}

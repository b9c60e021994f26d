fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clplcncs-issue", clp_bins::clplcncs_issue::run)
}

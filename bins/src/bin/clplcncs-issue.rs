fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clplcncs_issue::Args>(
        "clplcncs-issue",
        clp_bins::clplcncs_issue::run,
    )
}

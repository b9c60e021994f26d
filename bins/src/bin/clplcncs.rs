fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clplcncs", clp_bins::clplcncs::run)
}

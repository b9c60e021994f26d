fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clplcnsc", clp_bins::clplcncs::run)
}

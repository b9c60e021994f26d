fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clplogcc", clp_bins::clplogcc::run)
}

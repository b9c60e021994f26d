fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clplogcc::Args>("clplogcc", clp_bins::clplogcc::run)
}

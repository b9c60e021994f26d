fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clplcncs::Args>("clplcncs", clp_bins::clplcncs::run)
}

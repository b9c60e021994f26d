fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clplcncs::Args>("clplcnsc", clp_bins::clplcncs::run)
}

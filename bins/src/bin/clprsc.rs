fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clprsc::Args>("clprsc", clp_bins::clprsc::run)
}

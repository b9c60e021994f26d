fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clprsc", clp_bins::clprsc::run)
}

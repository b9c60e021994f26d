fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpcl", clp_bins::clpcl::run)
}

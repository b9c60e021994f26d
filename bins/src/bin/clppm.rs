fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clppm", clp_bins::clppm::run)
}

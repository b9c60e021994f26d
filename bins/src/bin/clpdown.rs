fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpdown", clp_bins::clpdown::run)
}

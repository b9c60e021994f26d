fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpmonctrl", clp_bins::clpmonctrl::run)
}

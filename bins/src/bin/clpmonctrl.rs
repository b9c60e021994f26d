fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpmonctrl::Args>("clpmonctrl", clp_bins::clpmonctrl::run)
}

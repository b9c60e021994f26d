fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpcfctrl", clp_bins::clpcfctrl::run)
}

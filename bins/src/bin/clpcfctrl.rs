fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpcfctrl::Args>("clpcfctrl", clp_bins::clpcfctrl::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpcfget::Args>("clpcfget", clp_bins::clpcfget::run)
}

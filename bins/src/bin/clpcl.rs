fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpcl::Args>("clpcl", clp_bins::clpcl::run)
}

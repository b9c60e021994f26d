fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpperfc::Args>("clpperfc", clp_bins::clpperfc::run)
}

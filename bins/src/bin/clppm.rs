fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clppm::Args>("clppm", clp_bins::clppm::run)
}

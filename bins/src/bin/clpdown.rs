fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpdown::Args>("clpdown", clp_bins::clpdown::run)
}

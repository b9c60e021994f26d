fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpstat::Args>("clpstat", clp_bins::clpstat::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpstat", clp_bins::clpstat::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clplogcmd", clp_bins::clplogcmd::run)
}

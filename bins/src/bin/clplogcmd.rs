fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clplogcmd::Args>("clplogcmd", clp_bins::clplogcmd::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clp_mltool", clp_bins::clp_mltool::run)
}

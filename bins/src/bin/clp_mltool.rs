fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clp_mltool::Args>("clp_mltool", clp_bins::clp_mltool::run)
}

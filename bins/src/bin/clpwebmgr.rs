fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpwebmgr::Args>("clpwebmgr", clp_bins::clpwebmgr::run)
}

fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpwebmgr", clp_bins::clpwebmgr::run)
}

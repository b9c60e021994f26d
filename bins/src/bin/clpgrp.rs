fn main() -> std::process::ExitCode {
    clp_bins::cli::main("clpgrp", clp_bins::clpgrp::run)
}

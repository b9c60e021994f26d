fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpgrp::Args>("clpgrp", clp_bins::clpgrp::run)
}

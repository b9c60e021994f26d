fn main() -> std::process::ExitCode {
    clp_bins::cli::main::<clp_bins::clpcfset::Args>("clpcfset", clp_bins::clpcfset::run)
}

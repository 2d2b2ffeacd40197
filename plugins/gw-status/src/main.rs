fn main() -> std::process::ExitCode {
    runbook::cli::main::<kubectl_gw_status::cli::Cli, _, _>(kubectl_gw_status::run)
}

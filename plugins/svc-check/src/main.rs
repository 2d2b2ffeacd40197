fn main() -> std::process::ExitCode {
    runbook::cli::main::<kubectl_svc_check::cli::Cli, _, _>(kubectl_svc_check::run)
}

use kubectl_svc_check::cli::Cli;

fn main() -> std::process::ExitCode {
    if let Some(code) = runbook::completion::serve::<Cli, _>(kubectl_svc_check::complete) {
        return code;
    }
    runbook::cli::main::<Cli, _, _>(kubectl_svc_check::run)
}

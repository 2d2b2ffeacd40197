use kubectl_gw_status::cli::Cli;

fn main() -> std::process::ExitCode {
    if let Some(code) = runbook::completion::serve::<Cli, _>(kubectl_gw_status::complete) {
        return code;
    }
    runbook::cli::main::<Cli, _, _>(kubectl_gw_status::run)
}

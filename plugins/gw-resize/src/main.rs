use kubectl_gw_resize::cli::Cli;

fn main() -> std::process::ExitCode {
    if let Some(code) = runbook::completion::serve::<Cli, _>(kubectl_gw_resize::complete) {
        return code;
    }
    runbook::cli::main::<Cli, _, _>(kubectl_gw_resize::run)
}

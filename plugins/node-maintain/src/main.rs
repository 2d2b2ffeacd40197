use kubectl_node_maintain::cli::Cli;

fn main() -> std::process::ExitCode {
    if let Some(code) = runbook::completion::serve::<Cli, _>(kubectl_node_maintain::complete) {
        return code;
    }
    runbook::cli::main::<Cli, _, _>(kubectl_node_maintain::run)
}

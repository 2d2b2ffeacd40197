fn main() -> std::process::ExitCode {
    runbook::cli::main::<kubectl_node_maintain::cli::Cli, _, _>(kubectl_node_maintain::run)
}

fn main() -> std::process::ExitCode {
    runbook::cli::main::<kubectl_gw_resize::cli::Cli, _, _>(kubectl_gw_resize::run)
}

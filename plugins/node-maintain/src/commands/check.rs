//! `check [NODE...]`: the node diagnosis.

use runbook::Result;
use runbook::findings::exit_code_for;
use runbook::flags::ConnectArgs;
use runbook::output::{OutputFormat, Style, write_structured};

use crate::checks::check_all;
use crate::cli::CheckArgs;
use crate::{fetch, print};

/// Runs the diagnosis and returns the exit code its findings call for.
pub async fn run(connect: &ConnectArgs, args: CheckArgs) -> Result<u8> {
    let conn = runbook::client::connect(connect).await?;
    let snapshot =
        fetch::check_snapshot(&conn.client, &args.nodes, args.selector.as_deref()).await?;
    let report = check_all(&snapshot, args.since, &args.report.ignore);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let style = Style::new(args.output.color.enabled());
    let format = &args.output.output;
    if !write_structured(&mut out, &report, format)? {
        match format {
            OutputFormat::Name => print::write_node_names(&mut out, &report)?,
            _ => print::write_check_report(
                &mut out,
                &report,
                style,
                *format == OutputFormat::Wide,
                !args.output.no_headers,
                snapshot.now,
            )?,
        }
    }
    Ok(exit_code_for(
        &report.findings,
        args.report.fail_on,
        args.report.exit_zero,
    ))
}

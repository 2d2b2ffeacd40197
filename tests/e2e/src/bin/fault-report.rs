//! `cargo run -p e2e --bin fault-report [FILTER]`: runs the fault matrix (the cases the
//! end-to-end tests assert) and prints one table, FAULT PLUGIN EXPECTED OBSERVED PASS, then
//! "N faults tried, N survived, N lost". Only cases whose id (`fault/plugin`) contains FILTER
//! run. Exits 1 when a case did not survive.

use std::io::Write;
use std::process::ExitCode;

use e2e::faults::{Case, Verdict, cases};

/// The widest OBSERVED cell.
const OBSERVED_WIDTH: usize = 100;

fn main() -> ExitCode {
    let filter = std::env::args().nth(1).unwrap_or_default();
    if filter == "-h" || filter == "--help" {
        println!(
            "usage: fault-report [FILTER]   (runs the cases whose fault/plugin id contains FILTER)"
        );
        return ExitCode::SUCCESS;
    }
    e2e::ensure_built();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let selected: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.id().contains(&filter))
        .collect();
    let mut rows: Vec<(Case, Verdict)> = Vec::new();
    for case in selected {
        eprintln!("running {} ...", case.id());
        let verdict = runtime.block_on(case.run());
        if !verdict.survived() {
            eprintln!(
                "  {} did not survive:\n    {}",
                case.id(),
                verdict
                    .problems
                    .iter()
                    .chain(&verdict.lost)
                    .map(|p| p.replace('\n', "\n    "))
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
        }
        rows.push((case, verdict));
    }
    let mut out = std::io::stdout().lock();
    let _ = write_report(&mut out, &rows);
    if rows.iter().all(|(_, v)| v.survived()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The table and the closing line.
fn write_report(out: &mut dyn Write, rows: &[(Case, Verdict)]) -> std::io::Result<()> {
    let mut table: Vec<[String; 5]> = vec![[
        "FAULT".into(),
        "PLUGIN".into(),
        "EXPECTED".into(),
        "OBSERVED".into(),
        "PASS".into(),
    ]];
    for (case, verdict) in rows {
        let pass = if verdict.survived() {
            "yes"
        } else if verdict.lost.is_empty() {
            "NO"
        } else {
            "NO (lost)"
        };
        table.push([
            case.fault.id().to_string(),
            case.plugin.name.to_string(),
            case.fault.expected().to_string(),
            e2e::faults::run::shorten(&verdict.observed.replace('\n', " "), OBSERVED_WIDTH),
            pass.to_string(),
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &table {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(w - cell.chars().count() + 3));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let tried = rows.len();
    let survived = rows.iter().filter(|(_, v)| v.survived()).count();
    let lost = rows.iter().filter(|(_, v)| !v.lost.is_empty()).count();
    writeln!(out)?;
    writeln!(
        out,
        "{tried} faults tried, {survived} survived, {lost} lost"
    )
}

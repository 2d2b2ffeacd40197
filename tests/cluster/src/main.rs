//! `test-cluster`: runs the test API server until interrupted, optionally holding a runbook
//! scenario; `apply` writes a scenario into another cluster.

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use testcluster::controllers::{Controllers, Rules};
use testcluster::{TestCluster, apply, scenarios};

/// A stateful Kubernetes test API server on 127.0.0.1.
#[derive(Parser)]
#[command(name = "test-cluster", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGINT or SIGTERM.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Write a kubeconfig for the server here.
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// Print only the URL, then "ready".
        #[arg(long)]
        print_url: bool,
        /// Load this scenario (see `test-cluster scenarios`) and run its controllers; without
        /// one the cluster starts empty, its controllers running with the default rules.
        #[arg(long)]
        scenario: Option<String>,
    },
    /// Write a scenario's objects, statuses included, into the cluster of a kubeconfig.
    Apply {
        /// The scenario to apply.
        #[arg(long)]
        scenario: String,
        /// The kubeconfig of the target cluster (default: KUBECONFIG or ~/.kube/config).
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
    },
    /// List the scenarios.
    Scenarios,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("test-cluster: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("test-cluster: {err:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (port, kubeconfig, print_url, scenario) = match cli.command {
        Command::Serve {
            port,
            kubeconfig,
            print_url,
            scenario,
        } => (port, kubeconfig, print_url, scenario),
        Command::Apply {
            scenario,
            kubeconfig,
        } => {
            let client = apply::client(kubeconfig.as_deref()).await?;
            let summary = apply::apply(&scenario, client, &mut std::io::stdout().lock()).await?;
            println!(
                "{} created, {} configured, {} skipped",
                summary.created, summary.configured, summary.skipped
            );
            return Ok(());
        }
        Command::Scenarios => {
            for name in scenarios::names() {
                println!("{name:<24} {}", scenarios::load(name)?.description);
            }
            println!(
                "{:<24} generated cluster for benchmarks",
                "large:<services>:<pods>"
            );
            return Ok(());
        }
    };
    let cluster = match &scenario {
        Some(name) => scenarios::start_on(port, name, true).await?,
        None => {
            let controllers = Arc::new(Controllers::new(Rules::default()));
            TestCluster::start_on(port, Vec::new(), Some(controllers), true).await?
        }
    };
    if let Some(path) = &kubeconfig {
        cluster.write_kubeconfig(path)?;
    }
    if print_url {
        println!("{}", cluster.url());
    } else {
        println!("test-cluster serving at {}", cluster.url());
        if let Some(path) = &kubeconfig {
            println!("kubeconfig written to {}", path.display());
        }
    }
    println!("ready");
    wait_for_signal().await?;
    cluster.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

//! `test-cluster`: runs the test API server until interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use testcluster::TestCluster;

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
    },
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
    let Command::Serve {
        port,
        kubeconfig,
        print_url,
    } = cli.command;
    let cluster = TestCluster::start_on(port, Vec::new(), None, true).await?;
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

//! The thin `main` every plugin shares: parse flags (usage errors exit 64, never clap's 2),
//! run on a tokio runtime, turn the one error into one line on stderr and its exit code,
//! and handle Ctrl-C (exit 130).

use std::future::Future;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::exit;

/// `--version` text: the crate version and the git commit it was built from.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("RUNBOOK_GIT_COMMIT"),
    ")"
);

static HANDLED: AtomicBool = AtomicBool::new(false);
static INTERRUPT: OnceLock<watch::Sender<bool>> = OnceLock::new();

fn interrupt_sender() -> &'static watch::Sender<bool> {
    INTERRUPT.get_or_init(|| watch::channel(false).0)
}

/// A Ctrl-C notice for commands that stop cleanly themselves (drain, resize): once taken,
/// the default "exit 130 at once" no longer applies and the command must end itself.
#[derive(Clone)]
pub struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    /// Takes over Ctrl-C handling for this process.
    pub fn take() -> Interrupt {
        HANDLED.store(true, Ordering::SeqCst);
        Interrupt(interrupt_sender().subscribe())
    }

    /// True once Ctrl-C was pressed.
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when Ctrl-C is pressed (at once if it already was).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|v| *v).await;
    }
}

/// Parses flags: help and version exit 0, any usage error exits 64 with clap's message.
pub fn parse<T: Parser>() -> std::result::Result<T, ExitCode> {
    parse_from(std::env::args_os())
}

/// [`parse`] over explicit arguments (tests).
pub fn parse_from<T, I, A>(args: I) -> std::result::Result<T, ExitCode>
where
    T: Parser,
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString> + Clone,
{
    T::try_parse_from(args).map_err(|e| {
        use clap::error::ErrorKind;
        let _ = e.print();
        match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::SUCCESS,
            _ => ExitCode::from(exit::USAGE),
        }
    })
}

/// Runs a plugin: parses `T`, runs `body` on a runtime, prints an error as one line
/// (`error: ...`) and returns the suite exit code.
pub fn main<T, F, Fut>(body: F) -> ExitCode
where
    T: Parser,
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Result<u8>>,
{
    let args = match parse::<T>() {
        Ok(a) => a,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::CANNOT_CHECK);
        }
    };
    let outcome = runtime.block_on(async {
        tokio::spawn(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                if !HANDLED.load(Ordering::SeqCst) {
                    eprintln!("\ninterrupted");
                    std::process::exit(i32::from(exit::INTERRUPTED));
                }
                let _ = interrupt_sender().send(true);
            }
        });
        body(args).await
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::from(report(outcome))
}

/// Prints the error (if any) as one line and returns the exit code.
pub fn report(outcome: Result<u8>) -> u8 {
    match outcome {
        Ok(code) => code,
        Err(Error::BrokenPipe) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    #[command(name = "demo", bin_name = "kubectl demo")]
    struct Demo {
        #[arg(long)]
        replicas: u32,
    }

    #[test]
    fn usage_errors_exit_64_and_help_exits_0() {
        let bad = parse_from::<Demo, _, _>(["demo", "--replicas", "many"]).unwrap_err();
        assert_eq!(bad, ExitCode::from(64));
        let missing = parse_from::<Demo, _, _>(["demo"]).unwrap_err();
        assert_eq!(missing, ExitCode::from(64));
        let help = parse_from::<Demo, _, _>(["demo", "--help"]).unwrap_err();
        assert_eq!(help, ExitCode::SUCCESS);
        assert_eq!(
            parse_from::<Demo, _, _>(["demo", "--replicas", "3"])
                .unwrap()
                .replicas,
            3
        );
    }

    #[test]
    fn errors_print_and_map_to_codes() {
        assert_eq!(report(Ok(1)), 1);
        assert_eq!(report(Err(Error::usage("bad"))), 64);
        assert_eq!(report(Err(Error::BrokenPipe)), 0);
    }
}

//! Confirmation before anything that changes the cluster.
//!
//! `--yes` skips the question. With no terminal on stdin and no `--yes`, the plugins refuse
//! (exit 64) rather than guess, as `kubectl delete -i` counts an unreadable terminal as "no".

use std::io::IsTerminal;

use dialoguer::console::Term;
use dialoguer::{Confirm, Input};

use crate::error::{Error, Result};

/// Asks `question` (y/N) on stderr. `Ok(false)` when the user says no.
pub fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    require_terminal()?;
    Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on(&Term::stderr())
        .map_err(prompt_error)
}

/// Asks the user to type `expected` (a node or workload name) to confirm a dangerous action.
pub fn confirm_typed(question: &str, expected: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    require_terminal()?;
    let typed: String = Input::new()
        .with_prompt(format!("{question}\nType \"{expected}\" to confirm"))
        .allow_empty(true)
        .interact_text_on(&Term::stderr())
        .map_err(prompt_error)?;
    Ok(typed.trim() == expected)
}

fn require_terminal() -> Result<()> {
    refuse_without_terminal(std::io::stdin().is_terminal() && std::io::stderr().is_terminal())
}

/// The refusal used when nobody can answer: no terminal and no `--yes`.
fn refuse_without_terminal(interactive: bool) -> Result<()> {
    if interactive {
        Ok(())
    } else {
        Err(Error::Usage(
            "refusing to change the cluster without confirmation: no terminal to ask on; pass --yes to proceed".into(),
        ))
    }
}

fn prompt_error(e: dialoguer::Error) -> Error {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            Error::Interrupted(" at the confirmation prompt: nothing was changed".into())
        }
        dialoguer::Error::IO(io) => Error::Usage(format!("cannot read the answer: {io}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_skips_the_question() {
        assert!(confirm("go?", true).unwrap());
        assert!(confirm_typed("go?", "node-1", true).unwrap());
    }

    #[test]
    fn no_terminal_refuses_with_usage_code() {
        let err = refuse_without_terminal(false).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert!(err.to_string().contains("--yes"));
        assert!(refuse_without_terminal(true).is_ok());
    }
}

//! The `completion` subcommand every plugin has: `completion bash|zsh|fish` prints a script for
//! the plugin run directly (`kubectl-gw_status`), `completion --install` writes the
//! `kubectl_complete-<plugin>` helper kubectl (>= 1.26) runs for `kubectl gw-status <TAB>`.
//!
//! krew installs one binary per plugin and cannot install that helper (krew issue 812), hence
//! `--install`. The helper is a two-line script calling the plugin's hidden `__complete`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Command, Subcommand};
use clap_complete::Shell;

use crate::error::{Error, Result};
use crate::exit;

/// `completion [SHELL] [--install [--dir DIR]]`.
#[derive(Args, Clone, Debug)]
pub struct CompletionArgs {
    /// Print the completion script for this shell, for the plugin run directly (kubectl-NAME);
    /// `kubectl NAME <TAB>` needs --install instead.
    #[arg(
        value_name = "SHELL",
        required_unless_present = "install",
        conflicts_with = "install"
    )]
    pub shell: Option<Shell>,
    /// Write the kubectl_complete-NAME helper that kubectl (1.26 or later) runs to complete
    /// `kubectl NAME <TAB>`, next to the plugin binary.
    #[arg(long)]
    pub install: bool,
    /// With --install: write the helper into this directory instead (it must be on PATH).
    #[arg(long, value_name = "DIR", requires = "install")]
    pub dir: Option<PathBuf>,
}

/// The subcommand of a plugin that has no other: flatten it with
/// `#[command(subcommand)] command: Option<CompletionCommand>`.
#[derive(Subcommand, Clone, Debug)]
pub enum CompletionCommand {
    /// Shell completion: print a bash, zsh or fish script, or --install kubectl's helper.
    ///
    /// `completion bash|zsh|fish` prints a script for the plugin run directly;
    /// `completion --install` makes `kubectl PLUGIN <TAB>` complete (kubectl 1.26 or later).
    Completion(CompletionArgs),
}

/// The plugin's executable name for its command name: `gw-status` → `kubectl-gw_status`.
pub fn plugin_binary(name: &str) -> String {
    format!("kubectl-{}", name.replace('-', "_"))
}

/// The helper kubectl looks for: `gw-status` → `kubectl_complete-gw_status`.
pub fn helper_name(name: &str) -> String {
    format!("kubectl_complete-{}", name.replace('-', "_"))
}

/// Runs `completion` for the plugin whose clap command is `cmd` (named `gw-status` etc.).
pub fn run(mut cmd: Command, args: &CompletionArgs, out: &mut dyn Write) -> Result<u8> {
    let name = cmd.get_name().to_string();
    if let Some(shell) = args.shell {
        clap_complete::generate(shell, &mut cmd, plugin_binary(&name), out);
        return Ok(exit::OK);
    }
    let plugin = installed_plugin(&plugin_binary(&name))?;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => plugin
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| Error::usage("cannot tell the plugin's directory: pass --dir DIR"))?,
    };
    let helper = install(&name, &plugin, &dir)?;
    writeln!(
        out,
        "wrote {}: `kubectl {name} <TAB>` now completes (kubectl 1.26 or later) by running {} __complete",
        helper.display(),
        plugin.display()
    )?;
    if !on_path(&dir) {
        eprintln!(
            "warning: {} is not on PATH: add it there, kubectl looks for {} on PATH",
            dir.display(),
            helper_name(&name)
        );
        return Ok(exit::WARNINGS);
    }
    Ok(exit::OK)
}

/// The plugin binary as kubectl finds it: the first `binary` on PATH (not resolved, so a
/// krew link keeps working across upgrades), else this executable.
fn installed_plugin(binary: &str) -> Result<PathBuf> {
    let file = format!("{binary}{}", std::env::consts::EXE_SUFFIX);
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&file))
            .find(|candidate| candidate.is_file())
    });
    match on_path {
        Some(p) => Ok(p),
        None => std::env::current_exe()
            .map_err(|e| Error::Failed(format!("cannot tell where {binary} is installed: {e}"))),
    }
}

fn on_path(dir: &Path) -> bool {
    let Some(paths) = std::env::var_os("PATH") else {
        return false;
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let want = canonical(dir);
    std::env::split_paths(&paths).any(|p| canonical(&p) == want)
}

/// Writes the helper for plugin `name` running `plugin` into `dir`; returns its path.
pub fn install(name: &str, plugin: &Path, dir: &Path) -> Result<PathBuf> {
    let helper = dir.join(helper_file(name));
    let cannot = |e: std::io::Error| {
        Error::Failed(format!(
            "cannot write {}: {e}; pass --dir DIR (a directory on PATH you can write to)",
            helper.display()
        ))
    };
    std::fs::write(&helper, helper_script(name, plugin)).map_err(cannot)?;
    make_executable(&helper).map_err(cannot)?;
    Ok(helper)
}

#[cfg(unix)]
fn helper_file(name: &str) -> String {
    helper_name(name)
}

#[cfg(windows)]
fn helper_file(name: &str) -> String {
    format!("{}.cmd", helper_name(name))
}

/// The helper's text: run `plugin __complete` with the words kubectl passes.
#[cfg(unix)]
pub fn helper_script(name: &str, plugin: &Path) -> String {
    let quoted = plugin.display().to_string().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         # kubectl (1.26 or later) runs this to complete `kubectl {name} ...`.\n\
         # Written by `kubectl {name} completion --install`.\n\
         exec '{quoted}' __complete \"$@\"\n"
    )
}

/// The helper's text: run `plugin __complete` with the words kubectl passes.
#[cfg(windows)]
pub fn helper_script(name: &str, plugin: &Path) -> String {
    format!(
        "@rem kubectl (1.26 or later) runs this to complete `kubectl {name} ...`.\r\n\
         @rem Written by `kubectl {name} completion --install`.\r\n\
         @\"{}\" __complete %*\r\n",
        plugin.display()
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(windows)]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser, Debug)]
    #[command(name = "gw-status", disable_help_subcommand = true)]
    struct Demo {
        /// A profile.
        target: Option<String>,
        /// Namespace.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        #[command(subcommand)]
        command: Option<CompletionCommand>,
    }

    #[test]
    fn names_follow_kubectl_plugin_rules() {
        assert_eq!(plugin_binary("gw-status"), "kubectl-gw_status");
        assert_eq!(
            helper_name("node-maintain"),
            "kubectl_complete-node_maintain"
        );
    }

    #[test]
    fn shell_or_install_is_required() {
        assert!(Demo::try_parse_from(["gw-status", "completion"]).is_err());
        assert!(Demo::try_parse_from(["gw-status", "completion", "bash", "--install"]).is_err());
        assert!(Demo::try_parse_from(["gw-status", "completion", "--dir", "/x"]).is_err());
        let ok = Demo::try_parse_from(["gw-status", "completion", "--install", "--dir", "/x"]);
        let Some(CompletionCommand::Completion(args)) = ok.unwrap().command else {
            panic!("completion parsed");
        };
        assert!(args.install);
        assert_eq!(args.dir.as_deref(), Some(Path::new("/x")));
    }

    #[test]
    fn scripts_are_generated_for_the_plugin_binary() {
        let args = CompletionArgs {
            shell: Some(Shell::Bash),
            install: false,
            dir: None,
        };
        let mut out = Vec::new();
        assert_eq!(run(Demo::command(), &args, &mut out).unwrap(), 0);
        let script = String::from_utf8(out).unwrap();
        assert!(script.contains("kubectl-gw_status"), "{script}");
        assert!(script.contains("--namespace"));
    }

    #[cfg(unix)]
    #[test]
    fn the_installed_helper_runs_the_plugin_with_complete_and_the_words() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("it's here");
        std::fs::create_dir(&odd).unwrap();
        let plugin = odd.join("kubectl-gw_status");
        std::fs::write(&plugin, "#!/bin/sh\nprintf '%s|' \"$@\"\n").unwrap();
        make_executable(&plugin).unwrap();
        let helper = install("gw-status", &plugin, dir.path()).unwrap();
        assert_eq!(helper, dir.path().join("kubectl_complete-gw_status"));
        let out = std::process::Command::new(&helper)
            .args(["-n", "a b", ""])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "__complete|-n|a b||");
    }

    #[test]
    fn an_unwritable_directory_is_one_clear_error() {
        let err = install(
            "gw-status",
            Path::new("/bin/true"),
            Path::new("/nonexistent/dir"),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), exit::FAILED);
        let msg = err.to_string();
        assert!(
            msg.starts_with("cannot write /nonexistent/dir/kubectl_complete-gw_status"),
            "{msg}"
        );
        assert!(msg.contains("--dir"), "{msg}");
    }
}

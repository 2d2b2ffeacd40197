//! Cobra's `__complete` protocol: the words typed after the plugin's name in, one candidate a
//! line (`value<TAB>description`) and `:<directive>` out.
//!
//! kubectl (>= 1.26) runs `kubectl_complete-<plugin> WORD... CURRENT`, CURRENT being the word
//! under the cursor (`""` for a new word), and passes the lines it prints to the shell.

use std::io::Write;

use clap::{Arg, Command};

/// Cobra's `ShellCompDirective` bits: what the shell does besides offering the candidates.
pub mod directive {
    /// Offer files when there are no candidates.
    pub const DEFAULT: u8 = 0;
    /// Add no space after the completed word (`jsonpath=`, `deploy/`).
    pub const NO_SPACE: u8 = 2;
    /// Never offer files.
    pub const NO_FILE_COMP: u8 = 4;
    /// Offer directories only.
    pub const FILTER_DIRS: u8 = 16;
}

/// One completion: the word and an optional one-line description the shell may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The word offered.
    pub value: String,
    /// Shown next to it by shells that can (zsh, fish; bash with descriptions).
    pub description: String,
}

impl Candidate {
    /// A candidate with a description (its first line only; tabs become spaces).
    pub fn new(value: impl Into<String>, description: impl AsRef<str>) -> Candidate {
        let description = description.as_ref();
        Candidate {
            value: value.into(),
            description: description
                .lines()
                .next()
                .unwrap_or_default()
                .replace('\t', " ")
                .trim()
                .to_string(),
        }
    }
}

/// What the word under the cursor is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A flag's name (`-`, `--na`).
    FlagName,
    /// The value of the flag with this clap id (`namespace`, `output`, `context`).
    FlagValue(String),
    /// The positional argument at this index (from 0) of the innermost subcommand.
    Positional(usize),
}

/// A completion request: the slot, what was typed of it, and what the line already says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The subcommands typed, from the root (`[]` for the plugin itself, `["drain"]` for
    /// `node-maintain drain`).
    pub path: Vec<String>,
    /// What is being completed.
    pub slot: Slot,
    /// The text typed so far in the word under the cursor (after `=` for `--flag=`).
    pub prefix: String,
    /// Positional arguments typed before the cursor, of the innermost subcommand.
    pub positionals: Vec<String>,
    /// Flags given on the line (clap id, value; `true` for switches), then flags with an
    /// `env` that is set, as clap would read them.
    pub flags: Vec<(String, String)>,
    /// How many of `flags` were typed (the rest come from the environment).
    pub typed_flags: usize,
}

impl Request {
    /// The last value of the flag with clap id `id`, as typed or from its environment variable.
    pub fn flag(&self, id: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_str())
    }

    /// True when the flag with clap id `id` is on the line.
    pub fn has_flag(&self, id: &str) -> bool {
        self.flags.iter().any(|(k, _)| k == id)
    }

    /// The flags typed on the line (clap id, value).
    pub fn typed(&self) -> &[(String, String)] {
        &self.flags[..self.typed_flags.min(self.flags.len())]
    }

    /// True when completing positional `index` of the subcommand at `path`.
    pub fn is_positional(&self, path: &[&str], index: usize) -> bool {
        self.slot == Slot::Positional(index)
            && self
                .path
                .iter()
                .map(String::as_str)
                .eq(path.iter().copied())
    }
}

/// The answer: candidates and the directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Candidates, in the order offered.
    pub candidates: Vec<Candidate>,
    /// Cobra directive bits ([`directive`]).
    pub directive: u8,
}

impl Answer {
    /// Writes the answer in cobra's format: `value[\tdescription]` lines, then `:directive`.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for c in &self.candidates {
            if c.description.is_empty() {
                writeln!(out, "{}", c.value)?;
            } else {
                writeln!(out, "{}\t{}", c.value, c.description)?;
            }
        }
        writeln!(out, ":{}", self.directive)
    }
}

/// The subcommand at `path` below `root` (`root` itself for `[]`).
pub fn subcommand<'a>(root: &'a Command, path: &[String]) -> &'a Command {
    path.iter()
        .fold(root, |cmd, name| cmd.find_subcommand(name).unwrap_or(cmd))
}

/// Reads the words typed after the plugin's name (the last one is under the cursor).
/// `root` must be built ([`Command::build`]) so global flags reach subcommands.
pub fn parse_request(root: &Command, words: &[String]) -> Request {
    let (current, typed) = match words.split_last() {
        Some((last, rest)) => (last.as_str(), rest),
        None => ("", &[][..]),
    };
    let mut cmd = root;
    let mut path: Vec<String> = Vec::new();
    let mut positionals: Vec<String> = Vec::new();
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut pending: Option<String> = None;
    let mut only_positionals = false;
    for word in typed {
        if let Some(id) = pending.take() {
            flags.push((id, word.clone()));
        } else if only_positionals {
            positionals.push(word.clone());
        } else if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            pending = read_long(cmd, long, &mut flags);
        } else if word.len() > 1 && word.starts_with('-') {
            pending = read_shorts(cmd, &word[1..], &mut flags);
        } else if let Some(sub) = positionals
            .is_empty()
            .then(|| cmd.find_subcommand(word))
            .flatten()
        {
            cmd = sub;
            path.push(sub.get_name().to_string());
        } else {
            positionals.push(word.clone());
        }
    }
    let (slot, prefix) = if let Some(id) = pending {
        (Slot::FlagValue(id), current.to_string())
    } else if only_positionals || !current.starts_with('-') {
        (Slot::Positional(positionals.len()), current.to_string())
    } else if let Some((name, value)) = current.strip_prefix("--").and_then(|c| c.split_once('=')) {
        match find_long(cmd, name) {
            Some(arg) => (Slot::FlagValue(id_of(arg)), value.to_string()),
            None => (Slot::FlagName, current.to_string()),
        }
    } else {
        (Slot::FlagName, current.to_string())
    };
    let typed_flags = flags.len();
    add_env_values(cmd, &mut flags);
    Request {
        path,
        slot,
        prefix,
        positionals,
        flags,
        typed_flags,
    }
}

fn id_of(arg: &Arg) -> String {
    arg.get_id().as_str().to_string()
}

/// True when the flag reads the next word as its value (`-n NS`, not `--dry-run[=MODE]`).
fn takes_next_word(arg: &Arg) -> bool {
    arg.get_action().takes_values() && !arg.is_require_equals_set()
}

/// The flag `--name` (or one of its aliases) of `cmd`.
pub fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    })
}

fn find_short(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| {
        a.get_short() == Some(c) || a.get_all_short_aliases().is_some_and(|al| al.contains(&c))
    })
}

/// Records `--name[=value]`; returns the flag's id when its value is the next word.
fn read_long(cmd: &Command, long: &str, flags: &mut Vec<(String, String)>) -> Option<String> {
    let (name, value) = match long.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (long, None),
    };
    let arg = find_long(cmd, name)?;
    match value {
        Some(v) => flags.push((id_of(arg), v.to_string())),
        None if takes_next_word(arg) => return Some(id_of(arg)),
        None => flags.push((id_of(arg), "true".to_string())),
    }
    None
}

/// Records a cluster of short flags (`-Aw`, `-nkube-system`, `-n`); returns the id of a flag
/// whose value is the next word.
fn read_shorts(cmd: &Command, cluster: &str, flags: &mut Vec<(String, String)>) -> Option<String> {
    for (i, c) in cluster.char_indices() {
        let arg = find_short(cmd, c)?;
        if !arg.get_action().takes_values() {
            flags.push((id_of(arg), "true".to_string()));
            continue;
        }
        let rest = &cluster[i + c.len_utf8()..];
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        if rest.is_empty() {
            return takes_next_word(arg).then(|| id_of(arg));
        }
        flags.push((id_of(arg), rest.to_string()));
        return None;
    }
    None
}

/// Adds the flags not on the line whose environment variable is set, as clap reads them.
fn add_env_values(cmd: &Command, flags: &mut Vec<(String, String)>) {
    for arg in cmd.get_arguments() {
        let id = id_of(arg);
        if flags.iter().any(|(k, _)| *k == id) {
            continue;
        }
        if let Some(value) = arg
            .get_env()
            .and_then(std::env::var_os)
            .filter(|v| !v.is_empty())
        {
            flags.push((id, value.to_string_lossy().into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Parser, Subcommand};

    #[derive(Parser, Debug)]
    #[command(name = "demo", disable_help_subcommand = true)]
    struct Demo {
        /// A target.
        target: Option<String>,
        /// Namespace.
        #[arg(short = 'n', long, global = true)]
        namespace: Option<String>,
        /// Output.
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Everything.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Dry run.
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "client")]
        dry_run: Option<String>,
        #[command(subcommand)]
        command: Option<Sub>,
    }

    #[derive(Subcommand, Debug)]
    enum Sub {
        /// Drain a node.
        Drain(DrainArgs),
    }

    #[derive(Args, Debug)]
    struct DrainArgs {
        /// The node.
        node: Option<String>,
        /// Grace.
        #[arg(long)]
        grace: Option<u32>,
    }

    fn request(words: &[&str]) -> Request {
        let mut cmd = <Demo as clap::CommandFactory>::command();
        cmd.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        parse_request(&cmd, &words)
    }

    #[test]
    fn an_empty_word_is_the_first_positional() {
        let r = request(&[""]);
        assert_eq!(r.slot, Slot::Positional(0));
        assert_eq!(r.prefix, "");
        let r = request(&[]);
        assert_eq!(r.slot, Slot::Positional(0));
    }

    #[test]
    fn a_dash_asks_for_flag_names() {
        assert_eq!(request(&["-"]).slot, Slot::FlagName);
        let r = request(&["istio", "--na"]);
        assert_eq!((r.slot, r.prefix.as_str()), (Slot::FlagName, "--na"));
    }

    #[test]
    fn a_value_flag_before_the_cursor_asks_for_its_value() {
        let r = request(&["-n", "ku"]);
        assert_eq!(
            (r.slot, r.prefix.as_str()),
            (Slot::FlagValue("namespace".into()), "ku")
        );
        let r = request(&["--output", ""]);
        assert_eq!(r.slot, Slot::FlagValue("output".into()));
        let r = request(&["--namespace=kube"]);
        assert_eq!(
            (r.slot, r.prefix.as_str()),
            (Slot::FlagValue("namespace".into()), "kube")
        );
    }

    #[test]
    fn flags_and_their_values_are_not_positionals() {
        let r = request(&["-n", "gw", "-A", "--output=json", "istio", ""]);
        assert_eq!(r.slot, Slot::Positional(1));
        assert_eq!(r.positionals, ["istio"]);
        assert_eq!(r.flag("namespace"), Some("gw"));
        assert_eq!(r.flag("output"), Some("json"));
        assert_eq!(r.typed().len(), 3);
        assert!(r.has_flag("all_namespaces"));
        let r = request(&["-Angw", ""]);
        assert_eq!(r.flag("namespace"), Some("gw"));
        assert!(r.has_flag("all_namespaces"));
        assert_eq!(r.slot, Slot::Positional(0));
    }

    #[test]
    fn an_optional_value_needs_equals() {
        let r = request(&["--dry-run", ""]);
        assert_eq!(r.slot, Slot::Positional(0));
        assert_eq!(r.flag("dry_run"), Some("true"));
        let r = request(&["--dry-run="]);
        assert_eq!(r.slot, Slot::FlagValue("dry_run".into()));
    }

    #[test]
    fn subcommands_are_entered_and_keep_global_flags() {
        let r = request(&["drain", "-n", "x", ""]);
        assert_eq!(r.path, ["drain"]);
        assert_eq!(r.slot, Slot::Positional(0));
        assert_eq!(r.flag("namespace"), Some("x"));
        assert!(r.is_positional(&["drain"], 0));
        assert!(!r.is_positional(&[], 0));
        let r = request(&["drain", "--grace", ""]);
        assert_eq!(r.slot, Slot::FlagValue("grace".into()));
        // A subcommand name after a positional is a positional.
        let r = request(&["istio", "drain", ""]);
        assert_eq!(r.slot, Slot::Positional(2));
    }

    #[test]
    fn after_a_double_dash_everything_is_positional() {
        let r = request(&["--", "-n", "-"]);
        assert_eq!(r.slot, Slot::Positional(1));
        assert_eq!(r.positionals, ["-n"]);
    }

    #[test]
    fn answers_print_in_cobra_format() {
        let answer = Answer {
            candidates: vec![
                Candidate::new("istio", "Istio control plane\nsecond line"),
                Candidate::new("web", ""),
            ],
            directive: directive::NO_FILE_COMP,
        };
        let mut out = Vec::new();
        answer.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "istio\tIstio control plane\nweb\n:4\n"
        );
    }
}

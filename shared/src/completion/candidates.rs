//! The candidates every plugin offers the same way: flag names from the clap command, the
//! values of the shared flags (`-o`, `--context`, enumerations, paths), subcommand names.

use std::path::Path;

use clap::{Arg, Command, ValueHint};
use kube::config::Kubeconfig;

use crate::findings::CheckInfo;
use crate::profiles;

use super::protocol::{Candidate, Request, directive};

/// The names of `cmd`'s visible flags for a word starting with `-`: long names, and short
/// ones unless the word starts with `--`. Flags already on the line are left out unless they
/// may repeat.
pub fn flag_names(cmd: &Command, request: &Request) -> Vec<Candidate> {
    let mut out = Vec::new();
    let shorts = !request.prefix.starts_with("--");
    for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
        if arg.is_hide_set() || (request.has_flag(arg.get_id().as_str()) && !repeats(arg)) {
            continue;
        }
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        if let Some(long) = arg.get_long() {
            out.push(Candidate::new(format!("--{long}"), &help));
        }
        if shorts && let Some(short) = arg.get_short() {
            out.push(Candidate::new(format!("-{short}"), &help));
        }
    }
    out
}

fn repeats(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        clap::ArgAction::Append | clap::ArgAction::Count
    )
}

/// The visible subcommands of `cmd`, with their one-line summaries.
pub fn subcommand_names(cmd: &Command) -> Vec<Candidate> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            let about = s.get_about().map(ToString::to_string).unwrap_or_default();
            Candidate::new(s.get_name(), about)
        })
        .collect()
}

/// `-o/--output` formats as `runbook::output::OutputFormat` parses them.
pub fn output_formats() -> Vec<Candidate> {
    [
        ("table", "aligned columns (default)"),
        ("wide", "table with more columns"),
        ("json", "the whole report as JSON"),
        ("yaml", "the whole report as YAML"),
        ("name", "resource/name lines"),
        (
            "jsonpath=",
            "a kubectl JSONPath template over the JSON report",
        ),
    ]
    .into_iter()
    .map(|(v, d)| Candidate::new(v, d))
    .collect()
}

/// The values clap knows for `arg` (enumerations such as `--color`, `--fail-on`).
pub fn possible_values(arg: &Arg) -> Vec<Candidate> {
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            let help = v.get_help().map(ToString::to_string).unwrap_or_default();
            Candidate::new(v.get_name(), help)
        })
        .collect()
}

/// The values clap knows for positional `index` of `cmd` (`completion SHELL`).
pub fn positional_values(cmd: &Command, index: usize) -> Vec<Candidate> {
    cmd.get_positionals()
        .nth(index)
        .map(possible_values)
        .unwrap_or_default()
}

/// Check ids for `--ignore`: each id, then each area as `area.*`.
pub fn check_ids(catalog: &[CheckInfo]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = catalog
        .iter()
        .map(|c| Candidate::new(c.id, c.summary))
        .collect();
    let mut areas: Vec<&str> = catalog
        .iter()
        .filter_map(|c| c.id.split_once('.').map(|(area, _)| area))
        .collect();
    areas.sort_unstable();
    areas.dedup();
    out.extend(
        areas
            .into_iter()
            .map(|a| Candidate::new(format!("{a}.*"), format!("every {a}.* check"))),
    );
    out
}

/// The gateway profiles (user ones from `--profiles`, `$KUBECTL_RUNBOOK_PROFILES` or the
/// default file, then the built-in ones); with `components`, also each `PROFILE/DEPLOYMENT`.
/// An unreadable profiles file gives the built-in ones only.
pub fn profile_names(request: &Request, components: bool) -> Vec<Candidate> {
    let explicit = request.flag("profiles").map(Path::new);
    let user = profiles::load_user_profiles(explicit).unwrap_or_default();
    let mut out = Vec::new();
    for p in profiles::all_profiles(&user) {
        let about = if p.description.is_empty() {
            format!("gateway profile in {}", p.namespace)
        } else {
            p.description.clone()
        };
        out.push(Candidate::new(&p.name, about));
        if components {
            out.extend(p.components.iter().map(|c| {
                Candidate::new(
                    format!("{}/{}", p.name, c.deployment),
                    format!("{} of {} in {}", c.role.label(), p.name, p.namespace),
                )
            }));
        }
    }
    out
}

/// Object names as candidates: `KIND/NAME` when the word typed starts with one of `kinds`
/// and a slash (`deploy/`), the bare name when it has no slash, nothing for another kind.
pub fn kind_names(prefix: &str, kinds: &[&str], names: &[String], about: &str) -> Vec<Candidate> {
    match prefix.split_once('/') {
        Some((kind, _)) if kinds.contains(&kind) => names
            .iter()
            .map(|n| Candidate::new(format!("{kind}/{n}"), about))
            .collect(),
        Some(_) => Vec::new(),
        None => names.iter().map(|n| Candidate::new(n, about)).collect(),
    }
}

/// What a kubeconfig lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeconfigList {
    /// `--context`.
    Contexts,
    /// `--cluster`.
    Clusters,
    /// `--user`.
    Users,
}

/// Names from the kubeconfig (`--kubeconfig` on the line, else `$KUBECONFIG` merged, else
/// `~/.kube/config`); nothing when it cannot be read.
pub fn kubeconfig_names(which: KubeconfigList, path: Option<&str>) -> Vec<Candidate> {
    let config = match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    };
    let Ok(config) = config else {
        return Vec::new();
    };
    let current = config.current_context.as_deref();
    match which {
        KubeconfigList::Contexts => config
            .contexts
            .iter()
            .map(|c| {
                let cluster = c.context.as_ref().map(|x| x.cluster.as_str());
                let mut about = cluster.map(|c| format!("cluster {c}")).unwrap_or_default();
                if current == Some(c.name.as_str()) {
                    about = format!("current context; {about}");
                }
                Candidate::new(&c.name, about)
            })
            .collect(),
        KubeconfigList::Clusters => config
            .clusters
            .iter()
            .map(|c| {
                let server = c.cluster.as_ref().and_then(|x| x.server.clone());
                Candidate::new(&c.name, server.unwrap_or_default())
            })
            .collect(),
        KubeconfigList::Users => config
            .auth_infos
            .iter()
            .map(|u| Candidate::new(&u.name, ""))
            .collect(),
    }
}

/// The directive for a flag value with no candidates: files for path-like values
/// (`--kubeconfig PATH`, `--profiles`), directories for `DIR`, nothing otherwise.
pub fn value_directive(arg: &Arg) -> u8 {
    let named = |want: &str| {
        arg.get_value_names()
            .is_some_and(|names| names.iter().any(|n| n.as_str().contains(want)))
    };
    match arg.get_value_hint() {
        ValueHint::DirPath => directive::FILTER_DIRS,
        ValueHint::FilePath | ValueHint::AnyPath | ValueHint::ExecutablePath => directive::DEFAULT,
        _ if named("DIR") => directive::FILTER_DIRS,
        _ if named("PATH") || named("FILE") => directive::DEFAULT,
        _ => directive::NO_FILE_COMP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::completion::protocol::parse_request;
    use clap::{CommandFactory, Parser, ValueEnum};

    #[derive(Clone, Debug, ValueEnum)]
    enum When {
        /// Only on a terminal.
        Auto,
        Never,
    }

    #[derive(Parser, Debug)]
    #[command(name = "demo")]
    struct Demo {
        /// Namespace to use.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Skip a check (repeatable).
        #[arg(long)]
        ignore: Vec<String>,
        /// When to colour.
        #[arg(long, value_enum)]
        color: Option<When>,
        /// The kubeconfig.
        #[arg(long, value_name = "PATH")]
        kubeconfig: Option<String>,
        /// Where to write.
        #[arg(long, value_name = "DIR")]
        dir: Option<String>,
        #[arg(long, hide = true)]
        secret: bool,
    }

    fn cmd() -> Command {
        let mut cmd = Demo::command();
        cmd.build();
        cmd
    }

    fn names(words: &[&str]) -> Vec<String> {
        let cmd = cmd();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        flag_names(&cmd, &parse_request(&cmd, &words))
            .into_iter()
            .map(|c| c.value)
            .collect()
    }

    #[test]
    fn flag_names_skip_hidden_and_given_ones() {
        let all = names(&["-"]);
        assert!(all.contains(&"--namespace".to_string()) && all.contains(&"-n".to_string()));
        assert!(!all.contains(&"--secret".to_string()));
        let long_only = names(&["--"]);
        assert!(!long_only.contains(&"-n".to_string()));
        let after = names(&["-n", "gw", "--ignore", "x", "--"]);
        assert!(!after.contains(&"--namespace".to_string()));
        assert!(after.contains(&"--ignore".to_string()), "repeatable stays");
    }

    #[test]
    fn flag_names_carry_their_help() {
        let cmd = cmd();
        let words = vec!["--".to_string()];
        let found = flag_names(&cmd, &parse_request(&cmd, &words));
        let ns = found.iter().find(|c| c.value == "--namespace").unwrap();
        assert_eq!(ns.description, "Namespace to use");
    }

    #[test]
    fn enumerations_offer_their_values() {
        let cmd = cmd();
        let color = cmd.get_arguments().find(|a| a.get_id() == "color").unwrap();
        let values: Vec<_> = possible_values(color)
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(values, ["auto", "never"]);
    }

    #[test]
    fn path_values_fall_back_to_files() {
        let cmd = cmd();
        let arg = |id: &str| cmd.get_arguments().find(|a| a.get_id() == id).unwrap();
        assert_eq!(value_directive(arg("kubeconfig")), directive::DEFAULT);
        assert_eq!(value_directive(arg("dir")), directive::FILTER_DIRS);
        assert_eq!(value_directive(arg("namespace")), directive::NO_FILE_COMP);
    }

    #[test]
    fn check_ids_include_whole_areas() {
        let catalog = [
            CheckInfo {
                id: "pod.crashloop",
                severity: crate::Severity::Critical,
                summary: "a container restarts in a loop",
            },
            CheckInfo {
                id: "pod.oomkilled",
                severity: crate::Severity::Critical,
                summary: "killed for memory",
            },
            CheckInfo {
                id: "svc.no-endpoints",
                severity: crate::Severity::Critical,
                summary: "no ready endpoints",
            },
        ];
        let ids: Vec<_> = check_ids(&catalog).into_iter().map(|c| c.value).collect();
        assert_eq!(
            ids,
            [
                "pod.crashloop",
                "pod.oomkilled",
                "svc.no-endpoints",
                "pod.*",
                "svc.*"
            ]
        );
    }

    #[test]
    fn profiles_come_from_the_file_on_the_line_then_built_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.yaml");
        std::fs::write(
            &path,
            "profiles:\n  - name: edge\n    namespace: edge\n    components:\n      - deployment: edge-proxy\n",
        )
        .unwrap();
        let request = Request {
            path: Vec::new(),
            slot: crate::completion::Slot::Positional(0),
            prefix: String::new(),
            positionals: Vec::new(),
            flags: vec![("profiles".into(), path.display().to_string())],
            typed_flags: 1,
        };
        let names: Vec<_> = profile_names(&request, true)
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(names[..2], ["edge", "edge/edge-proxy"]);
        assert!(names.contains(&"istio/istiod".to_string()));
        assert!(names.contains(&"gateway-proxy".to_string()));
        let broken = Request {
            flags: vec![("profiles".into(), "/nonexistent.yaml".into())],
            ..request
        };
        let names: Vec<_> = profile_names(&broken, false)
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(names, ["gateway-proxy", "istio", "nantian"]);
    }

    #[test]
    fn kind_prefixes_select_the_names() {
        let names = vec!["web".to_string(), "api".to_string()];
        let values = |prefix: &str| -> Vec<String> {
            kind_names(prefix, &["deploy", "deployment"], &names, "Deployment")
                .into_iter()
                .map(|c| c.value)
                .collect()
        };
        assert_eq!(values(""), ["web", "api"]);
        assert_eq!(values("deploy/w"), ["deploy/web", "deploy/api"]);
        assert!(values("svc/").is_empty());
    }

    #[test]
    fn contexts_come_from_the_kubeconfig_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\n\
             clusters:\n- name: c1\n  cluster: {server: 'https://c1:6443'}\n\
             contexts:\n- name: prod\n  context: {cluster: c1, user: u1}\n\
             - name: staging\n  context: {cluster: c1, user: u1}\n\
             users:\n- name: u1\n  user: {}\n",
        )
        .unwrap();
        let path = path.to_str().unwrap();
        let contexts = kubeconfig_names(KubeconfigList::Contexts, Some(path));
        assert_eq!(
            contexts,
            [
                Candidate::new("prod", "current context; cluster c1"),
                Candidate::new("staging", "cluster c1"),
            ]
        );
        let clusters = kubeconfig_names(KubeconfigList::Clusters, Some(path));
        assert_eq!(clusters, [Candidate::new("c1", "https://c1:6443")]);
        assert!(kubeconfig_names(KubeconfigList::Users, Some("/nonexistent")).is_empty());
    }
}

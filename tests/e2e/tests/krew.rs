//! krew: the manifests and archives that `krew/release.py` writes pass krew's validation, the
//! private index holds one manifest per plugin, the committed `krew/*.yaml` match the generator,
//! and the host archive installed into a krew-like layout runs through the installed kubectl.
//!
//! The rules mirror kubernetes-sigs/krew: `internal/index/validation/validate.go` (structure),
//! `cmd/validate-krew-manifest` (line lengths, supported and non-overlapping selectors) and
//! `internal/installation` (file operations, the `kubectl-<name>` link into `$KREW_ROOT/bin`).
#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;
use sha2::{Digest, Sha256};

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// The `<os, arch>` pairs a selector may pick: krew's list plus the arm64 ports krew-index takes.
const SUPPORTED: [(&str, &str); 10] = [
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];
const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A krew plugin manifest, read strictly: an unknown field is an error, as in krew's decoder.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Manifest {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    version: String,
    #[serde(default)]
    homepage: Option<String>,
    #[serde(default)]
    short_description: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    caveats: Option<String>,
    #[serde(default)]
    platforms: Vec<Platform>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Platform {
    selector: Option<Selector>,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    bin: String,
    #[serde(default)]
    files: Option<Vec<FileOperation>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Selector {
    #[serde(default)]
    match_labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOperation {
    from: String,
    to: String,
}

impl Selector {
    /// Whether the selector picks `os`/`arch` (label-selector semantics over two labels).
    fn matches(&self, os: &str, arch: &str) -> bool {
        let label = |key: &str| match key {
            "os" => Some(os),
            "arch" => Some(arch),
            _ => None,
        };
        let labels_match = self
            .match_labels
            .iter()
            .flatten()
            .all(|(k, v)| label(k) == Some(v));
        let expressions_match = self.match_expressions.iter().flatten().all(|r| {
            let value = label(&r.key);
            match r.operator.as_str() {
                "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                "NotIn" => value.is_none_or(|v| r.values.iter().all(|x| x != v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
        labels_match && expressions_match
    }
}

impl Platform {
    fn selects(&self, os: &str, arch: &str) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(os, arch))
    }

    /// The first supported `<os, arch>` the platform selects.
    fn target(&self) -> Option<(&'static str, &'static str)> {
        SUPPORTED
            .into_iter()
            .find(|(os, arch)| self.selects(os, arch))
    }

    /// The archive's file name, the last segment of the URI.
    fn archive_name(&self) -> &str {
        self.uri.rsplit('/').next().unwrap_or_default()
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_manifest(path: &Path) -> Manifest {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a manifest: {e}", path.display()))
}

/// The file name without `.yaml`, which krew takes as the plugin name.
fn name_from_file(path: &Path) -> String {
    assert_eq!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml"),
        "{}",
        path.display()
    );
    path.file_stem()
        .and_then(|s| s.to_str())
        .expect("file stem")
        .to_string()
}

/// `vMAJOR.MINOR.PATCH[-pre][+build]`, as krew's semver.Parse requires.
fn is_krew_semver(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let identifiers = |s: &str| {
        s.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    numbers.len() == 3
        && numbers.iter().all(|n| numeric(n))
        && pre.is_none_or(identifiers)
        && build.is_none_or(identifiers)
}

/// krew's line-length rule: no line over `max` characters unless it is a single word.
fn lines_fit(text: &str, max: usize) -> bool {
    text.lines()
        .all(|l| l.chars().count() <= max || !l.trim().contains(' '))
}

/// Every violation of krew's rules (and of this suite's naming) in the manifest stored as `name.yaml`.
fn violations(name: &str, m: &Manifest) -> Vec<String> {
    let mut errors = Vec::new();
    let mut check = |ok: bool, message: String| {
        if !ok {
            errors.push(message);
        }
    };
    check(
        m.api_version == API_VERSION,
        format!("apiVersion is {:?}, want {API_VERSION:?}", m.api_version),
    );
    check(
        m.kind == "Plugin",
        format!("kind is {:?}, want \"Plugin\"", m.kind),
    );
    let safe = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !WINDOWS_RESERVED
            .iter()
            .any(|w| w.eq_ignore_ascii_case(name));
    check(
        safe,
        format!("plugin name {name:?} does not match ^[\\w-]+$ or is reserved on Windows"),
    );
    let conventional = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with("kubectl-")
        && !name.starts_with('-')
        && !name.ends_with('-');
    check(
        conventional,
        format!("plugin name {name:?}: lowercase letters, digits and dashes, no kubectl- prefix"),
    );
    check(
        m.metadata.name == name,
        format!("metadata.name is {:?} in {name}.yaml", m.metadata.name),
    );
    let spec = &m.spec;
    check(
        !spec.short_description.is_empty(),
        "shortDescription is empty".into(),
    );
    check(
        !spec.short_description.contains(['\r', '\n']),
        "shortDescription has a line break".into(),
    );
    check(
        spec.short_description.chars().count() <= 70,
        format!(
            "shortDescription is longer than 70 characters: {:?}",
            spec.short_description
        ),
    );
    check(
        !spec.description.trim().is_empty(),
        "description is empty".into(),
    );
    check(
        lines_fit(&spec.description, 80),
        "a description line exceeds 80 characters".into(),
    );
    check(
        spec.caveats.as_deref().is_none_or(|c| lines_fit(c, 80)),
        "a caveats line exceeds 80 characters".into(),
    );
    check(
        is_krew_semver(&spec.version),
        format!("version {:?} is not semver with a leading v", spec.version),
    );
    check(
        spec.homepage
            .as_deref()
            .is_some_and(|h| h.starts_with("https://")),
        format!("homepage {:?} is not an https URL", spec.homepage),
    );
    check(!spec.platforms.is_empty(), "no platform".into());
    let expected_bin = format!("kubectl-{}", name.replace('-', "_"));
    for (i, p) in spec.platforms.iter().enumerate() {
        let mut check = |ok: bool, message: String| check(ok, format!("platforms[{i}]: {message}"));
        check(!p.uri.is_empty(), "uri is empty".into());
        check(
            p.uri.ends_with(".tar.gz") || p.uri.ends_with(".zip"),
            format!("uri {:?} is neither .tar.gz nor .zip", p.uri),
        );
        check(
            p.uri.starts_with("https://"),
            format!("uri {:?} is not https", p.uri),
        );
        let hex = p.sha256.len() == 64
            && p.sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        check(
            hex,
            format!("sha256 {:?} is not 64 lowercase hex digits", p.sha256),
        );
        check(!p.bin.is_empty(), "bin is empty".into());
        if let Some(files) = &p.files {
            check(!files.is_empty(), "files is given but empty".into());
            for f in files {
                check(
                    !f.from.is_empty() && !f.to.is_empty(),
                    format!("file operation {f:?} lacks from or to"),
                );
                check(
                    is_clean_relative(&f.to),
                    format!("file operation target {:?} is not a clean path", f.to),
                );
            }
        }
        match &p.selector {
            None => check(false, "no selector".into()),
            Some(s) => {
                check(
                    s.match_labels.is_some() || s.match_expressions.is_some(),
                    "empty selector".into(),
                );
                check(
                    s.match_labels.as_ref().is_none_or(|l| !l.is_empty()),
                    "matchLabels given but empty".into(),
                );
                check(
                    s.match_expressions.as_ref().is_none_or(|e| !e.is_empty()),
                    "matchExpressions given but empty".into(),
                );
                let keys = s.match_labels.iter().flatten().map(|(k, _)| k.as_str());
                let keys: Vec<&str> = keys
                    .chain(s.match_expressions.iter().flatten().map(|r| r.key.as_str()))
                    .collect();
                check(
                    keys.iter().all(|k| *k == "os" || *k == "arch"),
                    format!("selector keys {keys:?}: only os and arch"),
                );
            }
        }
        match p.target() {
            None => check(false, "the selector matches no supported os/arch".into()),
            Some((os, _)) => {
                let exe = if os == "windows" { ".exe" } else { "" };
                check(
                    p.bin == format!("{expected_bin}{exe}"),
                    format!("bin {:?}, want {expected_bin}{exe}", p.bin),
                );
                let zip = os == "windows";
                check(
                    p.uri.ends_with(".zip") == zip,
                    format!("{os} archive {:?}: .zip for windows only", p.uri),
                );
            }
        }
    }
    for (os, arch) in SUPPORTED {
        let picked: Vec<usize> = (0..spec.platforms.len())
            .filter(|&i| spec.platforms[i].selects(os, arch))
            .collect();
        check(
            picked.len() <= 1,
            format!("platforms {picked:?} overlap on os={os}/arch={arch}"),
        );
    }
    errors
}

/// `filepath.Clean(to) == to` and it stays inside the install directory.
fn is_clean_relative(path: &str) -> bool {
    if path == "." {
        return true;
    }
    let p = Path::new(path);
    !path.ends_with('/') && p.components().all(|c| matches!(c, Component::Normal(_)))
}

fn assert_valid(path: &Path) -> Manifest {
    let name = name_from_file(path);
    let manifest = read_manifest(path);
    let errors = violations(&name, &manifest);
    assert!(
        errors.is_empty(),
        "{} breaks krew's rules:\n  {}",
        path.display(),
        errors.join("\n  ")
    );
    manifest
}

/// The plugins as `krew/plugins.tsv` lists them: manifest name and binary.
fn listed_plugins() -> Vec<(String, String)> {
    let tsv = std::fs::read_to_string(root().join("krew/plugins.tsv")).expect("krew/plugins.tsv");
    tsv.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut cols = l.split('\t');
            let name = cols.next().expect("name column").to_string();
            let binary = cols.next().expect("binary column").to_string();
            (name, binary)
        })
        .collect()
}

fn yaml_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| (name_from_file(&p), p))
        .collect()
}

/// Runs the release script once per test process over the binaries `ensure_built` made, into
/// `target/debug/krew-release/` (not a temp dir: it is shared by the tests); returns that directory.
fn release() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let bin_dir = e2e::ensure_built();
        let out = bin_dir.join("krew-release");
        if out.exists() {
            std::fs::remove_dir_all(&out).expect("remove the previous release output");
        }
        let result = Command::new("python3")
            .arg(root().join("krew/release.py"))
            .args(["--profile", "dev", "--no-build", "--out"])
            .arg(&out)
            .env("CARGO_TARGET_DIR", bin_dir.parent().expect("target dir"))
            .output()
            .expect("run python3 krew/release.py");
        assert!(
            result.status.success(),
            "krew/release.py failed ({}):\n{}{}",
            result.status,
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
        out
    })
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:x}", Sha256::digest(&bytes))
}

/// The regular files of a `.tar.gz` and whether each is executable, by normalised path.
fn archive_entries(archive: &Path) -> BTreeMap<String, bool> {
    let file =
        std::fs::File::open(archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut entries = BTreeMap::new();
    for entry in tar.entries().expect("tar entries") {
        let entry = entry.expect("tar entry");
        if entry.header().entry_type().is_file() {
            let path = entry.path().expect("entry path");
            let name = path
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .collect::<PathBuf>();
            let executable = entry.header().mode().expect("entry mode") & 0o111 != 0;
            entries.insert(name.to_string_lossy().into_owned(), executable);
        }
    }
    entries
}

fn extract(archive: &Path, into: &Path) {
    let file = std::fs::File::open(archive).expect("open archive");
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .expect("unpack archive");
}

/// The host's `<os, arch>` in krew's words.
fn host() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    SUPPORTED
        .into_iter()
        .find(|pair| *pair == (os, arch))
        .unwrap_or_else(|| panic!("{os}/{arch} is not a platform krew installs on"))
}

/// Installs one plugin as krew does: file operations from the unpacked archive into
/// `store/<name>/<version>/`, then a relative link `bin/kubectl-<name with _>` to its `bin`.
fn krew_install(krew_root: &Path, archive: &Path, manifest: &Manifest) {
    let (os, arch) = host();
    let platform = manifest
        .spec
        .platforms
        .iter()
        .find(|p| p.selects(os, arch))
        .unwrap_or_else(|| {
            panic!(
                "{} offers no platform for {os}/{arch}",
                manifest.metadata.name
            )
        });
    let staging = tempfile::tempdir().expect("staging dir");
    extract(archive, staging.path());
    let install_dir = krew_root
        .join("store")
        .join(&manifest.metadata.name)
        .join(&manifest.spec.version);
    std::fs::create_dir_all(&install_dir).expect("install dir");
    let default_ops = vec![FileOperation {
        from: "*".into(),
        to: ".".into(),
    }];
    for op in platform.files.as_ref().unwrap_or(&default_ops) {
        let sources: Vec<PathBuf> = if op.from == "*" {
            std::fs::read_dir(staging.path())
                .expect("staging")
                .map(|e| e.expect("entry").path())
                .collect()
        } else {
            vec![staging.path().join(&op.from)]
        };
        for source in sources {
            assert!(
                source.exists(),
                "file operation {op:?}: {} is not in the archive",
                source.display()
            );
            let file_name = source.file_name().expect("file name");
            let target = if op.to == "." {
                install_dir.join(file_name)
            } else {
                install_dir.join(&op.to)
            };
            std::fs::rename(&source, &target).expect("move into the store");
        }
    }
    let bin = install_dir.join(&platform.bin);
    assert!(
        bin.is_file(),
        "bin {} is missing after the file operations",
        platform.bin
    );
    let link_dir = krew_root.join("bin");
    std::fs::create_dir_all(&link_dir).expect("krew bin dir");
    let link = link_dir.join(format!(
        "kubectl-{}",
        manifest.metadata.name.replace('-', "_")
    ));
    let relative = Path::new("..")
        .join("store")
        .join(&manifest.metadata.name)
        .join(&manifest.spec.version)
        .join(&platform.bin);
    std::os::unix::fs::symlink(&relative, &link).expect("link the plugin into $KREW_ROOT/bin");
}

#[test]
fn release_manifests_follow_krew_rules_and_match_their_archives() {
    let out = release();
    let plugins = listed_plugins();
    let names: BTreeSet<String> = plugins.iter().map(|(n, _)| n.clone()).collect();
    let binaries: BTreeSet<&str> = plugins.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(
        binaries,
        e2e::PLUGINS.into_iter().collect(),
        "krew/plugins.tsv lists the four plugins"
    );

    let manifests = yaml_files(&out.join("krew"));
    assert_eq!(
        manifests.keys().cloned().collect::<BTreeSet<_>>(),
        names,
        "one manifest per plugin"
    );
    for path in manifests.values() {
        let manifest = assert_valid(path);
        let mut built_here = 0;
        for platform in &manifest.spec.platforms {
            let archive = out.join(platform.archive_name());
            if !archive.exists() {
                continue;
            }
            built_here += 1;
            assert_eq!(
                sha256_hex(&archive),
                platform.sha256,
                "sha256 of {}",
                archive.display()
            );
            assert!(
                platform.uri.ends_with(".tar.gz"),
                "archives built here are .tar.gz: {}",
                platform.uri
            );
            let entries = archive_entries(&archive);
            assert_eq!(
                entries.get(&platform.bin),
                Some(&true),
                "{} holds an executable {}",
                archive.display(),
                platform.bin
            );
            for op in platform.files.iter().flatten() {
                assert!(
                    entries.contains_key(&op.from),
                    "{} lacks {} (files.from)",
                    archive.display(),
                    op.from
                );
            }
        }
        let (os, arch) = host();
        assert!(
            manifest.spec.platforms.iter().any(|p| p.selects(os, arch)) && built_here > 0,
            "{}: the host platform {os}/{arch} is in the manifest with its archive",
            path.display()
        );
    }

    let index = out.join("index");
    let entries: BTreeSet<String> = std::fs::read_dir(&index)
        .expect("index dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".git")
        .collect();
    assert_eq!(
        entries,
        BTreeSet::from(["plugins".to_string()]),
        "the index holds plugins/ only"
    );
    let indexed = yaml_files(&index.join("plugins"));
    assert_eq!(
        indexed.keys().cloned().collect::<BTreeSet<_>>(),
        names,
        "one index file per plugin"
    );
    for (name, path) in &indexed {
        let same = std::fs::read(path).expect("index manifest")
            == std::fs::read(&manifests[name]).expect("manifest");
        assert!(
            same,
            "index/plugins/{name}.yaml differs from krew/{name}.yaml"
        );
    }
}

#[test]
fn committed_manifests_are_valid_and_match_the_generator() {
    let out = release();
    let committed = yaml_files(&root().join("krew"));
    let generated = yaml_files(&out.join("krew"));
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "krew/*.yaml in the repository: one per plugin (refresh with krew/release.py --write-repo-manifests)"
    );
    for (name, path) in &committed {
        let ours = assert_valid(path);
        let fresh = read_manifest(&generated[name]);
        let without_platforms = |m: &Manifest| Manifest {
            spec: Spec {
                platforms: Vec::new(),
                ..m.spec.clone()
            },
            ..m.clone()
        };
        assert_eq!(
            without_platforms(&ours),
            without_platforms(&fresh),
            "krew/{name}.yaml is stale: run krew/release.py --write-repo-manifests"
        );
        for platform in &fresh.spec.platforms {
            let target = platform.target().expect("generated platform has a target");
            let same = ours
                .spec
                .platforms
                .iter()
                .find(|p| p.target() == Some(target));
            let same =
                same.unwrap_or_else(|| panic!("krew/{name}.yaml lacks the {target:?} platform"));
            assert_eq!(
                Platform {
                    sha256: String::new(),
                    ..same.clone()
                },
                Platform {
                    sha256: String::new(),
                    ..platform.clone()
                },
                "krew/{name}.yaml: the {target:?} platform differs from the generator's (sha256 aside)"
            );
        }
    }
}

#[test]
fn krew_installed_plugins_run_through_kubectl() {
    let out = release();
    let krew_root = tempfile::tempdir().expect("KREW_ROOT");
    let (os, arch) = host();
    for path in yaml_files(&out.join("krew")).values() {
        let manifest = assert_valid(path);
        let platform = manifest
            .spec
            .platforms
            .iter()
            .find(|p| p.selects(os, arch))
            .expect("host platform");
        krew_install(
            krew_root.path(),
            &out.join(platform.archive_name()),
            &manifest,
        );
    }

    let built = std::fs::canonicalize(e2e::ensure_built()).expect("bin dir");
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let path = std::iter::once(krew_root.path().join("bin")).chain(
        std::env::split_paths(&inherited)
            .filter(|p| std::fs::canonicalize(p).ok().as_ref() != Some(&built)),
    );
    let path = std::env::join_paths(path).expect("PATH");
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .env("PATH", &path)
            .env("KREW_ROOT", krew_root.path())
            .env("KUBECONFIG", krew_root.path().join("no-kubeconfig"))
            .env("NO_COLOR", "1")
            .output()
            .expect("run the installed kubectl")
    };

    let list = kubectl(&["plugin", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    for binary in e2e::PLUGINS {
        let expected = krew_root.path().join("bin").join(binary);
        assert!(
            listed.lines().any(|l| Path::new(l.trim()) == expected),
            "kubectl plugin list does not show {}:\n{listed}{}",
            expected.display(),
            String::from_utf8_lossy(&list.stderr)
        );
    }

    for (binary, command) in e2e::PLUGINS
        .iter()
        .map(|b| (b, b.trim_start_matches("kubectl-").replace('_', "-")))
    {
        let help = kubectl(&[&command, "--help"]);
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(
            help.status.success(),
            "kubectl {command} --help ({binary} from $KREW_ROOT/bin) exited {}:\n{text}{}",
            help.status,
            String::from_utf8_lossy(&help.stderr)
        );
        assert!(
            text.contains(&format!("kubectl {command}")),
            "usage of kubectl {command} --help:\n{text}"
        );
    }
}

#[test]
fn validator_rejects_what_krew_rejects() {
    let good = || -> Manifest {
        serde_saphyr::from_str(
            "apiVersion: krew.googlecontainertools.github.com/v1alpha2\nkind: Plugin\nmetadata:\n  name: gw-status\n\
             spec:\n  version: v0.1.0\n  homepage: https://example.org\n  shortDescription: Short\n  description: Long\n\
             \x20 platforms:\n  - selector:\n      matchLabels:\n        os: linux\n        arch: amd64\n\
             \x20   uri: https://example.org/a.tar.gz\n    sha256: {sha}\n    bin: kubectl-gw_status\n"
                .replace("{sha}", &"a".repeat(64))
                .as_str(),
        )
        .expect("manifest")
    };
    assert_eq!(violations("gw-status", &good()), Vec::<String>::new());
    let broken = |edit: &dyn Fn(&mut Manifest), name: &str| {
        let mut m = good();
        edit(&mut m);
        !violations(name, &m).is_empty()
    };
    assert!(
        broken(&|_| {}, "gw_status"),
        "file name differs from metadata.name"
    );
    assert!(
        broken(&|m| m.metadata.name = "kubectl-gw".into(), "kubectl-gw"),
        "kubectl- prefix"
    );
    assert!(
        broken(&|m| m.metadata.name = "GW".into(), "GW"),
        "uppercase"
    );
    assert!(
        broken(&|m| m.spec.version = "0.1.0".into(), "gw-status"),
        "no leading v"
    );
    assert!(
        broken(&|m| m.spec.version = "v0.1".into(), "gw-status"),
        "not semver"
    );
    assert!(
        broken(&|m| m.spec.short_description = "a\nb".into(), "gw-status"),
        "line break"
    );
    assert!(
        broken(&|m| m.spec.short_description.clear(), "gw-status"),
        "no short description"
    );
    assert!(
        broken(&|m| m.spec.platforms.clear(), "gw-status"),
        "no platform"
    );
    assert!(
        broken(
            &|m| m.spec.platforms[0].sha256 = "A".repeat(64),
            "gw-status"
        ),
        "uppercase sha256"
    );
    assert!(
        broken(
            &|m| m.spec.platforms[0].uri = "https://x/a.tgz".into(),
            "gw-status"
        ),
        "bad extension"
    );
    assert!(
        broken(&|m| m.spec.platforms[0].bin.clear(), "gw-status"),
        "no bin"
    );
    assert!(
        broken(&|m| m.spec.platforms[0].selector = None, "gw-status"),
        "no selector"
    );
    assert!(
        broken(
            &|m| m.spec.platforms[0].files = Some(Vec::new()),
            "gw-status"
        ),
        "empty files"
    );
    assert!(
        broken(
            &|m| m.spec.platforms.push(m.spec.platforms[0].clone()),
            "gw-status"
        ),
        "overlapping selectors"
    );
    let mut unknown =
        String::from("apiVersion: x\nkind: Plugin\nmetadata:\n  name: a\n  labels: {}\n");
    unknown.push_str("spec:\n  version: v1.0.0\n");
    assert!(
        serde_saphyr::from_str::<Manifest>(&unknown).is_err(),
        "unknown fields are refused"
    );
    assert!(is_krew_semver("v1.2.3-rc.1+build.5") && !is_krew_semver("v01.2.3"));
}

//! `--add-toleration KEY[=VALUE]:EFFECT` and `--remove-toleration KEY[:EFFECT]`, in the
//! `kubectl taint` syntax, and their effect on a pod template's tolerations.

use std::fmt;

use k8s_openapi::api::core::v1::Toleration;

const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// One toleration flag: a key, an optional value and an effect (optional for removal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TolerationSpec {
    /// The taint key.
    pub key: String,
    /// The taint value (`Equal`); `None` tolerates any value (`Exists`).
    pub value: Option<String>,
    /// NoSchedule, PreferNoSchedule or NoExecute; `None` (removal only) matches every effect.
    pub effect: Option<String>,
}

impl TolerationSpec {
    /// Parses `KEY[=VALUE]:EFFECT` (clap value parser of `--add-toleration`).
    pub fn parse_add(s: &str) -> Result<TolerationSpec, String> {
        let (head, effect) = s.rsplit_once(':').ok_or_else(|| {
            format!("invalid toleration {s:?}: use KEY[=VALUE]:EFFECT, e.g. dedicated=gateway:NoSchedule")
        })?;
        let effect = parse_effect(effect, s)?;
        let (key, value) = match head.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (head, None),
        };
        validate_key(key, s)?;
        Ok(TolerationSpec {
            key: key.to_string(),
            value: value.map(str::to_string),
            effect: Some(effect),
        })
    }

    /// Parses `KEY[:EFFECT]` (clap value parser of `--remove-toleration`).
    pub fn parse_remove(s: &str) -> Result<TolerationSpec, String> {
        let (key, effect) = match s.rsplit_once(':') {
            Some((k, e)) => (k, Some(parse_effect(e, s)?)),
            None => (s, None),
        };
        validate_key(key, s)?;
        Ok(TolerationSpec {
            key: key.to_string(),
            value: None,
            effect,
        })
    }

    /// The toleration `--add-toleration` puts on the template.
    pub fn to_toleration(&self) -> Toleration {
        Toleration {
            key: Some(self.key.clone()),
            operator: Some(
                if self.value.is_some() {
                    "Equal"
                } else {
                    "Exists"
                }
                .to_string(),
            ),
            value: self.value.clone(),
            effect: self.effect.clone(),
            toleration_seconds: None,
        }
    }

    /// True when `--remove-toleration` of this spec removes `t`.
    pub fn removes(&self, t: &Toleration) -> bool {
        t.key.as_deref() == Some(self.key.as_str())
            && self
                .effect
                .as_ref()
                .is_none_or(|e| t.effect.as_ref() == Some(e))
    }
}

impl fmt::Display for TolerationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        if let Some(v) = &self.value {
            write!(f, "={v}")?;
        }
        if let Some(e) = &self.effect {
            write!(f, ":{e}")?;
        }
        Ok(())
    }
}

fn parse_effect(effect: &str, whole: &str) -> Result<String, String> {
    EFFECTS
        .iter()
        .find(|e| e.eq_ignore_ascii_case(effect))
        .map(|e| e.to_string())
        .ok_or_else(|| {
            format!(
                "invalid toleration {whole:?}: effect {effect:?} must be one of {}",
                EFFECTS.join(", ")
            )
        })
}

fn validate_key(key: &str, whole: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 316
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid toleration {whole:?}: the key must be a label key (letters, digits, -, _, ., /)"
        ))
    }
}

/// The template's tolerations after removing and adding: removals first, then additions that
/// are not already present (so `--add-toleration` twice changes nothing the second time).
pub fn edit_tolerations(
    current: &[Toleration],
    add: &[TolerationSpec],
    remove: &[TolerationSpec],
) -> Vec<Toleration> {
    let mut out: Vec<Toleration> = current
        .iter()
        .filter(|t| !remove.iter().any(|r| r.removes(t)))
        .cloned()
        .collect();
    for spec in add {
        let t = spec.to_toleration();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, value: Option<&str>, effect: &str) -> Toleration {
        TolerationSpec {
            key: key.into(),
            value: value.map(Into::into),
            effect: Some(effect.into()),
        }
        .to_toleration()
    }

    #[test]
    fn parses_the_kubectl_taint_syntax() {
        let t = TolerationSpec::parse_add("dedicated=gateway:NoSchedule").unwrap();
        assert_eq!(t.key, "dedicated");
        assert_eq!(t.value.as_deref(), Some("gateway"));
        assert_eq!(t.effect.as_deref(), Some("NoSchedule"));
        assert_eq!(t.to_string(), "dedicated=gateway:NoSchedule");
        let t = TolerationSpec::parse_add("node.kubernetes.io/unreachable:noexecute").unwrap();
        assert_eq!(t.value, None);
        assert_eq!(t.effect.as_deref(), Some("NoExecute"));
        assert_eq!(t.to_toleration().operator.as_deref(), Some("Exists"));
        for bad in [
            "dedicated",
            "dedicated=x",
            ":NoSchedule",
            "a b:NoSchedule",
            "k:Sometimes",
        ] {
            assert!(TolerationSpec::parse_add(bad).is_err(), "{bad:?}");
        }
        let r = TolerationSpec::parse_remove("dedicated").unwrap();
        assert_eq!(r.effect, None);
        assert!(TolerationSpec::parse_remove("dedicated:Never").is_err());
    }

    #[test]
    fn removes_by_key_and_optional_effect_then_adds_once() {
        let current = vec![
            tol("dedicated", Some("gw"), "NoSchedule"),
            tol("dedicated", Some("gw"), "NoExecute"),
            tol("other", None, "NoSchedule"),
        ];
        let remove = [TolerationSpec::parse_remove("dedicated:NoExecute").unwrap()];
        let add = [TolerationSpec::parse_add("other:NoSchedule").unwrap()];
        let out = edit_tolerations(&current, &add, &remove);
        assert_eq!(out, vec![current[0].clone(), current[2].clone()]);
        let remove_all = [TolerationSpec::parse_remove("dedicated").unwrap()];
        assert_eq!(
            edit_tolerations(&current, &[], &remove_all),
            vec![current[2].clone()]
        );
    }
}

//! Printing: kubectl-style tables, colour decided once, and structured output
//! (`-o json|yaml|name|jsonpath=...`) written into any `impl Write`.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use owo_colors::OwoColorize;
use serde::Serialize;

use crate::error::Error;
use crate::findings::{Finding, Severity};

/// `-o/--output`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Aligned columns (the default).
    #[default]
    Table,
    /// Aligned columns with extra detail.
    Wide,
    /// The report as JSON.
    Json,
    /// The report as YAML.
    Yaml,
    /// One `kind/name` per line.
    Name,
    /// kubectl's jsonpath template over the JSON report.
    JsonPath(String),
}

impl OutputFormat {
    /// Parses `-o` values as kubectl does (`jsonpath=...` and `jsonpath='...'` included).
    pub fn parse(s: &str) -> Result<OutputFormat, String> {
        Ok(match s {
            "" | "table" => OutputFormat::Table,
            "wide" => OutputFormat::Wide,
            "json" => OutputFormat::Json,
            "yaml" => OutputFormat::Yaml,
            "name" => OutputFormat::Name,
            _ => match s.strip_prefix("jsonpath=") {
                Some(t) if !t.trim().is_empty() => {
                    let t = t.trim();
                    let t = t
                        .strip_prefix('\'')
                        .and_then(|t| t.strip_suffix('\''))
                        .unwrap_or(t);
                    OutputFormat::JsonPath(t.to_string())
                }
                Some(_) => return Err("jsonpath template must not be empty".into()),
                None => {
                    return Err(format!(
                        "unknown output format {s:?}: use table, wide, json, yaml, name or jsonpath=TEMPLATE"
                    ));
                }
            },
        })
    }

    /// True for the human formats (table and wide).
    pub fn is_table(&self) -> bool {
        matches!(self, OutputFormat::Table | OutputFormat::Wide)
    }
}

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour only when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Decides once whether to colour stdout.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && io::stdout().is_terminal()
            }
        }
    }
}

/// Colours text when enabled; a no-op otherwise. Copy it freely.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// A style that colours when `color` is true.
    pub fn new(color: bool) -> Self {
        Style { color }
    }

    /// The severity label, coloured by severity.
    pub fn severity(self, s: Severity) -> String {
        self.paint_severity(s, s.label())
    }

    /// Any text, coloured like severity `s`.
    pub fn paint_severity(self, s: Severity, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        match s {
            Severity::Critical => text.red().bold().to_string(),
            Severity::Warning => text.yellow().to_string(),
            Severity::Info => text.cyan().to_string(),
        }
    }

    /// Green for good news.
    pub fn ok(self, text: &str) -> String {
        if self.color {
            text.green().to_string()
        } else {
            text.to_string()
        }
    }

    /// Bold, for section titles.
    pub fn bold(self, text: &str) -> String {
        if self.color {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }

    /// Dimmed, for secondary text such as hints.
    pub fn dim(self, text: &str) -> String {
        if self.color {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }
}

/// A kubectl-style table: upper-case headers, columns separated by three spaces, no borders.
/// Cells may hold ANSI colour codes: widths are measured on the visible text.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers (upper-cased on print).
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells print empty, extra cells are kept.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Number of rows (headers excluded).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table; `headers: false` is `--no-headers`.
    pub fn write(&self, w: &mut dyn Write, headers: bool) -> io::Result<()> {
        let ncols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        let header_row: Vec<String> = self.headers.iter().map(|h| h.to_uppercase()).collect();
        let all_rows = headers
            .then_some(&header_row)
            .into_iter()
            .chain(self.rows.iter());
        for row in all_rows.clone() {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(visible_width(cell));
            }
        }
        for row in all_rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i] - visible_width(cell) + 3;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(w, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Width of a string as shown on a terminal: ANSI escape sequences excluded, one per char.
pub fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            width += 1;
        }
    }
    width
}

/// The findings table every plugin prints: SEVERITY, CHECK, SUBJECT, MESSAGE (and HINT below
/// each row when `hints`).
pub fn findings_table(findings: &[Finding], style: Style, wide: bool) -> Table {
    let mut t = if wide {
        Table::new(["severity", "check", "subject", "message", "hint"])
    } else {
        Table::new(["severity", "check", "subject", "message"])
    };
    for f in findings {
        let mut row = vec![
            style.severity(f.severity),
            f.check.clone(),
            f.subject.clone(),
            f.message.clone(),
        ];
        if wide {
            row.push(f.hint.clone());
        }
        t.row(row);
    }
    t
}

/// Writes findings as kubectl would print a list: the table, then each distinct hint as
/// "→ hint" lines under a "What to do" title (table format only).
pub fn write_findings(
    w: &mut dyn Write,
    findings: &[Finding],
    style: Style,
    wide: bool,
    headers: bool,
) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(w, "{}", style.ok("No problems found."));
    }
    findings_table(findings, style, wide).write(w, headers)?;
    if !wide {
        let mut seen = std::collections::BTreeSet::new();
        let hints: Vec<&Finding> = findings
            .iter()
            .filter(|f| !f.hint.is_empty() && seen.insert(f.hint.as_str()))
            .collect();
        if !hints.is_empty() {
            writeln!(w)?;
            writeln!(w, "{}", style.bold("What to do:"))?;
            for f in hints {
                writeln!(
                    w,
                    "  {} {}: {}",
                    style.severity(f.severity),
                    f.subject,
                    f.hint
                )?;
            }
        }
    }
    Ok(())
}

/// Writes a serialisable report as JSON, YAML, or through a jsonpath template. Returns
/// `Ok(false)` for table/wide/name, which the caller prints itself.
pub fn write_structured<T: Serialize>(
    w: &mut dyn Write,
    report: &T,
    format: &OutputFormat,
) -> Result<bool, Error> {
    match format {
        OutputFormat::Json => {
            let s = serde_json::to_string_pretty(report)
                .map_err(|e| Error::Failed(format!("cannot encode JSON: {e}")))?;
            writeln!(w, "{s}")?;
        }
        OutputFormat::Yaml => {
            let value = serde_json::to_value(report)
                .map_err(|e| Error::Failed(format!("cannot encode YAML: {e}")))?;
            let s = serde_saphyr::to_string(&value)
                .map_err(|e| Error::Failed(format!("cannot encode YAML: {e}")))?;
            write!(w, "{s}")?;
            if !s.ends_with('\n') {
                writeln!(w)?;
            }
        }
        OutputFormat::JsonPath(template) => {
            let value = serde_json::to_value(report)
                .map_err(|e| Error::Failed(format!("cannot encode JSON: {e}")))?;
            let s = crate::jsonpath::render(template, &value)
                .map_err(|e| Error::Usage(format!("bad jsonpath template: {e}")))?;
            writeln!(w, "{s}")?;
        }
        OutputFormat::Table | OutputFormat::Wide | OutputFormat::Name => return Ok(false),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &Table, headers: bool) -> String {
        let mut out = Vec::new();
        t.write(&mut out, headers).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_aligns_like_kubectl() {
        let mut t = Table::new(["name", "ready", "status"]);
        t.row(["gateway-proxy-7d9f", "0/1", "CrashLoopBackOff"]);
        t.row(["gw-2", "1/1", "Running"]);
        assert_eq!(
            render(&t, true),
            "NAME                 READY   STATUS\n\
             gateway-proxy-7d9f   0/1     CrashLoopBackOff\n\
             gw-2                 1/1     Running\n"
        );
        assert_eq!(render(&t, false).lines().count(), 2);
    }

    #[test]
    fn colour_codes_do_not_break_alignment() {
        let style = Style::new(true);
        let mut t = Table::new(["severity", "subject"]);
        t.row([style.severity(Severity::Critical), "a".into()]);
        t.row([style.severity(Severity::Info), "b".into()]);
        let out = render(&t, true);
        let plain: Vec<String> = out
            .lines()
            .map(|l| {
                let mut s = String::new();
                let mut esc = false;
                for c in l.chars() {
                    if c == '\u{1b}' {
                        esc = true;
                    } else if esc {
                        esc = !c.is_ascii_alphabetic();
                    } else {
                        s.push(c);
                    }
                }
                s
            })
            .collect();
        assert_eq!(
            plain,
            ["SEVERITY   SUBJECT", "CRITICAL   a", "INFO       b"]
        );
        assert!(out.contains('\u{1b}'));
    }

    #[test]
    fn output_formats_parse() {
        assert_eq!(OutputFormat::parse("json").unwrap(), OutputFormat::Json);
        assert_eq!(
            OutputFormat::parse("jsonpath='{.a}'").unwrap(),
            OutputFormat::JsonPath("{.a}".into())
        );
        assert!(OutputFormat::parse("jsonpath=").is_err());
        assert!(OutputFormat::parse("xml").is_err());
    }

    #[test]
    fn structured_output_json_and_yaml() {
        let f = vec![Finding::critical("pod.crashloop", "pod/a/b", "down", "fix")];
        let mut out = Vec::new();
        assert!(write_structured(&mut out, &f, &OutputFormat::Json).unwrap());
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[0]["severity"], "critical");
        let mut out = Vec::new();
        write_structured(&mut out, &f, &OutputFormat::Yaml).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("check: pod.crashloop"), "{s}");
        let mut out = Vec::new();
        assert!(!write_structured(&mut out, &f, &OutputFormat::Table).unwrap());
    }
}
